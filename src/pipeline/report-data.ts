import type { ActionOptions } from "../connect/data-frame.ts";
import { array_to_vector, col, desc, element_at, expr, lit, size } from "../connect/functions.ts";
import type { SparkSession } from "../connect/spark-session.ts";
import { clusteringAgreement } from "../ml/clustering-agreement.ts";
import { KMeans } from "../ml/kmeans.ts";
import { PCAModel } from "../ml/pca.ts";
import { OUTPUT_LAYOUT, outputPath } from "./output-layout.ts";
import type { ProjectedPoint } from "./report-charts.ts";
import { DEFAULT_MAX_POINTS } from "./report-options.ts";
import type { RunSummary } from "./run-summary.ts";
import type { ClassifierMetrics } from "./train-summary.ts";

/** KMeans on the output's `pca` column, against the labels (the report's clustering section). */
export interface ReportClustering {
  readonly k: number;
  readonly seed: number;
  /** Adjusted Rand index of the clusters against the labels, over every projected row. */
  readonly adjustedRandIndex: number;
  readonly purity: number;
  readonly rows: number;
}

/** A classifier's test-set figures (from `orchard train`'s run.json) shown in the report. */
export interface ReportClassifier {
  /** Where the classifier folder is. */
  readonly model: string;
  readonly metrics: ClassifierMetrics;
  readonly testRows: number;
}

/** The KMeans seed of the report's clustering when none is given. */
const DEFAULT_CLUSTER_SEED = 1;

/** At most this many distinct errors are listed. */
const MAX_ERROR_GROUPS = 50;

/** Everything the report shows, gathered from the output folder. */
export interface ReportData {
  readonly summary: RunSummary;
  /** The explained-variance spectrum to draw and where it came from. */
  readonly variance?: {
    readonly explained: number[];
    /** `model`: every component the saved model holds; `run.json`: only the kept ones. */
    readonly source: "model" | "run.json";
  };
  /** The 2-D projection; absent when the run wrote no `data/` (`orchard fit`). */
  readonly projection?: {
    readonly points: ProjectedPoint[];
    /** Rows with a projection (failed images have none). */
    readonly total: number;
    /** Whether `points` is a deterministic sample of `total`. */
    readonly sampled: boolean;
    readonly maxPoints: number;
    /** 1 when the output has a single component (drawn on PC 1 only). */
    readonly components: number;
  };
  /** Failed rows grouped by error message, most frequent first (at most MAX_ERROR_GROUPS). */
  readonly failures: { readonly error: string; readonly count: number }[];
  /** Distinct error messages in all. */
  readonly errorGroups: number;
  /** KMeans over the projected rows; absent when there are fewer than 2 labels or too few rows. */
  readonly clustering?: ReportClustering;
  /** The classifier's figures, when the report is made for one. */
  readonly classifier?: ReportClassifier;
}

/** What the report's clustering and classifier sections take. */
export interface ReportExtras {
  /** KMeans clusters (default: the number of labels among the projected rows); `false` skips clustering. */
  readonly clusters?: number | false;
  /** KMeans's seed (default 1). */
  readonly seed?: number;
  readonly classifier?: ReportClassifier;
}

/**
 * Reads what the report needs with orchard's own client: the 2-D projection (`pca[0]`, `pca[1]`,
 * at most `maxPoints` rows, chosen by a hash of the path so the same output always gives the same
 * sample), failures grouped on the server (`groupBy(error).count()`), and the variance spectrum
 * (`spectrum` when the caller has it, else the saved model's, else run.json's kept components).
 */
export async function collectReportData(
  spark: SparkSession,
  output: string,
  summary: RunSummary,
  {
    spectrum,
    maxPoints = DEFAULT_MAX_POINTS,
    actionOptions,
    clusters,
    seed = DEFAULT_CLUSTER_SEED,
    classifier,
    data: dataFolders,
  }: {
    spectrum?: readonly number[];
    maxPoints?: number;
    actionOptions?: ActionOptions;
    /** The Parquet folders that hold the output's rows (default its `data/`). */
    data?: readonly string[];
  } & ReportExtras = {},
): Promise<ReportData> {
  const variance = spectrum
    ? { explained: [...spectrum], source: "model" as const }
    : await modelSpectrum(spark, [outputPath(output, OUTPUT_LAYOUT.pcaModel), summary.pcaModel]).then((explained) =>
        explained ? { explained, source: "model" as const } : summaryVariance(summary),
      );

  const wroteData = summary.counts.rowsOut > 0;
  if (!wroteData) {
    return {
      summary,
      ...(variance ? { variance } : {}),
      failures: [],
      errorGroups: 0,
      ...(classifier ? { classifier } : {}),
    };
  }
  const data = spark.read.parquet(dataFolders ?? outputPath(output, OUTPUT_LAYOUT.data));
  const projected = data.where(
    col("pca")
      .isNotNull()
      .and(size(col("pca")).ge(1)),
  );
  const errors = data.where(col("error").isNotNull()).groupBy("error").count();
  // The report's queries are small, and Spark Connect runs a session's operations concurrently:
  // those that do not depend on each other go together, so their latencies overlap.
  const [total, labels, errorGroups, grouped] = await Promise.all([
    projected.count(actionOptions),
    clusters === undefined
      ? projected.select("label").where(col("label").isNotNull()).distinct().count(actionOptions)
      : undefined,
    errors.count(actionOptions),
    errors.orderBy(desc("count"), col("error")).limit(MAX_ERROR_GROUPS).collect(actionOptions),
  ]);
  const components = Math.min(2, summary.k);
  const sample =
    total > maxPoints ? projected.orderBy(expr("xxhash64(path)"), col("path")).limit(maxPoints) : projected;
  const k = clusters === false ? undefined : (clusters ?? labels);
  const kmeans =
    k !== undefined && k >= 2 && total > k
      ? await new KMeans({ k, seed, featuresCol: CLUSTER_VECTOR, predictionCol: "cluster" }).fit(
          projected.withColumn(CLUSTER_VECTOR, array_to_vector(col("pca"))),
          actionOptions,
        )
      : undefined;
  try {
    const clustered = (df: typeof projected) =>
      kmeans ? kmeans.transform(df.withColumn(CLUSTER_VECTOR, array_to_vector(col("pca")))) : df;
    const [rows, clustering] = await Promise.all([
      clustered(sample)
        .select(
          col("path"),
          col("label"),
          element_at(col("pca"), 1).cast("double").alias("x"),
          (components >= 2 ? element_at(col("pca"), 2).cast("double") : lit(0).cast("double")).alias("y"),
          (kmeans ? col("cluster") : lit(null).cast("int")).alias("cluster"),
        )
        .collect(actionOptions),
      kmeans && k !== undefined
        ? clusteringAgreement(clustered(projected), { classCol: "label", clusterCol: "cluster" }, actionOptions).then(
            (a) => ({ k, seed, adjustedRandIndex: a.adjustedRandIndex, purity: a.purity, rows: a.rows }),
          )
        : undefined,
    ]);
    const points = rows.map((r) => ({
      path: String(r.get(0)),
      label: r.get(1) === null ? "(none)" : String(r.get(1)),
      x: Number(r.get(2)),
      y: Number(r.get(3)),
      ...(r.get(4) === null ? {} : { cluster: Number(r.get(4)) }),
    }));
    return {
      summary,
      ...(variance ? { variance } : {}),
      projection: { points, total, sampled: total > maxPoints, maxPoints, components },
      failures: grouped.map((r) => ({ error: String(r.get(0)), count: Number(r.get(1)) })),
      errorGroups,
      ...(clustering ? { clustering } : {}),
      ...(classifier ? { classifier } : {}),
    };
  } finally {
    await kmeans?.close().catch(() => undefined);
  }
}

/** The column the report's KMeans reads. */
const CLUSTER_VECTOR = "_orchard_cluster_vec";
function summaryVariance(summary: RunSummary): ReportData["variance"] {
  return summary.explainedVariance && summary.explainedVariance.length > 0
    ? { explained: summary.explainedVariance, source: "run.json" }
    : undefined;
}

/**
 * The full spectrum of the first saved model that loads: the output's own `pca-model/` (also when
 * the folder was moved), else the one run.json names (`orchard transform` projects with a model
 * saved elsewhere); undefined when none loads.
 */
async function modelSpectrum(spark: SparkSession, uris: readonly (string | null)[]): Promise<number[] | undefined> {
  for (const uri of new Set(uris)) {
    if (!uri) continue;
    let model: PCAModel | undefined;
    try {
      model = await PCAModel.load(spark, uri);
      return Array.from(await model.explainedVariance());
    } catch {
      // not there or not a PCA model: try the next place
    } finally {
      await model?.close().catch(() => undefined);
    }
  }
  return undefined;
}
