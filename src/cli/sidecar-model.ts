import { sidecarStatus } from "@orchard/udf-server";
import { ConfigError } from "../errors.ts";

/** Whether `model` names a model file or folder (a path) rather than a catalog name. */
function isModelPath(model: string): boolean {
  return model.includes("/") || model.includes("\\") || model.toLowerCase().endsWith(".onnx");
}

/**
 * The decision behind {@link checkSidecarServes}: refuses a run whose `--model` (`requested`) is
 * not the model that the sidecar at `address` reports (`served`, from its `info` action) with a
 * ConfigError that names `--model`. Nothing is decided when the sidecar reported no model (it did
 * not answer: a run that needs it fails later in its own words), nor for a model given as a path,
 * since a sidecar reports the name in the model's manifest, which a path does not tell.
 */
export function checkServedModel({
  address,
  requested,
  served,
}: {
  address: string;
  requested: string;
  served: string | undefined;
}): void {
  if (served === undefined || served === requested || isModelPath(requested)) return;
  const port = address.slice(address.lastIndexOf(":") + 1);
  throw new ConfigError({
    field: "--model",
    expected: `the model the sidecar at ${address} serves (${served})`,
    message:
      `--model ${requested}: the sidecar at ${address} serves ${served}; pass --model ${served}, or replace that ` +
      `sidecar (orchard sidecar stop --port ${port}, then orchard sidecar start --port ${port} --model ${requested})`,
  });
}

/** Asks the sidecar at `address` (with its secret file) which model it serves and refuses a different `model` (see {@link checkServedModel}). */
export async function checkSidecarServes(address: string, model: string, secretFile: string): Promise<void> {
  const status = await sidecarStatus(address, 2000, secretFile);
  checkServedModel({ address, requested: model, served: status.info?.model });
}
