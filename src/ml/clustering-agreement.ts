import type { ActionOptions, DataFrame } from "../connect/data-frame.ts";
import { col, count, desc, lit, row_number, sum, when } from "../connect/functions.ts";
import { Window } from "../connect/window.ts";
import { MlError } from "./ml-error.ts";

/** How well a clustering agrees with known classes. */
export interface ClusteringAgreement {
  /** Adjusted Rand index: 1 for identical partitions, about 0 for a random one (can be negative). */
  readonly adjustedRandIndex: number;
  /** Share of rows whose cluster's most common class is their own. */
  readonly purity: number;
  /** Rows counted (those with both a class and a cluster). */
  readonly rows: number;
  readonly classes: number;
  readonly clusters: number;
}

/**
 * The adjusted Rand index (Hubert and Arabie) and the purity of the clusters in `clusterCol`
 * against the classes in `classCol`, computed on the server: the contingency table
 * (`groupBy(class, cluster).count()`) and one aggregation over it, so only six numbers come back.
 * PySpark has no built-in for either (scikit-learn: `adjusted_rand_score`).
 *
 * With n_ij the table's counts, a_i its row sums and b_j its column sums,
 * ARI = (Σ C(n_ij,2) − Σ C(a_i,2) Σ C(b_j,2) / C(n,2)) / (½(Σ C(a_i,2) + Σ C(b_j,2)) − Σ C(a_i,2) Σ C(b_j,2) / C(n,2)),
 * where Σ_i C(a_i,2) is summed over the table's cells as Σ n_ij (a_i − 1) / 2.
 */
export async function clusteringAgreement(
  dataset: DataFrame,
  { classCol, clusterCol }: { classCol: string; clusterCol: string },
  options?: ActionOptions,
): Promise<ClusteringAgreement> {
  const cells = dataset
    .where(col(classCol).isNotNull().and(col(clusterCol).isNotNull()))
    .groupBy(col(classCol).alias("c"), col(clusterCol).alias("k"))
    .agg(count(lit(1)).alias("n"))
    .withColumn("a", sum(col("n")).over(Window.partitionBy("c")))
    .withColumn("b", sum(col("n")).over(Window.partitionBy("k")))
    .withColumn("top", row_number().over(Window.partitionBy("k").orderBy(desc("n"), col("c"))))
    .withColumn("firstOfClass", row_number().over(Window.partitionBy("c").orderBy(col("k"))));
  const pairs = (x: string) => col("n").cast("double").multiply(col(x).cast("double").minus(1)).divide(2);
  const totals = await cells
    .agg(
      sum(col("n")).alias("rows"),
      sum(pairs("n")).alias("index"),
      sum(pairs("a")).alias("rowPairs"),
      sum(pairs("b")).alias("colPairs"),
      sum(when(col("top").eq(1), col("n")).otherwise(0)).alias("majority"),
      count(when(col("top").eq(1), 1)).alias("clusters"),
      count(when(col("firstOfClass").eq(1), 1)).alias("classes"),
    )
    .first(options);
  const rows = Number(totals?.get("rows") ?? 0);
  if (rows < 2) throw new MlError({ message: `clustering agreement needs at least 2 rows, got ${rows}` });
  const [index, rowPairs, colPairs] = ["index", "rowPairs", "colPairs"].map((k) => Number(totals?.get(k)));
  const expected = ((rowPairs as number) * (colPairs as number)) / ((rows * (rows - 1)) / 2);
  const maximum = ((rowPairs as number) + (colPairs as number)) / 2;
  // Both partitions a single block (or all singletons): they agree perfectly.
  const ari = maximum === expected ? 1 : ((index as number) - expected) / (maximum - expected);
  return {
    adjustedRandIndex: ari,
    purity: Number(totals?.get("majority")) / rows,
    rows,
    classes: Number(totals?.get("classes")),
    clusters: Number(totals?.get("clusters")),
  };
}
