import { ConfigError } from "../errors.ts";
import { preflight } from "../pipeline/preflight.ts";
import type { RunSummary } from "../pipeline/run-summary.ts";
import type { CliContext } from "./cli-context.ts";
import type { Flavour } from "./commands/pipeline.ts";
import {
  configFromEnv,
  type PipelineConfig,
  parsePipelineConfig,
  pipelineOptions,
  readConfigFile,
  s3Access,
} from "./pipeline-config.ts";
import { secretFiles } from "./sidecar-secret-file.ts";

/** Flags as the config schema names them. */
function flagsToConfig(raw: Record<string, unknown>): Record<string, unknown> {
  const { overwrite, s3Endpoint, config: _config, start: _start, quiet: _quiet, tokenFile: _tokenFile, ...rest } = raw;
  return {
    ...rest,
    ...(overwrite ? { mode: "overwrite" } : {}),
    ...(s3Endpoint ? { s3: { endpoint: s3Endpoint } } : {}),
  };
}

/**
 * Parses the command's configuration and checks its input and output (preflight.ts), then makes
 * sure local parts run, runs the pipeline and prints the summary (pipeline-launch.ts).
 */
export async function runPipelineCommand(
  ctx: CliContext,
  raw: Record<string, unknown>,
  flavour: Flavour,
  { startSpark }: { startSpark: boolean },
): Promise<RunSummary> {
  const config: PipelineConfig = parsePipelineConfig({
    ...(typeof raw.config === "string" ? { file: readConfigFile(raw.config) } : {}),
    env: configFromEnv(ctx.env),
    flags: flagsToConfig(raw),
  });
  if (flavour !== "run" && config.incremental) {
    throw new ConfigError({
      field: "--incremental",
      expected: "orchard run --incremental",
      message: `orchard ${flavour} has no incremental mode: use orchard run --incremental`,
    });
  }
  const s3 = s3Access(config);
  // This machine's sidecar secret; the bridges get its path (never the secret) when Spark runs
  // here (a loopback remote with a local master). Elsewhere each bridge uses its node's own.
  const { secretFile, bridgeSecretFile } = secretFiles(ctx, config);
  const baseOptions = pipelineOptions(config, { fitOnly: flavour === "fit" });
  // Input, output and saved model are checked before anything starts: a mistake costs no Spark start.
  const checked = await preflight(baseOptions, s3);
  // Loaded once the checks have passed: a refused command loads no Spark Connect, Arrow or sidecar
  // code, and answers in well under a second.
  const { launchPipeline } = await import("./pipeline-launch.ts");
  return launchPipeline(ctx, {
    raw,
    flavour,
    config,
    s3,
    secretFile,
    bridgeSecretFile,
    baseOptions,
    checked,
    startSpark,
  });
}
