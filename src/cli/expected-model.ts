import { installedModelIdentity, sidecarStatus } from "@orchard/udf-server";
import { ConfigError } from "../errors.ts";
import type { ExpectedModel } from "../pipeline/pipeline-options.ts";

/**
 * The model a run asks for, as its bridges will check it (name + SHA-256 of the ONNX file):
 * read from the model's files on this machine (the cache, or the user model's path); failing
 * that, from the local sidecar's `info` when it serves that name; failing that, the name alone
 * (a driver whose executors keep the model elsewhere: the bridges then check the name only).
 * A name that could not pass through a command line is refused, naming `--model`.
 */
export async function expectedModel({
  model,
  cacheDir,
  sidecar,
  secretFile,
}: {
  model: string;
  cacheDir: string;
  sidecar: string;
  secretFile: string;
}): Promise<ExpectedModel> {
  const installed = await installedModelIdentity(model, cacheDir);
  let expected: ExpectedModel;
  if (installed) expected = installed;
  else {
    const info = (await sidecarStatus(sidecar, 2000, secretFile)).info;
    expected =
      info && info.model === model ? { name: info.model, sha256: info.sha256 ?? null } : { name: model, sha256: null };
  }
  if (!/^[\w.+-]+$/.test(expected.name)) {
    throw new ConfigError({
      field: "--model",
      expected: "a model whose manifest name is letters, digits and . _ + - only",
      message: `--model ${model}: its manifest names it ${JSON.stringify(expected.name)}; expected letters, digits and . _ + - only`,
    });
  }
  return expected;
}
