import { rowCounter } from "@orchard/udf-server";
import { SparkSession } from "../connect/spark-session.ts";
import { Classifier } from "../pipeline/classifier.ts";
import { MODEL_LAYOUT } from "../pipeline/model-layout.ts";
import { outputPath } from "../pipeline/output-layout.ts";
import { predictFolder } from "../pipeline/predict-folder.ts";
import { trainClassifier } from "../pipeline/train.ts";
import type { TrainSummary } from "../pipeline/train-summary.ts";
import type { CliContext } from "./cli-context.ts";
import { predictOptions, trainOptions } from "./commands/train-options.ts";
import { parseConfig } from "./config-parse.ts";
import { EXIT } from "./exit-codes.ts";
import { ensureLocalStack, type LocalStack } from "./local-stack.ts";
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
import { checkSidecarServes } from "./sidecar-model.ts";
import { secretFiles } from "./sidecar-secret-file.ts";

/** The pipeline settings among the flags, as the config schema names them. */
function pipelineFlags(raw: Record<string, unknown>, drop: readonly string[]): Record<string, unknown> {
  const { overwrite, s3Endpoint, config: _c, start: _s, quiet: _q, ...rest } = raw;
  for (const name of drop) delete rest[name];
  return {
    ...rest,
    ...(overwrite ? { mode: "overwrite" } : {}),
    ...(s3Endpoint ? { s3: { endpoint: s3Endpoint } } : {}),
  };
}

function pipelineConfig(ctx: CliContext, raw: Record<string, unknown>, drop: readonly string[]): PipelineConfig {
  return parsePipelineConfig({
    ...(typeof raw.config === "string" ? { file: readConfigFile(raw.config) } : {}),
    env: configFromEnv(ctx.env),
    flags: pipelineFlags(raw, drop),
  });
}

/** Makes sure the sidecar (serving `model`) answers, unless --no-start; Spark is never started here. */
async function localStack(
  ctx: CliContext,
  raw: Record<string, unknown>,
  config: PipelineConfig,
  model: string,
  secretFile: string,
): Promise<LocalStack | undefined> {
  if (raw.start === false) {
    await checkSidecarServes(config.sidecar, model, secretFile);
    return undefined;
  }
  const s3 = s3Access(config);
  return ensureLocalStack(
    {
      remote: config.remote,
      sidecar: config.sidecar,
      model,
      startSpark: false,
      ...(s3.endpoint && s3.accessKeyId && s3.secretAccessKey ? { s3 } : {}),
      secretFile,
    },
    ctx,
  );
}

/** Ctrl-C interrupts the running Spark operation; a second one quits at once. */
function interruptible(ctx: CliContext): { signal: AbortSignal; release(): void } {
  const abort = new AbortController();
  const onSigint = () => {
    if (abort.signal.aborted) process.exit(EXIT.interrupted);
    ctx.err("orchard: interrupting the running Spark operation (Ctrl-C again to quit at once)");
    abort.abort();
  };
  process.on("SIGINT", onSigint);
  return { signal: abort.signal, release: () => process.off("SIGINT", onSigint) };
}

/** `orchard train`: parses its options, trains, prints the figures. */
export async function runTrainCommand(ctx: CliContext, raw: Record<string, unknown>): Promise<TrainSummary> {
  const trainKeys = ["testFraction", "testFolder", "seed", "regParam", "maxIter", "clusters"] as const;
  const config = pipelineConfig(ctx, raw, trainKeys);
  const t = parseConfig(trainOptions, Object.fromEntries(trainKeys.map((k) => [k, raw[k]])));
  const s3 = s3Access(config);
  const { secretFile, bridgeSecretFile } = secretFiles(ctx, config);
  const stack = await localStack(ctx, raw, config, config.model, secretFile);
  const spark = SparkSession.builder.remote(config.remote).getOrCreate();
  const quiet = raw.quiet === true;
  const counter = rowCounter(config.sidecar, secretFile);
  const progress = progressReporter(ctx, {
    mode: progressMode({ quiet, isTTY: process.stderr.isTTY === true }),
    rowCounts: () => counter.read(800),
  });
  const { signal, release } = interruptible(ctx);
  try {
    const { input: _input, output: _output, mode: _mode, ...options } = pipelineOptions(config);
    const featurize = {
      ...options,
      ...(bridgeSecretFile === undefined ? {} : { sidecarSecretFile: bridgeSecretFile }),
    };
    const summary = await trainClassifier(
      spark,
      {
        input: config.input,
        output: config.output,
        split:
          t.testFolder !== undefined
            ? { kind: "folder", testFolder: t.testFolder }
            : { kind: "stratified", testFraction: t.testFraction ?? 0.2, seed: t.seed },
        seed: t.seed,
        mode: config.mode,
        featurize,
        ...(t.regParam !== undefined ? { regParam: t.regParam } : {}),
        ...(t.maxIter !== undefined ? { maxIter: t.maxIter } : {}),
        ...(t.clusters !== undefined ? { clusters: t.clusters } : {}),
      },
      {
        s3,
        signal,
        events: progress,
        configForRecord: { command: "train", ...configForRecord(config), ...t },
        onStep: (step) => {
          progress.stop();
          if (!quiet) ctx.err(`train: ${step}`);
        },
      },
    );
    progress.stop();
    const m = summary.metrics;
    ctx.out(
      `rows:          ${summary.split.trainRows} training, ${summary.split.testRows} test, ${summary.labels.length} labels`,
    );
    ctx.out(`accuracy:      ${(100 * m.accuracy).toFixed(2)}% (macro F1 ${m.macroF1.toFixed(4)})`);
    const c = summary.clustering;
    ctx.out(
      c
        ? `kmeans:        k=${c.k}, ARI ${c.adjustedRandIndex.toFixed(4)}, purity ${c.purity.toFixed(4)}`
        : "kmeans:        not run (fewer rows than clusters)",
    );
    ctx.out(`report:        ${outputPath(summary.output, MODEL_LAYOUT.reportHtml)}`);
    ctx.out(`wall time:     ${(summary.wallMs / 1000).toFixed(1)} s`);
    ctx.out(`model:         ${summary.output}`);
    ctx.out(`run.json:      ${outputPath(summary.output, MODEL_LAYOUT.runJson)}`);
    return summary;
  } finally {
    release();
    progress.stop();
    counter.close();
    await spark.stop().catch(() => undefined);
    await stack?.stop();
  }
}

/** `orchard predict`: classifies a folder of images with a trained classifier. */
export async function runPredictCommand(ctx: CliContext, raw: Record<string, unknown>): Promise<void> {
  const { model } = parseConfig(predictOptions, { model: raw.model });
  const config = pipelineConfig(ctx, raw, ["model"]);
  const s3 = s3Access(config);
  const spark = SparkSession.builder.remote(config.remote).getOrCreate();
  let stack: LocalStack | undefined;
  const { signal, release } = interruptible(ctx);
  try {
    const classifier = await Classifier.load(spark, model, { s3, featurizeOn: "executors" });
    const { secretFile, bridgeSecretFile } = secretFiles(ctx, config);
    try {
      // The sidecar must serve the CNN the classifier's features came from.
      stack = await localStack(ctx, raw, config, classifier.manifest.cnnModel ?? config.model, secretFile);
      if (raw.quiet !== true)
        ctx.err(`predict: ${classifier.manifest.labels.length} labels, k=${classifier.manifest.k}`);
      const summary = await predictFolder(
        spark,
        classifier,
        {
          model,
          input: config.input,
          output: config.output,
          extensions: config.extensions,
          mode: config.mode,
          sidecar: config.sidecar,
          ...(config.bridge !== undefined ? { bridge: config.bridge } : {}),
          ...(bridgeSecretFile === undefined ? {} : { sidecarSecretFile: bridgeSecretFile }),
          ...(config.partitions !== undefined ? { partitions: config.partitions } : {}),
        },
        { s3, configForRecord: { command: "predict", model, ...configForRecord(config) }, actionOptions: { signal } },
      );
      ctx.out(
        `images:        ${summary.counts.filesIn} in, ${summary.counts.rowsOut} rows out, ${summary.counts.failed} failed`,
      );
      ctx.out(
        `wall time:     ${(summary.wallMs / 1000).toFixed(1)} s (${summary.imagesPerSecond.toFixed(1)} images/s)`,
      );
      ctx.out(`output:        ${summary.output}`);
    } finally {
      await classifier.close().catch(() => undefined);
    }
  } finally {
    release();
    await spark.stop().catch(() => undefined);
    await stack?.stop();
  }
}
