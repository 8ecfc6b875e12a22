import type { DataFrame } from "../connect/data-frame.ts";
import { callFunction, col, count, least, lit, round, row_number } from "../connect/functions.ts";
import { Window } from "../connect/window.ts";

/** How `orchard train` splits its rows into training and test sets. */
export type TrainSplit =
  /** Per label, the `testFraction` of its rows with the smallest hash of (path, seed). */
  | { readonly kind: "stratified"; readonly testFraction: number; readonly seed: number }
  /** The rows whose path has a folder of this name (`Test` in the Fruits-360 layout) are the test set. */
  | { readonly kind: "folder"; readonly testFolder: string };

/** The boolean column {@link withSplit} adds: true for a test row. */
export const TEST_FLAG = "_orchard_test";

/**
 * `rows` (with `path` and `label`) with {@link TEST_FLAG} added. The stratified split is
 * deterministic and exact per label: the rows of a label are ordered by `xxhash64(path, seed)`
 * (ties by path) and the first round(n × fraction) are the test rows, at most n − 1 so that every
 * label keeps a training row. The same rows and seed always give the same split, wherever they run.
 */
export function withSplit(rows: DataFrame, split: TrainSplit): DataFrame {
  if (split.kind === "folder") {
    return rows.withColumn(TEST_FLAG, col("path").contains(`/${split.testFolder}/`));
  }
  const byLabel = Window.partitionBy("label");
  const rank = row_number().over(byLabel.orderBy(callFunction("xxhash64", col("path"), lit(split.seed)), col("path")));
  const n = count(lit(1)).over(byLabel);
  const testRows = least(round(n.multiply(split.testFraction)), n.minus(1));
  return rows.withColumn(TEST_FLAG, rank.le(testRows));
}
