import type { ActionOptions, DataFrame } from "../connect/data-frame.ts";
import { array_to_vector, col, lit, slice, vector_to_array } from "../connect/functions.ts";
import { PCA, type PCAModel } from "../ml/pca.ts";
import { PipelineError } from "./pipeline-error.ts";

/**
 * Step 3, reduce: Spark ML's PCA, fitted and applied on the server. Failed images (null features)
 * are left out of the fit and kept in the output with a null `pca`.
 */

/** The smallest k whose cumulative explained variance reaches `share` (all of them if none does). */
export function componentsFor(explained: ArrayLike<number>, share: number): number {
  let total = 0;
  for (let i = 0; i < explained.length; i++) {
    total += explained[i] as number;
    if (total >= share - 1e-12) return i + 1;
  }
  return explained.length;
}

export interface FittedReduction {
  readonly model: PCAModel;
  /** Components kept in the output (<= the model's k when chosen by variance). */
  readonly k: number;
  /** Explained-variance share of each kept component. */
  readonly explainedVariance: number[];
}

const VECTOR = "_orchard_vec";
const PROJECTED = "_orchard_pca";

/**
 * The rows whose image was featurized, with the features as an ML vector in `_orchard_vec`, in
 * `partitions` tasks when given (merged without a shuffle).
 */
function withVectors(featurized: DataFrame, partitions?: number): DataFrame {
  const vectors = featurized.where(col("error").isNull()).withColumn(VECTOR, array_to_vector(col("features")));
  return partitions === undefined ? vectors : vectors.coalesce(partitions);
}

/**
 * Fits one PCA. With `{ k }` it keeps k components. With `{ variance }` it fits once with as many
 * components as there are features (the spectrum of a single fit is complete) and keeps the smallest
 * k reaching that share; the saved model then holds every component and `run.json` records k.
 */
export async function fitReduction(
  featurized: DataFrame,
  reduction: { k: number } | { variance: number },
  { featureDim, fitRows, partitions }: { featureDim: number; fitRows: number; partitions?: number },
  options?: ActionOptions,
): Promise<FittedReduction> {
  if (fitRows < 2) {
    throw new PipelineError({ message: `PCA needs at least 2 processed images, got ${fitRows}` });
  }
  const fitK = "k" in reduction ? reduction.k : featureDim;
  if (fitK > featureDim) {
    throw new PipelineError({ message: `k=${fitK} is more than the ${featureDim} features the model produces` });
  }
  const model = await new PCA({ k: fitK, inputCol: VECTOR, outputCol: PROJECTED }).fit(
    withVectors(featurized, partitions),
    options,
  );
  const explained = Array.from(await model.explainedVariance());
  const k = "k" in reduction ? fitK : componentsFor(explained, reduction.variance);
  return { model, k, explainedVariance: explained.slice(0, k) };
}

/**
 * Projects every featurized image onto the first `k` components of `model` as `pca array<float>`
 * (in `partitions` tasks when given); failed rows get a null `pca`. Columns out: those of
 * `featurized` plus `pca`.
 */
export function project(featurized: DataFrame, model: PCAModel, k: number, partitions?: number): DataFrame {
  const ok = model
    .transform(withVectors(featurized, partitions), { inputCol: VECTOR, outputCol: PROJECTED })
    .withColumn("pca", slice(vector_to_array(col(PROJECTED), "float32"), 1, k))
    .drop(VECTOR, PROJECTED);
  const failed = featurized.where(col("error").isNotNull()).withColumn("pca", lit(null).cast("array<float>"));
  return ok.unionByName(failed);
}
