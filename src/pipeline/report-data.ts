import type { ActionOptions } from "../connect/data-frame.ts";
import { col, desc, element_at, expr, lit, size } from "../connect/functions.ts";
import type { SparkSession } from "../connect/spark-session.ts";
import { PCAModel } from "../ml/pca.ts";
import { OUTPUT_LAYOUT, outputPath } from "./output-layout.ts";
import type { ProjectedPoint } from "./report-charts.ts";
import { DEFAULT_MAX_POINTS } from "./report-options.ts";
import type { RunSummary } from "./run-summary.ts";

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
  }: { spectrum?: readonly number[]; maxPoints?: number; actionOptions?: ActionOptions } = {},
): Promise<ReportData> {
  const variance = spectrum
    ? { explained: [...spectrum], source: "model" as const }
    : await modelSpectrum(spark, [outputPath(output, OUTPUT_LAYOUT.pcaModel), summary.pcaModel]).then((explained) =>
        explained ? { explained, source: "model" as const } : summaryVariance(summary),
      );

  const wroteData = summary.counts.rowsOut > 0;
  if (!wroteData) {
    return { summary, ...(variance ? { variance } : {}), failures: [], errorGroups: 0 };
  }
  const data = spark.read.parquet(outputPath(output, OUTPUT_LAYOUT.data));
  const projected = data.where(
    col("pca")
      .isNotNull()
      .and(size(col("pca")).ge(1)),
  );
  const total = await projected.count(actionOptions);
  const components = Math.min(2, summary.k);
  const sample =
    total > maxPoints ? projected.orderBy(expr("xxhash64(path)"), col("path")).limit(maxPoints) : projected;
  const rows = await sample
    .select(
      col("path"),
      col("label"),
      element_at(col("pca"), 1).cast("double").alias("x"),
      (components >= 2 ? element_at(col("pca"), 2).cast("double") : lit(0).cast("double")).alias("y"),
    )
    .collect(actionOptions);
  const points = rows.map((r) => ({
    path: String(r.get(0)),
    label: r.get(1) === null ? "(none)" : String(r.get(1)),
    x: Number(r.get(2)),
    y: Number(r.get(3)),
  }));

  const errors = data.where(col("error").isNotNull()).groupBy("error").count();
  const groups = await errors.count(actionOptions);
  const grouped = await errors.orderBy(desc("count"), col("error")).limit(MAX_ERROR_GROUPS).collect(actionOptions);
  return {
    summary,
    ...(variance ? { variance } : {}),
    projection: { points, total, sampled: total > maxPoints, maxPoints, components },
    failures: grouped.map((r) => ({ error: String(r.get(0)), count: Number(r.get(1)) })),
    errorGroups: groups,
  };
}

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
