import type { ActionOptions, DataFrame } from "../connect/data-frame.ts";
import type { SparkSession } from "../connect/spark-session.ts";
import type { PCAModel } from "../ml/pca.ts";

/** The columns of `data/`, in order (DESIGN.md's output schema). */
export function outputColumns(keepFeatures: boolean): string[] {
  return ["path", "label", "width", "height", ...(keepFeatures ? ["features"] : []), "pca", "error"];
}

/**
 * Step 4, write: `data/` as Parquet (one row per input file) and, when a model was fitted in this
 * run, `pca-model/` in Spark ML's format. Returns the number of rows in `data/` read back from
 * storage (0 with `fitOnly`), so the caller can check that nothing was lost.
 */
export async function writeOutput(
  spark: SparkSession,
  projected: DataFrame,
  {
    output,
    mode,
    keepFeatures,
    model,
    fitOnly,
    actionOptions,
  }: {
    output: string;
    mode: "overwrite" | "errorifexists";
    keepFeatures: boolean;
    model: PCAModel | undefined;
    fitOnly: boolean;
    actionOptions?: ActionOptions;
  },
): Promise<number> {
  const root = output.replace(/\/+$/, "");
  // The model and the data are independent writes: Spark Connect runs a session's operations
  // concurrently, and each is a few short jobs, so overlapping them hides one's latency.
  await Promise.all([
    model?.save(`${root}/pca-model`, { overwrite: mode === "overwrite" }),
    fitOnly
      ? undefined
      : projected
          .select(...outputColumns(keepFeatures))
          .write.mode(mode)
          .parquet(`${root}/data`, undefined, actionOptions),
  ]);
  return fitOnly ? 0 : spark.read.parquet(`${root}/data`).count(actionOptions);
}
