import type { DataFrame } from "../connect/data-frame.ts";
import { col, count, lit, max, size, when } from "../connect/functions.ts";
import { persist, unpersist } from "../connect/persistence.ts";
import type { ExecutionProgress } from "../connect/progress.ts";
import type { SparkSession } from "../connect/spark-session.ts";
import { PCAModel } from "../ml/pca.ts";
import type { S3Access } from "../s3.ts";
import { clusterShape, featurizePartitions } from "./cluster-cores.ts";
import { emptyFileRows, featurize } from "./featurize.ts";
import { OUTPUT_LAYOUT, outputPath } from "./output-layout.ts";
import { outputStore } from "./output-store.ts";
import { PipelineError } from "./pipeline-error.ts";
import type { PipelineOptions } from "./pipeline-options.ts";
import { type Preflight, preflight } from "./preflight.ts";
import { abandonAttempt, newAttempt, publishOutput } from "./publish-output.ts";
import { type FittedReduction, fitReduction, project } from "./reduce.ts";
import { reportUri, writeReport } from "./report.ts";
import { type RunSummary, STEPS, type Step } from "./run-summary.ts";
import { assertSupportedServer } from "./server-version.ts";
import { writeOutput } from "./write.ts";

/** What a caller can watch while the pipeline runs (the CLI draws its progress from these). */
export interface PipelineEvents {
  onStepStart?(step: Step, detail?: string): void;
  onStepEnd?(step: Step, ms: number, detail?: string): void;
  /** Spark's execution progress for the step's running job. */
  onProgress?(step: Step, progress: ExecutionProgress): void;
  /** The number of input images, once listed (for images/s). */
  onInputCount?(filesIn: number): void;
}

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
 * The featurize tasks' input: `partitions` tasks made by merging the scan's partitions when it has
 * at least that many (Spark packs up to ~32 small files into one scan partition, so it has when
 * there are 32 files per task), which moves no image bytes; otherwise a round-robin shuffle.
 */
function taskPartitions(images: DataFrame, files: number, partitions: number): DataFrame {
  return files >= 32 * partitions ? images.coalesce(partitions) : images.repartition(partitions);
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
  const { events, signal } = context;
  const timings: Partial<Record<Step, number>> = {};
  const started = performance.now();
  const step = async <T>(
    name: Step,
    body: (actionOptions: { signal?: AbortSignal; onProgress: (p: ExecutionProgress) => void }) => Promise<T>,
    detail?: (t: T) => string,
  ): Promise<T> => {
    events?.onStepStart?.(name);
    const t0 = performance.now();
    const out = await body({ ...(signal ? { signal } : {}), onProgress: (p) => events?.onProgress?.(name, p) });
    timings[name] = Math.round(performance.now() - t0);
    events?.onStepEnd?.(name, timings[name] as number, detail?.(out));
    return out;
  };
  const { input, listing, modelMetadata } = context.preflight ?? (await preflight(options, context.s3));
  // The first RPC: an older server is refused before any work, and run.json records the version.
  const sparkVersion = await spark.version();
  assertSupportedServer(sparkVersion, spark.remoteUrl);

  const { images, emptyFiles, filesIn } = await step(
    "list",
    async (o) => {
      if (options.samplePerClass !== undefined) {
        const rows = await input.sample(spark, options.samplePerClass).select("path").collect(o);
        const paths = rows.map((r) => String(r.get(0)));
        return {
          images: paths.length ? input.read(spark, paths) : undefined,
          emptyFiles: [],
          filesIn: paths.length,
        };
      }
      const images = input.read(spark);
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
  events?.onInputCount?.(filesIn);

  const imageFiles = filesIn - emptyFiles.length;
  const cluster = await clusterShape(spark);
  const partitions = options.partitions ?? featurizePartitions(imageFiles, cluster.cores);
  // On a local master the PCA fit and projection run as one task: their work is native BLAS
  // (a packed 1280x1280 update per row, a matrix-vector product per row) that OpenBLAS already
  // spreads over every core, as it does the fit's driver-side SVD; parallel tasks, each with its
  // own BLAS threads, only fought over the cores (fit 1.9-2.1 s -> 1.4-1.8 s on the sample set).
  const mlPartitions = cluster.local ? 1 : undefined;
  const processed = await input.withDriverListing(spark, () =>
    featurize(spark, taskPartitions(images, imageFiles, partitions), {
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
  const featurized = await persist(
    emptyFiles.length === 0 ? processed : processed.unionByName(emptyFileRows(spark, emptyFiles)),
  );
  let fitted: FittedReduction | undefined;
  let loaded: PCAModel | undefined;
  try {
    const { rows, failed, featureDim } = await step(
      "features",
      async (o) => {
        // One job: rows, failed rows, and the feature length of the rows that have features.
        const totals = await featurized
          .agg(count(lit(1)), count(col("error")), max(when(col("error").isNull(), size(col("features")))))
          .first(o);
        const [rows, failed, featureDim] = [0, 1, 2].map((i) => Number(totals?.get(i) ?? 0)) as [
          number,
          number,
          number,
        ];
        return { rows, failed, featureDim };
      },
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
            store: attemptStore,
            fitOnly: options.fitOnly ?? false,
            actionOptions: o,
          }),
        (n) => (options.fitOnly ? "model saved" : `${n} rows`),
      );
      if (!options.fitOnly && rowsOut !== filesIn) {
        throw new PipelineError({ message: `wrote ${rowsOut} rows for ${filesIn} input files: rows were lost` });
      }

      const wallMs = Math.round(performance.now() - started);
      const summary: RunSummary = {
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
        timingsMs: {},
        wallMs,
        imagesPerSecond: filesIn / (wallMs / 1000),
        k,
        featureDim,
        partitions,
        explainedVariance: explainedVariance ?? null,
        pcaModel: options.pcaModel ?? (fitted ? outputPath(options.output, OUTPUT_LAYOUT.pcaModel) : null),
      };
      const parts: string[] = [
        ...(options.fitOnly ? [] : [OUTPUT_LAYOUT.data]),
        ...(fitted ? [OUTPUT_LAYOUT.pcaModel] : []),
      ];
      const timed = () => ({
        ...summary,
        timingsMs: Object.fromEntries(
          STEPS.filter((s) => timings[s] !== undefined).map((s) => [s, timings[s] as number]),
        ),
      });
      if (context.report !== false) {
        const fittedModel = fitted?.model ?? loaded;
        // Drawn from the attempt's data, so the page is published with the data it shows.
        await step(
          "report",
          async (o) => {
            const spectrum = await fittedModel?.explainedVariance().then(Array.from<number>, () => undefined);
            return writeReport(spark, attempt.uri, timed(), attemptStore, {
              ...(spectrum ? { spectrum } : {}),
              actionOptions: o,
            });
          },
          () => reportUri(options.output),
        );
        parts.push(OUTPUT_LAYOUT.reportHtml);
      }
      const published = timed();
      // From here the old output may be withdrawn: the attempt is no longer ours to delete.
      publishing = true;
      await publishOutput(store, {
        attempt,
        parts,
        mode: "replace",
        // `orchard fit` writes no data/: an older run's data/ does not belong to the new run.json.
        withdrawn: options.fitOnly ? [OUTPUT_LAYOUT.data] : [],
        runJson: `${JSON.stringify(published, null, 2)}\n`,
      });
      return published;
    } finally {
      if (!publishing) await abandonAttempt(store, attempt).catch(() => undefined);
    }
  } finally {
    await unpersist(featurized).catch(() => undefined);
    await fitted?.model.close().catch(() => undefined);
    await loaded?.close().catch(() => undefined);
  }
}
