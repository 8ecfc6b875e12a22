import { rowCounter } from "@orchard/udf-server";
import type { PipelineOptions } from "../pipeline/pipeline-options.ts";
import type { Preflight } from "../pipeline/preflight.ts";
import { reportUri } from "../pipeline/report.ts";
import { runPipeline } from "../pipeline/run-pipeline.ts";
import type { RunSummary } from "../pipeline/run-summary.ts";
import type { S3Access } from "../s3.ts";
import type { CliContext } from "./cli-context.ts";
import type { Flavour } from "./commands/pipeline.ts";
import { EXIT, ExitWith } from "./exit-codes.ts";
import { expectedModel } from "./expected-model.ts";
import { ensureLocalStack } from "./local-stack.ts";
import { configForRecord, type PipelineConfig } from "./pipeline-config.ts";
import { progressMode, progressReporter } from "./progress-reporter.ts";
import { printSummary } from "./run-output.ts";
import { checkSidecarServes } from "./sidecar-model.ts";
import { connectSpark, warnTokenInArgv } from "./spark-connect.ts";

/** A pipeline command whose configuration is parsed and whose input and output passed the checks (pipeline-run.ts). */
export interface CheckedRun {
  readonly raw: Record<string, unknown>;
  readonly flavour: Flavour;
  readonly config: PipelineConfig;
  readonly s3: S3Access;
  /** This machine's sidecar secret file. */
  readonly secretFile: string;
  /** The secret file the bridges read, when Spark runs on this machine. */
  readonly bridgeSecretFile?: string | undefined;
  readonly baseOptions: PipelineOptions;
  readonly checked: Preflight;
  /** Whether a local Spark may be started here (`orchard demo`). */
  readonly startSpark: boolean;
}

/** Makes sure local parts run, runs the checked pipeline command, prints the summary. */
export async function launchPipeline(
  ctx: CliContext,
  { raw, flavour, config, s3, secretFile, bridgeSecretFile, baseOptions, checked, startSpark }: CheckedRun,
): Promise<RunSummary> {
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
