import type { DataFrame } from "../connect/data-frame.ts";
import { col, count } from "../connect/functions.ts";
import { persist, unpersist } from "../connect/persistence.ts";
import type { SparkSession } from "../connect/spark-session.ts";
import { ConfigError } from "../errors.ts";
import { PCAModel } from "../ml/pca.ts";
import { clusterShape, featurizePartitions } from "./cluster-cores.ts";
import { emptyFileRows } from "./featurize.ts";
import { diffFileStates, FILE_STATUSES, type FileStatus, fileStates, withStatus } from "./file-state.ts";
import {
  checkIncrementalAgainst,
  type IncrementPlan,
  planIncrement,
  planTotals,
  type StatusCounts,
} from "./incremental-plan.ts";
import { readImages } from "./ingest.ts";
import { OUTPUT_LAYOUT, outputPath } from "./output-layout.ts";
import { outputStore } from "./output-store.ts";
import { PipelineError } from "./pipeline-error.ts";
import type { PipelineOptions } from "./pipeline-options.ts";
import type { Preflight } from "./preflight.ts";
import { abandonAttempt, newAttempt } from "./publish-output.ts";
import { type FittedReduction, fitReduction, project } from "./reduce.ts";
import { historyAfter, REMOVED_SAMPLE, type RunRecord } from "./run-history.ts";
import type { RunContext } from "./run-pipeline.ts";
import { featureTotals, featurizeImages, reportAndPublish, type StepRunner } from "./run-steps.ts";
import type { RunSummary, Step } from "./run-summary.ts";
import { outputColumns, writeOutput } from "./write.ts";

/** What the list step of an incremental run found. */
interface Listed {
  readonly diff: DataFrame;
  readonly counts: StatusCounts;
  readonly plan: IncrementPlan;
  /** Files to featurize that have bytes (read by Spark), and the empty ones (error rows). */
  readonly paths: string[];
  readonly emptyPaths: string[];
  readonly removedSample: string[];
}

/** The list step's line: what the run skips and what it featurizes. */
function listDetail({ counts, plan, paths, emptyPaths }: Listed): string {
  const listed = counts.new + counts.changed + counts.unchanged;
  const removed = counts.removed === 0 ? "" : `, ${counts.removed} removed (${plan.pruned ? "pruned" : "rows kept"})`;
  const skipped = plan.featurize.includes("unchanged") ? 0 : counts.unchanged;
  return `${listed} images: ${counts.new} new, ${counts.changed} changed, ${skipped} unchanged skipped${removed}; featurizing ${paths.length + emptyPaths.length}`;
}

/**
 * `orchard run --incremental`: updates the published output of an earlier run with what changed
 * in its input since. The input is listed (metadata only: no image is read) and compared in Spark
 * with the output's `files/` (the state each covered file had: length, modification time); only
 * new and changed files are featurized, and projected with the saved PCA (the earlier run's
 * model) unless `refit` (see {@link planIncrement} for every rule). New files only: their rows
 * are appended to `data/`; otherwise `data/` and `files/` are rewritten (kept rows + new rows).
 * Either way the run writes into its attempt folder and publishes it atomically (a reader sees
 * the old output, then the new one), and `run.json` records the run in its `history`. PySpark has
 * no equivalent for plain Parquet; Delta Lake's `MERGE INTO` is the nearest.
 */
export async function runIncremental(
  spark: SparkSession,
  options: PipelineOptions,
  context: RunContext & { readonly preflight: Preflight },
  { steps, started, sparkVersion }: { steps: StepRunner; started: number; sparkVersion: string },
): Promise<RunSummary> {
  const { input, listing, previous } = context.preflight;
  const incremental = options.incremental;
  if (!incremental || !previous) {
    throw new PipelineError({
      message: "an incremental run needs the earlier run's summary (preflight with incremental)",
    });
  }
  if (options.samplePerClass !== undefined || options.pcaModel !== undefined || options.fitOnly) {
    throw new ConfigError({
      field: "--incremental",
      expected: "orchard run without --sample, --pca-model or fit",
      message: "--incremental updates a whole run's output: not with --sample, --pca-model or orchard fit",
    });
  }
  // The model's checksum is known only now (the CLI asks the sidecar after the preflight).
  checkIncrementalAgainst(previous, {
    input: options.input,
    keepFeatures: options.keepFeatures,
    ...(options.model ? { model: options.model } : {}),
    ...(options.expectedModel ? { expectedModel: options.expectedModel } : {}),
  });
  const dataUri = outputPath(options.output, OUTPUT_LAYOUT.data);
  const cluster = await clusterShape(spark);

  const listed = await steps.run(
    "list",
    async (o): Promise<Listed> => {
      const emptyFiles = listing?.emptyFiles ?? [];
      const statePartitions = listing ? featurizePartitions(Math.max(listing.files, 1), cluster.cores) : cluster.cores;
      const listedStates = fileStates(spark, readImages(spark, input), emptyFiles, statePartitions);
      const stored = spark.read.parquet(outputPath(options.output, OUTPUT_LAYOUT.files));
      // Persisted and counted with Spark listing a local input on the driver (see withDriverListing).
      const { diff, counts } = await input.withDriverListing(spark, async () => {
        const diff = await persist(diffFileStates(listedStates, stored));
        const counts = Object.fromEntries(FILE_STATUSES.map((s) => [s, 0])) as Record<FileStatus, number>;
        for (const row of await diff.groupBy("status").count().collect(o)) {
          counts[String(row.get(0)) as FileStatus] = Number(row.get(1));
        }
        return { diff, counts };
      });
      try {
        const listedFiles = counts.new + counts.changed + counts.unchanged;
        // As in a full run, the driver's listing holds Spark's to account: a file Spark skipped fails the run.
        if (listing && listedFiles !== listing.files + listing.emptyFiles.length) {
          throw new PipelineError({
            message: `Spark listed ${listedFiles} files under ${input.uri}, the driver ${listing.files + listing.emptyFiles.length}: the input changed during the run, or files were skipped`,
          });
        }
        const plan = planIncrement(counts, { ...incremental, keepFeatures: options.keepFeatures });
        const toFeaturize = await withStatus(diff, plan.featurize).select("path", "length").collect(o);
        const paths = toFeaturize.filter((r) => Number(r.get(1)) > 0).map((r) => String(r.get(0)));
        const emptyPaths = toFeaturize.filter((r) => Number(r.get(1)) === 0).map((r) => String(r.get(0)));
        const removed =
          counts.removed === 0
            ? []
            : await withStatus(diff, ["removed"]).select("path").orderBy("path").limit(REMOVED_SAMPLE).collect(o);
        return { diff, counts, plan, paths, emptyPaths, removedSample: removed.map((r) => String(r.get(0))) };
      } catch (err) {
        await unpersist(diff).catch(() => undefined);
        throw err;
      }
    },
    listDetail,
  );
  const { diff, counts, plan, paths, emptyPaths, removedSample } = listed;
  const totals = planTotals(counts, plan);
  context.events?.onInputCount?.(totals.featurized);

  const partitions = options.partitions ?? featurizePartitions(Math.max(paths.length, 1), cluster.cores);
  const mlPartitions = cluster.local ? 1 : undefined;
  let featurized: DataFrame | undefined;
  let fitted: FittedReduction | undefined;
  let loaded: PCAModel | undefined;
  try {
    if (totals.featurized > 0) {
      const processed =
        paths.length === 0
          ? undefined
          : await featurizeImages(spark, input, readImages(spark, input, paths), {
              files: paths.length,
              partitions,
              cluster,
              options,
            });
      const empty = emptyPaths.length === 0 ? undefined : emptyFileRows(spark, emptyPaths);
      featurized = await persist(
        processed && empty ? processed.unionByName(empty) : ((processed ?? empty) as DataFrame),
      );
    }
    const made = featurized;
    const { rows, failed, featureDim } = await steps.run(
      "features",
      async (o) => {
        if (!made) return { rows: 0, failed: 0, featureDim: previous.featureDim };
        const totals = await featureTotals(made, o);
        return { ...totals, featureDim: totals.featureDim || previous.featureDim };
      },
      (r) => `${r.rows} rows, ${r.failed} failed${made ? `, ${partitions} tasks` : " (nothing to featurize)"}`,
    );
    if (rows !== totals.featurized) {
      throw new PipelineError({
        message: `featurize returned ${rows} rows for the ${totals.featurized} files to featurize: rows were lost (or the input changed during the run)`,
      });
    }
    if (featureDim !== previous.featureDim) {
      throw new PipelineError({
        message: `the new features have ${featureDim} values, the earlier run's ${previous.featureDim}: not the same model`,
      });
    }

    // The published rows the run keeps (a semi join on the paths the plan keeps).
    const kept = (columns: readonly string[]) =>
      spark.read
        .parquet(dataUri)
        .join(withStatus(diff, plan.keepRows).select("path"), "path", "left_semi")
        .select(...columns);
    const columns = outputColumns(options.keepFeatures);
    const newRows = (model: PCAModel, k: number, from: DataFrame) =>
      project(from, model, k, mlPartitions).select(...columns);
    // With --refit, every row the output will hold, features included (kept rows have them: the
    // plan keeps none without --keep-features).
    const featureColumns = columns.includes("features") ? columns.filter((c) => c !== "pca") : [];
    const unprojected = !plan.refit
      ? undefined
      : plan.keepRows.length === 0
        ? made
        : made
          ? kept(featureColumns).unionByName(made.select(...featureColumns))
          : kept(featureColumns);

    let model: PCAModel;
    let k: number;
    if (plan.refit) {
      if (!unprojected) throw new PipelineError({ message: "--refit: no rows to fit the PCA on" });
      const reduction = incremental.reduction ?? { k: previous.k };
      fitted = await steps.run(
        "pca",
        async (o) =>
          fitReduction(
            unprojected,
            reduction,
            { featureDim, fitRows: await unprojected.where(col("error").isNull()).count(o), partitions: mlPartitions },
            o,
          ),
        (f) => `refitted: k=${f.k}, ${(100 * f.explainedVariance.reduce((a, b) => a + b, 0)).toFixed(1)}% of variance`,
      );
      ({ model, k } = fitted);
    } else {
      const modelUri = previous.pcaModel;
      if (modelUri === null) {
        throw new PipelineError({ message: `${options.output}/run.json names no PCA model to project new rows with` });
      }
      loaded = await steps.run(
        "pca",
        () => PCAModel.load(spark, modelUri),
        () => `saved model, k=${previous.k}`,
      );
      model = loaded;
      k = previous.k;
    }

    const store = outputStore(options.output, context.s3);
    const attempt = newAttempt(options.output);
    const attemptStore = outputStore(attempt.uri, context.s3);
    const append = plan.publication === "append";
    const writes = !append || made !== undefined;
    let publishing = false;
    try {
      let rowsOut = previous.counts.rowsOut;
      let failedOut = previous.counts.failed + failed;
      if (writes) {
        const written = plan.refit
          ? newRows(model, k, unprojected as DataFrame)
          : append
            ? newRows(model, k, made as DataFrame)
            : made
              ? kept(columns).unionByName(newRows(model, k, made))
              : kept(columns);
        const expected = append ? totals.featurized : totals.rows;
        const out = await steps.run(
          "write",
          async (o) => {
            const n = await writeOutput(spark, written, {
              output: attempt.uri,
              mode: "errorifexists",
              keepFeatures: options.keepFeatures,
              model: fitted && {
                model: fitted.model,
                metadata: { k, featureDimension: featureDim, model: options.model ?? null },
              },
              fileStates: withStatus(diff, append ? ["new"] : [...plan.keepRows, ...plan.featurize]),
              store: attemptStore,
              fitOnly: false,
              actionOptions: o,
            });
            if (n !== expected) {
              throw new PipelineError({ message: `wrote ${n} rows where ${expected} were due: rows were lost` });
            }
            if (append) return { rowsOut: rowsOut + n, failedOut };
            // Rewritten: the failed rows of the whole new data/, counted on what was written.
            const errors = await spark.read
              .parquet(outputPath(attempt.uri, OUTPUT_LAYOUT.data))
              .agg(count(col("error")))
              .first(o);
            return { rowsOut: n, failedOut: Number(errors?.get(0) ?? 0) };
          },
          (r) => (append ? `${r.rowsOut - rowsOut} rows appended` : `${r.rowsOut} rows (data/ rewritten)`),
        );
        ({ rowsOut, failedOut } = out);
      }

      const summary = (timingsMs: Partial<Record<Step, number>>): RunSummary => {
        const wallMs = Math.round(performance.now() - started);
        const record: RunRecord = {
          runId: attempt.runId,
          mode: "incremental",
          publishedAt: new Date().toISOString(),
          counts: {
            listed: counts.new + counts.changed + counts.unchanged,
            new: counts.new,
            changed: counts.changed,
            unchanged: counts.unchanged,
            removed: counts.removed,
            pruned: plan.pruned,
            featurized: totals.featurized,
            failed,
          },
          removedSample,
          pcaRefit: plan.refit,
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
            : previous.model,
          counts: { filesIn: rowsOut, rowsOut, failed: failedOut },
          timingsMs,
          wallMs,
          imagesPerSecond: totals.featurized / (wallMs / 1000),
          keepFeatures: options.keepFeatures,
          history: historyAfter(previous.history, record),
          k,
          featureDim,
          partitions,
          explainedVariance: fitted ? fitted.explainedVariance : previous.explainedVariance,
          pcaModel: fitted ? outputPath(options.output, OUTPUT_LAYOUT.pcaModel) : previous.pcaModel,
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
          parts: writes ? [OUTPUT_LAYOUT.data, OUTPUT_LAYOUT.files, ...(fitted ? [OUTPUT_LAYOUT.pcaModel] : [])] : [],
          mode: append ? "append" : "replace",
          report: context.report !== false,
          model,
          // Appended rows join the published ones: the page shows both.
          ...(append ? { data: [dataUri, ...(writes ? [outputPath(attempt.uri, OUTPUT_LAYOUT.data)] : [])] } : {}),
        },
        () => {
          publishing = true;
        },
      );
    } finally {
      if (!publishing) await abandonAttempt(store, attempt).catch(() => undefined);
    }
  } finally {
    await unpersist(diff).catch(() => undefined);
    if (featurized) await unpersist(featurized).catch(() => undefined);
    await fitted?.model.close().catch(() => undefined);
    await loaded?.close().catch(() => undefined);
  }
}
