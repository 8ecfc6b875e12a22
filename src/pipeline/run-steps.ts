import type { ActionOptions, DataFrame } from "../connect/data-frame.ts";
import { col, count, lit, max, size, when } from "../connect/functions.ts";
import type { ExecutionProgress } from "../connect/progress.ts";
import type { SparkSession } from "../connect/spark-session.ts";
import type { PCAModel } from "../ml/pca.ts";
import type { ClusterShape } from "./cluster-cores.ts";
import { featurize } from "./featurize.ts";
import type { ImageInput } from "./image-input.ts";
import { OUTPUT_LAYOUT } from "./output-layout.ts";
import type { OutputStore } from "./output-store.ts";
import type { PipelineOptions } from "./pipeline-options.ts";
import { type OutputAttempt, publishOutput } from "./publish-output.ts";
import { reportUri, writeReport } from "./report.ts";
import { type RunSummary, STEPS, type Step } from "./run-summary.ts";

/**
 * The parts a full run (run-pipeline.ts) and an incremental one (run-incremental.ts) share: timed
 * steps that report to the caller's events, the featurize step's tasks, and the report plus
 * publication that end every run.
 */

/** What a caller can watch while the pipeline runs (the CLI draws its progress from these). */
export interface PipelineEvents {
  onStepStart?(step: Step, detail?: string): void;
  onStepEnd?(step: Step, ms: number, detail?: string): void;
  /** Spark's execution progress for the step's running job. */
  onProgress?(step: Step, progress: ExecutionProgress): void;
  /** The number of images the run featurizes, once listed (for images/s). */
  onInputCount?(filesIn: number): void;
}

/** The options each step's Spark actions get: the run's signal, and progress for its events. */
export interface StepActionOptions {
  signal?: AbortSignal;
  onProgress: (p: ExecutionProgress) => void;
}

/** Runs the steps of one run, timing each and telling the events. */
export interface StepRunner {
  run<T>(name: Step, body: (o: StepActionOptions) => Promise<T>, detail?: (t: T) => string): Promise<T>;
  /** The timings so far, in step order. */
  timings(): Partial<Record<Step, number>>;
}

export function stepRunner(events: PipelineEvents | undefined, signal: AbortSignal | undefined): StepRunner {
  const timings: Partial<Record<Step, number>> = {};
  return {
    async run(name, body, detail) {
      events?.onStepStart?.(name);
      const t0 = performance.now();
      const out = await body({ ...(signal ? { signal } : {}), onProgress: (p) => events?.onProgress?.(name, p) });
      timings[name] = Math.round(performance.now() - t0);
      events?.onStepEnd?.(name, timings[name] as number, detail?.(out));
      return out;
    },
    timings: () =>
      Object.fromEntries(STEPS.filter((s) => timings[s] !== undefined).map((s) => [s, timings[s] as number])),
  };
}

/**
 * The featurize tasks' input: `partitions` tasks made by merging the scan's partitions when it has
 * at least that many (Spark packs up to ~32 small files into one scan partition, so it has when
 * there are 32 files per task), which moves no image bytes; otherwise a round-robin shuffle.
 */
function taskPartitions(images: DataFrame, files: number, partitions: number): DataFrame {
  return files >= 32 * partitions ? images.coalesce(partitions) : images.repartition(partitions);
}

/** Featurizes the `files` images of `images` (a read of `input`) in `partitions` tasks (lazy). */
export function featurizeImages(
  spark: SparkSession,
  input: ImageInput,
  images: DataFrame,
  {
    files,
    partitions,
    cluster,
    options,
  }: { files: number; partitions: number; cluster: ClusterShape; options: PipelineOptions },
): Promise<DataFrame> {
  return input.withDriverListing(spark, () =>
    featurize(spark, taskPartitions(images, files, partitions), {
      sidecar: options.sidecar,
      ...(options.bridge ? { bridge: options.bridge } : {}),
      // The caller's secret file names a path on the Spark server's machine: elsewhere each bridge
      // uses its own node's (ORCHARD_SIDECAR_SECRET_FILE, or the run folder's sidecar-<port>.secret).
      ...(options.sidecarSecretFile && cluster.serverMachine ? { secretFile: options.sidecarSecretFile } : {}),
      ...(options.expectedModel ? { expectModel: options.expectedModel } : {}),
      // The path transport: the sidecars read a local input's files themselves, inside its folder.
      ...((options.imageTransport ?? "path") === "path" && input.readRoot !== undefined
        ? { readRoots: [input.readRoot] }
        : {}),
    }),
  );
}

/**
 * One job over featurized rows: how many, how many failed, and the feature length of those that
 * have features (0 when none has).
 */
export async function featureTotals(
  featurized: DataFrame,
  options?: ActionOptions,
): Promise<{ rows: number; failed: number; featureDim: number }> {
  const totals = await featurized
    .agg(count(lit(1)), count(col("error")), max(when(col("error").isNull(), size(col("features")))))
    .first(options);
  const [rows = 0, failed = 0, featureDim = 0] = [0, 1, 2].map((i) => Number(totals?.get(i) ?? 0));
  return { rows, failed, featureDim };
}

/** The end of a run: what it publishes, and how. */
export interface RunEnd {
  readonly output: string;
  readonly attempt: OutputAttempt;
  readonly store: OutputStore;
  readonly attemptStore: OutputStore;
  /** The run's summary, given the timings of its steps (called once the report is written). */
  readonly summary: (timingsMs: Partial<Record<Step, number>>) => RunSummary;
  /** The attempt's parts, without `report.html` (added when the report is written). */
  readonly parts: readonly string[];
  readonly mode: "replace" | "append";
  readonly withdrawn?: readonly string[];
  /** Write `report.html` (default true). */
  readonly report?: boolean;
  /** The model whose spectrum the report draws. */
  readonly model?: PCAModel | undefined;
  /** The Parquet folders holding the output's rows, when not the attempt's `data/` alone. */
  readonly data?: readonly string[];
}

/**
 * Writes `report.html` into the attempt (drawn from the attempt's data, so the page is published
 * with the data it shows), then publishes the attempt with `run.json` last (see publishOutput).
 * `onPublishing` is called when the attempt is no longer the caller's to delete.
 */
export async function reportAndPublish(
  spark: SparkSession,
  steps: StepRunner,
  end: RunEnd,
  onPublishing: () => void,
): Promise<RunSummary> {
  const parts = [...end.parts];
  if (end.report !== false) {
    await steps.run(
      "report",
      async (o) => {
        const spectrum = await end.model?.explainedVariance().then(Array.from<number>, () => undefined);
        return writeReport(spark, end.attempt.uri, end.summary(steps.timings()), end.attemptStore, {
          ...(spectrum ? { spectrum } : {}),
          ...(end.data ? { data: end.data } : {}),
          actionOptions: o,
        });
      },
      () => reportUri(end.output),
    );
    parts.push(OUTPUT_LAYOUT.reportHtml);
  }
  const published = end.summary(steps.timings());
  // From here the old output may be withdrawn: the attempt is no longer ours to delete.
  onPublishing();
  await publishOutput(end.store, {
    attempt: end.attempt,
    parts,
    mode: end.mode,
    withdrawn: end.withdrawn ?? [],
    runJson: `${JSON.stringify(published, null, 2)}\n`,
  });
  return published;
}
