import { persist, unpersist } from "../connect/persistence.ts";
import type { SparkSession } from "../connect/spark-session.ts";
import { PCAModel } from "../ml/pca.ts";
import type { S3Access } from "../s3.ts";
import { clusterShape, featurizePartitions } from "./cluster-cores.ts";
import { emptyFileRows } from "./featurize.ts";
import { fileStates } from "./file-state.ts";
import { readImages, sampledPaths } from "./ingest.ts";
import { OUTPUT_LAYOUT, outputPath } from "./output-layout.ts";
import { outputStore } from "./output-store.ts";
import { PipelineError } from "./pipeline-error.ts";
import type { PipelineOptions } from "./pipeline-options.ts";
import { type Preflight, preflight } from "./preflight.ts";
import { abandonAttempt, newAttempt } from "./publish-output.ts";
import { type FittedReduction, fitReduction, project } from "./reduce.ts";
import { fullRunCounts, historyAfter, type RunRecord } from "./run-history.ts";
import { runIncremental } from "./run-incremental.ts";
import { featureTotals, featurizeImages, type PipelineEvents, reportAndPublish, stepRunner } from "./run-steps.ts";
import type { RunSummary, Step } from "./run-summary.ts";
import { assertSupportedServer } from "./server-version.ts";
import { writeOutput } from "./write.ts";

export type { PipelineEvents } from "./run-steps.ts";

export interface RunContext {
  readonly events?: PipelineEvents;
  readonly signal?: AbortSignal;
  /** S3 access for the files the driver writes itself (`run.json`, `report.html`). */
  readonly s3?: S3Access;
  /** Written into run.json as the configuration (secrets already removed by the caller). */
  readonly configForRecord?: unknown;
  /** Write `report.html` after `run.json` (default true). */
  readonly report?: boolean;
  /** The checks already made by the caller (the CLI makes them before it starts anything). */
  readonly preflight?: Preflight;
}

/**
 * Runs orchard's pipeline: list -> featurize (on the executors, through the sidecar) -> PCA (fit on
 * the server, or a saved model) -> Parquet + model + report into an attempt folder -> published,
 * run.json last (see {@link publishOutput}). Checks that every input file comes out as exactly one
 * row, and fails loudly otherwise, publishing nothing. Before any Spark work it checks the input,
 * the output and the saved model (see {@link preflight}).
 */
export async function runPipeline(
  spark: SparkSession,
  options: PipelineOptions,
  context: RunContext = {},
): Promise<RunSummary> {
  const steps = stepRunner(context.events, context.signal);
  const step = steps.run;
  const started = performance.now();
  const checked = context.preflight ?? (await preflight(options, context.s3));
  const { input, listing, modelMetadata } = checked;
  // The first RPC: an older server is refused before any work, and run.json records the version.
  const sparkVersion = await spark.version();
  assertSupportedServer(sparkVersion, spark.remoteUrl);
  if (options.incremental) {
    return runIncremental(spark, options, { ...context, preflight: checked }, { steps, started, sparkVersion });
  }

  const { images, emptyFiles, filesIn } = await step(
    "list",
    async (o) => {
      if (options.samplePerClass !== undefined) {
        const rows = await sampledPaths(spark, input, options.samplePerClass).select("path").collect(o);
        const paths = rows.map((r) => String(r.get(0)));
        return {
          images: paths.length ? readImages(spark, input, paths) : undefined,
          emptyFiles: [],
          filesIn: paths.length,
        };
      }
      const images = readImages(spark, input);
      // The driver's own listing is the count the rows-in check holds Spark to, so a file Spark's
      // listing skipped would fail the run instead of vanishing; other file systems, which the
      // driver cannot list, are counted by Spark.
      const files = listing?.files ?? (await images.select("path").count(o));
      const emptyFiles = listing?.emptyFiles ?? [];
      return { images: files > 0 ? images : undefined, emptyFiles, filesIn: files + emptyFiles.length };
    },
    (r) => `${r.filesIn} images${r.emptyFiles.length ? ` (${r.emptyFiles.length} empty)` : ""}`,
  );
  if (images === undefined) {
    throw new PipelineError({
      message: `no images found under ${input.uri} (extensions: ${input.extensions.join(", ")})`,
    });
  }
  context.events?.onInputCount?.(filesIn);

  const imageFiles = filesIn - emptyFiles.length;
  const cluster = await clusterShape(spark);
  const partitions = options.partitions ?? featurizePartitions(imageFiles, cluster.cores);
  // On a local master the PCA fit and projection run as one task: their work is native BLAS
  // (a packed 1280x1280 update per row, a matrix-vector product per row) that OpenBLAS already
  // spreads over every core, as it does the fit's driver-side SVD; parallel tasks, each with its
  // own BLAS threads, only fought over the cores (fit 1.9-2.1 s -> 1.4-1.8 s on the sample set).
  const mlPartitions = cluster.local ? 1 : undefined;
  const processed = await featurizeImages(spark, input, images, { files: imageFiles, partitions, cluster, options });
  const featurized = await persist(
    emptyFiles.length === 0 ? processed : processed.unionByName(emptyFileRows(spark, emptyFiles)),
  );
  let fitted: FittedReduction | undefined;
  let loaded: PCAModel | undefined;
  try {
    const { rows, failed, featureDim } = await step(
      "features",
      (o) => featureTotals(featurized, o),
      (r) => `${r.rows} rows, ${r.failed} failed, ${r.featureDim}-d features, ${partitions} tasks`,
    );
    if (rows !== filesIn) {
      throw new PipelineError({
        message: `featurize returned ${rows} rows for the ${filesIn} input files listed: rows were lost (or the input changed during the run)`,
      });
    }

    let k: number;
    let explainedVariance: number[] | undefined;
    let model: PCAModel;
    if (options.pcaModel === undefined) {
      fitted = await step(
        "pca",
        (o) =>
          fitReduction(
            featurized,
            options.reduction,
            { featureDim, fitRows: rows - failed, partitions: mlPartitions },
            o,
          ),
        (f) => `k=${f.k}, ${(100 * f.explainedVariance.reduce((a, b) => a + b, 0)).toFixed(1)}% of variance`,
      );
      ({ model, k, explainedVariance } = fitted);
    } else {
      const modelUri = options.pcaModel;
      loaded = await step(
        "pca",
        () => PCAModel.load(spark, modelUri),
        (m) => `loaded k=${m.params.k}`,
      );
      model = loaded;
      k =
        "k" in options.reduction
          ? Math.min(options.reduction.k, loaded.params.k)
          : Math.min(modelMetadata?.k ?? loaded.params.k, loaded.params.k);
    }

    // The run writes into an attempt folder of its own and publishes it only once it is complete
    // and checked (publish-output.ts): until then the published output stays as it was.
    const store = outputStore(options.output, context.s3);
    const attempt = newAttempt(options.output);
    const attemptStore = outputStore(attempt.uri, context.s3);
    let publishing = false;
    try {
      const rowsOut = await step(
        "write",
        (o) =>
          writeOutput(spark, project(featurized, model, k, mlPartitions), {
            output: attempt.uri,
            mode: "errorifexists",
            keepFeatures: options.keepFeatures,
            model: fitted && {
              model: fitted.model,
              metadata: { k, featureDimension: featureDim, model: options.model ?? null },
            },
            fileStates: options.fitOnly ? undefined : fileStates(spark, images, emptyFiles, partitions),
            store: attemptStore,
            fitOnly: options.fitOnly ?? false,
            actionOptions: o,
          }),
        (n) => (options.fitOnly ? "model saved" : `${n} rows`),
      );
      if (!options.fitOnly && rowsOut !== filesIn) {
        throw new PipelineError({ message: `wrote ${rowsOut} rows for ${filesIn} input files: rows were lost` });
      }

      const summary = (timingsMs: Partial<Record<Step, number>>): RunSummary => {
        const wallMs = Math.round(performance.now() - started);
        const record: RunRecord = {
          runId: attempt.runId,
          mode: "full",
          publishedAt: new Date().toISOString(),
          counts: fullRunCounts(filesIn, failed),
          removedSample: [],
          pcaRefit: fitted !== undefined,
          timingsMs,
          wallMs,
        };
        return {
          orchardVersion: 1,
          runId: attempt.runId,
          config: context.configForRecord ?? null,
          input: input.uri,
          output: options.output,
          sparkVersion,
          model: options.expectedModel
            ? { name: options.expectedModel.name, sha256: options.expectedModel.sha256 }
            : null,
          counts: { filesIn, rowsOut: options.fitOnly ? 0 : rowsOut, failed },
          timingsMs,
          wallMs,
          imagesPerSecond: filesIn / (wallMs / 1000),
          keepFeatures: options.keepFeatures,
          history: historyAfter(undefined, record),
          k,
          featureDim,
          partitions,
          explainedVariance: explainedVariance ?? null,
          pcaModel: options.pcaModel ?? (fitted ? outputPath(options.output, OUTPUT_LAYOUT.pcaModel) : null),
        };
      };
      return await reportAndPublish(
        spark,
        steps,
        {
          output: options.output,
          attempt,
          store,
          attemptStore,
          summary,
          parts: [
            ...(options.fitOnly ? [] : [OUTPUT_LAYOUT.data, OUTPUT_LAYOUT.files]),
            ...(fitted ? [OUTPUT_LAYOUT.pcaModel] : []),
          ],
          mode: "replace",
          // `orchard fit` writes no data/: an older run's data/ does not belong to the new run.json.
          withdrawn: options.fitOnly ? [OUTPUT_LAYOUT.data, OUTPUT_LAYOUT.files] : [],
          report: context.report !== false,
          model: fitted?.model ?? loaded,
        },
        () => {
          publishing = true;
        },
      );
    } finally {
      if (!publishing) await abandonAttempt(store, attempt).catch(() => undefined);
    }
  } finally {
    await unpersist(featurized).catch(() => undefined);
    await fitted?.model.close().catch(() => undefined);
    await loaded?.close().catch(() => undefined);
  }
}
