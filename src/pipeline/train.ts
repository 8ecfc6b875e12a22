import type { ActionOptions } from "../connect/data-frame.ts";
import { array_to_vector, col } from "../connect/functions.ts";
import { persist, unpersist } from "../connect/persistence.ts";
import type { SparkSession } from "../connect/spark-session.ts";
import { LogisticRegression } from "../ml/logistic-regression.ts";
import { PCAModel } from "../ml/pca.ts";
import { StringIndexer } from "../ml/string-indexer.ts";
import type { S3Access } from "../s3.ts";
import { classifierMetrics } from "./classifier-metrics.ts";
import { type ClassifierManifest, MODEL_LAYOUT } from "./model-layout.ts";
import { OUTPUT_LAYOUT, outputPath } from "./output-layout.ts";
import { outputStore } from "./output-store.ts";
import { PipelineError } from "./pipeline-error.ts";
import type { PipelineOptions } from "./pipeline-options.ts";
import { writeReport } from "./report.ts";
import { type RunContext, runPipeline } from "./run-pipeline.ts";
import { readRunSummary } from "./run-summary.ts";
import { TEST_FLAG, type TrainSplit, withSplit } from "./train-split.ts";
import type { TrainSummary } from "./train-summary.ts";

/** Everything `orchard train` needs, already validated. */
export interface TrainOptions {
  /** An orchard output folder (its `data/` and `pca-model/` are used), or a folder of images. */
  readonly input: string;
  /** The classifier folder to write (see MODEL_LAYOUT). */
  readonly output: string;
  readonly split: TrainSplit;
  /** LogisticRegression's regularization (default 0.001). */
  readonly regParam?: number;
  /** LogisticRegression's iteration limit (default 200). */
  readonly maxIter?: number;
  /** KMeans clusters for the clustering figures (default: the number of labels). */
  readonly clusters?: number;
  /** KMeans's seed (default 1). */
  readonly seed?: number;
  readonly mode: "overwrite" | "errorifexists";
  /**
   * How to featurize when `input` is a folder of images: the pipeline's options (its output is
   * `MODEL_DIR/features`, an orchard output folder of its own).
   */
  readonly featurize?: Omit<PipelineOptions, "input" | "output" | "mode">;
}

export interface TrainContext extends Pick<RunContext, "events" | "signal" | "configForRecord"> {
  readonly s3?: S3Access;
  /** Called as each training step starts (the CLI prints it). */
  readonly onStep?: (step: string) => void;
}

const FEATURES = "_orchard_features";
const LABEL_INDEX = "_orchard_label";

/**
 * Trains orchard's classifier: a multinomial logistic regression on the PCA features of an orchard
 * output (featurizing first when given images), with a deterministic split stratified by label;
 * evaluates it on the test rows. Writes one folder: the PCA, the label index, the classifier (each
 * in Spark ML's format), `orchard-model.json`, `report.html` (the features' report with KMeans
 * clusters over the classes, the confusion matrix and the per-class accuracy) and `run.json`
 * (written last), which records the test figures and the clustering's ARI and purity.
 */
export async function trainClassifier(
  spark: SparkSession,
  options: TrainOptions,
  context: TrainContext = {},
): Promise<TrainSummary> {
  const started = performance.now();
  const timingsMs: Record<string, number> = {};
  const actionOptions: ActionOptions = context.signal ? { signal: context.signal } : {};
  const step = async <T>(name: string, body: () => Promise<T>): Promise<T> => {
    context.onStep?.(name);
    const t0 = performance.now();
    const out = await body();
    timingsMs[name] = Math.round(performance.now() - t0);
    return out;
  };
  const store = outputStore(options.output, context.s3);
  if (options.mode === "errorifexists" && (await store.holdsAnything())) {
    throw new PipelineError({
      message: `${options.output} already holds files (--overwrite replaces them)`,
    });
  }
  const features = await step("features", () => featuresOutput(spark, options, context));
  const sparkVersion = await spark.version();
  const runSummary = await readRunSummary(outputStore(features, context.s3), features);
  const k = runSummary.k;

  const rows = spark.read
    .parquet(outputPath(features, OUTPUT_LAYOUT.data))
    .where(col("error").isNull().and(col("pca").isNotNull()).and(col("label").isNotNull()))
    .select(col("path"), col("label"), array_to_vector(col("pca")).alias(FEATURES));
  const split = await persist(withSplit(rows, options.split));
  const regParam = options.regParam ?? 0.001;
  const maxIter = options.maxIter ?? 200;
  const seed = options.seed ?? 1;
  const closers: { close(): Promise<void> }[] = [];
  try {
    const train = split.where(col(TEST_FLAG).not());
    const test = split.where(col(TEST_FLAG));
    const [trainRows, testRows] = await Promise.all([train.count(actionOptions), test.count(actionOptions)]);
    if (trainRows < 2 || testRows < 1) {
      throw new PipelineError({
        message: `${features} gives ${trainRows} training and ${testRows} test rows: too few to train and evaluate a classifier`,
      });
    }
    const indexer = await step("index", () =>
      new StringIndexer({ inputCol: "label", outputCol: LABEL_INDEX, handleInvalid: "skip" }).fit(train, actionOptions),
    );
    closers.push(indexer);
    const labels = await indexer.labels();
    if (labels.length < 2) {
      throw new PipelineError({ message: `${features} has ${labels.length} label: a classifier needs at least 2` });
    }
    const classifier = await step("fit", () =>
      new LogisticRegression({
        family: "multinomial",
        featuresCol: FEATURES,
        labelCol: LABEL_INDEX,
        regParam,
        maxIter,
      }).fit(indexer.transform(train), actionOptions),
    );
    closers.push(classifier);
    const metrics = await step("evaluate", () =>
      classifierMetrics(
        classifier.transform(indexer.transform(test)),
        { labels, labelCol: LABEL_INDEX },
        actionOptions,
      ),
    );
    await step("save", async () => {
      const overwrite = options.mode === "overwrite";
      const pca = await PCAModel.load(spark, runSummary.pcaModel ?? outputPath(features, OUTPUT_LAYOUT.pcaModel));
      closers.push(pca);
      await Promise.all([
        pca.save(outputPath(options.output, MODEL_LAYOUT.pcaModel), { overwrite }),
        indexer.save(outputPath(options.output, MODEL_LAYOUT.labelIndex), { overwrite }),
        classifier.save(outputPath(options.output, MODEL_LAYOUT.classifier), { overwrite }),
      ]);
      const manifest: ClassifierManifest = {
        orchardClassifier: 1,
        parts: {
          pcaModel: MODEL_LAYOUT.pcaModel,
          labelIndex: MODEL_LAYOUT.labelIndex,
          classifier: MODEL_LAYOUT.classifier,
        },
        k,
        featureDimension: runSummary.featureDim,
        cnnModel: cnnModelOf(runSummary.config),
        labels,
        trainedAt: new Date().toISOString(),
        metrics: { accuracy: metrics.accuracy, macroF1: metrics.macroF1 },
      };
      await store.put(MODEL_LAYOUT.manifest, `${JSON.stringify(manifest, null, 2)}\n`, "application/json");
    });

    // The report of the features with the classifier's sections, in the model folder; its KMeans
    // (k = the number of labels unless --clusters) gives the clustering figures.
    const clusters = options.clusters ?? labels.length;
    const report = await step("report", () =>
      writeReport(spark, features, runSummary, store, {
        clusters,
        seed,
        classifier: { model: options.output, metrics, testRows },
        ...(context.signal ? { actionOptions: { signal: context.signal } } : {}),
      }),
    );
    const clustering = report.clustering ?? null;
    const summary: TrainSummary = {
      orchardVersion: 1,
      command: "train",
      config: context.configForRecord ?? null,
      input: options.input,
      features,
      output: options.output,
      sparkVersion,
      split: { ...options.split, trainRows, testRows },
      k,
      labels,
      classifier: { family: "multinomial", regParam, maxIter },
      metrics,
      clustering,
      timingsMs,
      wallMs: Math.round(performance.now() - started),
    };
    await store.put(MODEL_LAYOUT.runJson, `${JSON.stringify(summary, null, 2)}\n`, "application/json");
    return summary;
  } finally {
    await unpersist(split).catch(() => undefined);
    await Promise.all(closers.map((c) => c.close().catch(() => undefined)));
  }
}

/**
 * The orchard output to train on: `input` itself when it holds a `run.json`, else the pipeline's
 * output for the images in `input`, written to `MODEL_DIR/features`.
 */
async function featuresOutput(spark: SparkSession, options: TrainOptions, context: TrainContext): Promise<string> {
  const isOutput = await outputStore(options.input, context.s3)
    .get(OUTPUT_LAYOUT.runJson)
    .then(
      () => true,
      () => false,
    );
  if (isOutput) return options.input;
  if (!options.featurize) {
    throw new PipelineError({
      message: `${options.input} has no run.json: give an orchard output folder, or images with the featurize options`,
    });
  }
  const output = outputPath(options.output, MODEL_LAYOUT.features);
  await runPipeline(
    spark,
    { ...options.featurize, input: options.input, output, mode: "overwrite" },
    {
      ...(context.events ? { events: context.events } : {}),
      ...(context.signal ? { signal: context.signal } : {}),
      ...(context.s3 ? { s3: context.s3 } : {}),
      configForRecord: { command: "train (featurize)", ...(context.configForRecord as object) },
    },
  );
  return output;
}

/** The CNN name a run's recorded config names, if any. */
function cnnModelOf(config: unknown): string | null {
  const model = (config as { model?: unknown } | null)?.model;
  return typeof model === "string" ? model : null;
}
