import { rowCounter } from "@orchard/udf-server";
import { ConfigError } from "../errors.ts";
import { preflight } from "../pipeline/preflight.ts";
import { reportUri } from "../pipeline/report.ts";
import { runPipeline } from "../pipeline/run-pipeline.ts";
import type { RunSummary } from "../pipeline/run-summary.ts";
import type { CliContext } from "./cli-context.ts";
import type { Flavour } from "./commands/pipeline.ts";
import { EXIT, ExitWith } from "./exit-codes.ts";
import { expectedModel } from "./expected-model.ts";
import { ensureLocalStack } from "./local-stack.ts";
import {
  configForRecord,
  configFromEnv,
  type PipelineConfig,
  parsePipelineConfig,
  pipelineOptions,
  readConfigFile,
  s3Access,
} from "./pipeline-config.ts";
import { progressMode, progressReporter } from "./progress-reporter.ts";
import { printSummary } from "./run-output.ts";
import { checkSidecarServes } from "./sidecar-model.ts";
import { secretFiles } from "./sidecar-secret-file.ts";
import { connectSpark, warnTokenInArgv } from "./spark-connect.ts";

/** Flags as the config schema names them. */
function flagsToConfig(raw: Record<string, unknown>): Record<string, unknown> {
  const { overwrite, s3Endpoint, config: _config, start: _start, quiet: _quiet, tokenFile: _tokenFile, ...rest } = raw;
  return {
    ...rest,
    ...(overwrite ? { mode: "overwrite" } : {}),
    ...(s3Endpoint ? { s3: { endpoint: s3Endpoint } } : {}),
  };
}

/** Parses the command's configuration, makes sure local parts run, runs the pipeline, prints the summary. */
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
  // --no-start runs on what is running: the sidecar there must serve --model (ensureLocalStack checks it otherwise).
  if (raw.start === false) await checkSidecarServes(config.sidecar, config.model, secretFile);
  const stack =
    raw.start === false
      ? undefined
      : await ensureLocalStack(
          {
            remote: config.remote,
            sidecar: config.sidecar,
            model: config.model,
            device: config.device,
            startSpark,
            // A local Spark started here reads s3a:// from a custom endpoint (MinIO) with these keys.
            ...(s3.endpoint && s3.accessKeyId && s3.secretAccessKey ? { s3 } : {}),
            secretFile,
          },
          ctx,
        );
  // After the stack is up: a sidecar started here has installed a catalog model on first use.
  const expected = await expectedModel({
    model: config.model,
    cacheDir: ctx.layout.cacheRoot,
    sidecar: config.sidecar,
    secretFile,
  }).catch(async (err: unknown) => {
    await stack?.stop();
    throw err;
  });
  const options = {
    ...baseOptions,
    expectedModel: expected,
    ...(bridgeSecretFile === undefined ? {} : { sidecarSecretFile: bridgeSecretFile }),
  };
  warnTokenInArgv(ctx, typeof raw.remote === "string" ? raw.remote : undefined);
  // After the stack is up: a Spark started just now has just written its token file.
  const spark = connectSpark(ctx, config.remote, typeof raw.tokenFile === "string" ? raw.tokenFile : undefined);
  // The sidecar the run's bridges feed counts the images it answers: live images/s in the features step.
  const counter = rowCounter(config.sidecar, secretFile);
  const progress = progressReporter(ctx, {
    mode: progressMode({ quiet: raw.quiet === true, isTTY: process.stderr.isTTY === true }),
    rowCounts: () => counter.read(800),
  });
  // Ctrl-C interrupts the running Spark operation (and ends the run); a second one quits at once.
  const abort = new AbortController();
  const onSigint = () => {
    if (abort.signal.aborted) process.exit(EXIT.interrupted);
    ctx.err("orchard: interrupting the running Spark operation (Ctrl-C again to quit at once)");
    abort.abort();
  };
  // SIGTERM (a service manager, `kill`) does the same: the Spark work stops, this run publishes
  // nothing unless it already is publishing (then it finishes that), and what it started stops.
  let terminated = false;
  const onSigterm = () => {
    if (terminated) process.exit(EXIT.terminated);
    terminated = true;
    ctx.err("orchard: terminated: interrupting the running Spark operation");
    abort.abort();
  };
  process.on("SIGINT", onSigint);
  process.on("SIGTERM", onSigterm);
  try {
    const summary = await runPipeline(spark, options, {
      preflight: checked,
      signal: abort.signal,
      events: progress,
      s3,
      configForRecord: { command: flavour, ...configForRecord(config) },
    });
    progress.stop();
    printSummary(ctx, summary, reportUri(summary.output));
    return summary;
  } catch (err) {
    if (terminated) throw new ExitWith(EXIT.terminated);
    throw err;
  } finally {
    process.off("SIGINT", onSigint);
    process.off("SIGTERM", onSigterm);
    progress.stop();
    counter.close();
    await spark.stop().catch(() => undefined);
    await stack?.stop();
  }
}
