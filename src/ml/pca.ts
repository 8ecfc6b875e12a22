import type { ActionOptions, DataFrame } from "../connect/data-frame.ts";
import {
  fetchModelAttribute,
  fitEstimator,
  type MlParams,
  readModel,
  transformWithModel,
} from "../connect/ml-operations.ts";
import type { SparkSession } from "../connect/spark-session.ts";
import type { DenseMatrix } from "../connect/spark-values.ts";
import { MlError } from "./ml-error.ts";
import { newUid } from "./ml-params.ts";
import { RemoteModel } from "./remote-model.ts";

const PCA_CLASS = "org.apache.spark.ml.feature.PCA";
const PCA_MODEL_CLASS = "org.apache.spark.ml.feature.PCAModel";

/** PCA's params, PySpark names. */
export interface PCAParams {
  /** Number of principal components. */
  k: number;
  inputCol: string;
  outputCol: string;
}

/** PCA's params as Spark ML params (each one named, so a new field cannot be forgotten unchecked). */
function pcaMlParams({ k, inputCol, outputCol }: Readonly<PCAParams>): MlParams {
  return { k, inputCol, outputCol };
}

/**
 * Spark ML's PCA estimator, fitted on the server (PySpark: `pyspark.ml.feature.PCA`).
 * Immutable: `setK` and friends return a new estimator.
 *
 * @example
 * const model = await new PCA({ k: 50, inputCol: "vec", outputCol: "pca" }).fit(df);
 */
export class PCA {
  readonly uid: string;
  readonly params: Readonly<PCAParams>;

  constructor(params: Partial<PCAParams> & Pick<PCAParams, "k">, uid = newUid("PCA")) {
    if (!Number.isInteger(params.k) || params.k < 1) {
      throw new MlError({ message: `PCA k must be a positive integer, got ${params.k}` });
    }
    this.params = { inputCol: "features", outputCol: "pca", ...params };
    this.uid = uid;
  }

  setK(k: number): PCA {
    return new PCA({ ...this.params, k }, this.uid);
  }

  setInputCol(inputCol: string): PCA {
    return new PCA({ ...this.params, inputCol }, this.uid);
  }

  setOutputCol(outputCol: string): PCA {
    return new PCA({ ...this.params, outputCol }, this.uid);
  }

  /** Fits on the server; the returned model lives in the session until {@link PCAModel.close}. */
  async fit(dataset: DataFrame, options?: ActionOptions): Promise<PCAModel> {
    const info = await fitEstimator(
      dataset,
      { className: PCA_CLASS, uid: this.uid, params: pcaMlParams(this.params) },
      options,
    );
    return new PCAModel(dataset.sparkSession, info.ref, this.uid, this.params);
  }
}

/**
 * A fitted PCA held by the Spark Connect server (PySpark: `pyspark.ml.feature.PCAModel`).
 * Call {@link close} (or use `await using`) to free it on the server.
 */
export class PCAModel extends RemoteModel<PCAParams> {
  /** Loads a model saved in Spark ML's format (PySpark: `PCAModel.load(path)`). */
  static async load(session: SparkSession, path: string): Promise<PCAModel> {
    const info = await readModel(session, PCA_MODEL_CLASS, path);
    const p = info.params;
    return new PCAModel(session, info.ref, info.uid ?? newUid("PCA"), {
      k: Number(p.k),
      inputCol: String(p.inputCol ?? "features"),
      outputCol: String(p.outputCol ?? "pca"),
    });
  }

  /** Share of variance explained by each component, in order (PySpark: `model.explainedVariance`). */
  async explainedVariance(): Promise<Float64Array> {
    return (await fetchModelAttribute(this.sparkSession, this.ref, "explainedVariance")) as Float64Array;
  }

  /** The principal components, one per column, `numFeatures x k` (PySpark: `model.pc`). */
  async pc(): Promise<DenseMatrix> {
    return (await fetchModelAttribute(this.sparkSession, this.ref, "pc")) as DenseMatrix;
  }

  /** Lazily projects `inputCol` of `dataset` into `outputCol` (PySpark: `model.transform(df)`). */
  transform(dataset: DataFrame, params: Partial<Pick<PCAParams, "inputCol" | "outputCol">> = {}): DataFrame {
    const { inputCol, outputCol } = { ...this.params, ...params };
    return transformWithModel(dataset, this.ref, { inputCol, outputCol });
  }
}
