import type { DataFrame } from "../connect/data-frame.ts";
import { fetchModelAttribute, readModel, readOperator, transformWithModel } from "../connect/ml-operations.ts";
import type { SparkSession } from "../connect/spark-session.ts";
import type { DenseMatrix } from "../connect/spark-values.ts";
import { MlError } from "./ml-error.ts";
import { newUid, paramsFrom } from "./ml-params.ts";
import { RemoteEstimator } from "./remote-estimator.ts";
import { RemoteModel } from "./remote-model.ts";

const ESTIMATOR_CLASS = "org.apache.spark.ml.clustering.KMeans";
const MODEL_CLASS = "org.apache.spark.ml.clustering.KMeansModel";

/** KMeans's params, PySpark's names and defaults. */
export interface KMeansParams {
  featuresCol: string;
  predictionCol: string;
  /** Number of clusters. */
  k: number;
  /** `k-means||` or `random`. */
  initMode: "k-means||" | "random";
  initSteps: number;
  tol: number;
  maxIter: number;
  /** `euclidean` or `cosine`. */
  distanceMeasure: "euclidean" | "cosine";
  /** Random seed (Spark's default, a hash of the class name, when absent). */
  seed?: number;
  weightCol?: string;
}

const DEFAULTS: KMeansParams = {
  featuresCol: "features",
  predictionCol: "prediction",
  k: 2,
  initMode: "k-means||",
  initSteps: 2,
  tol: 1e-4,
  maxIter: 20,
  distanceMeasure: "euclidean",
};

function loadedParams(loaded: Record<string, unknown>): KMeansParams {
  return paramsFrom(DEFAULTS, loaded, { seed: Number, weightCol: String });
}

/**
 * Spark ML's k-means clustering, fitted on the server (PySpark: `pyspark.ml.clustering.KMeans`).
 *
 * @example
 * const model = await new KMeans({ k: 10, seed: 1 }).fit(df);
 */
export class KMeans extends RemoteEstimator<KMeansParams, KMeansModel> {
  constructor(params: Partial<KMeansParams> = {}, uid = newUid("KMeans")) {
    const p = { ...DEFAULTS, ...params };
    if (!Number.isInteger(p.k) || p.k < 2)
      throw new MlError({ message: `KMeans k must be a whole number >= 2, got ${p.k}` });
    if (!Number.isInteger(p.maxIter) || p.maxIter < 0) {
      throw new MlError({ message: `KMeans maxIter must be a whole number >= 0, got ${p.maxIter}` });
    }
    super(p, uid);
  }

  /** A copy with some params changed (PySpark: `estimator.copy(extra)`). */
  copy(extra: Partial<KMeansParams>): KMeans {
    return new KMeans({ ...this.params, ...extra }, this.uid);
  }

  setK(k: number): KMeans {
    return this.copy({ k });
  }

  setSeed(seed: number): KMeans {
    return this.copy({ seed });
  }

  protected get className(): string {
    return ESTIMATOR_CLASS;
  }

  protected fittedModel(session: SparkSession, ref: string): KMeansModel {
    return new KMeansModel(session, ref, this.uid, this.params);
  }

  /** Loads an estimator saved by orchard or PySpark (PySpark: `KMeans.load(path)`). */
  static async load(session: SparkSession, path: string): Promise<KMeans> {
    const info = await readOperator(session, { className: ESTIMATOR_CLASS, type: "estimator" }, path);
    return new KMeans(loadedParams(info.params), info.uid ?? newUid("KMeans"));
  }
}

/**
 * A fitted k-means model held by the server (PySpark: `pyspark.ml.clustering.KMeansModel`);
 * `transform` adds the cluster index (an int) as `predictionCol`.
 */
export class KMeansModel extends RemoteModel<KMeansParams> {
  /** Loads a model saved in Spark ML's format (PySpark: `KMeansModel.load(path)`). */
  static async load(session: SparkSession, path: string): Promise<KMeansModel> {
    const info = await readModel(session, MODEL_CLASS, path);
    return new KMeansModel(session, info.ref, info.uid ?? newUid("KMeans"), loadedParams(info.params));
  }

  /** The cluster centres, one vector per cluster (PySpark: `model.clusterCenters()`). */
  async clusterCenters(): Promise<Float64Array[]> {
    const m = (await fetchModelAttribute(this.sparkSession, this.ref, "clusterCenterMatrix")) as DenseMatrix;
    return Array.from({ length: m.numRows }, (_, r) => Float64Array.from({ length: m.numCols }, (_, c) => m.get(r, c)));
  }

  /** Length of the feature vectors (PySpark: `model.numFeatures`). */
  async numFeatures(): Promise<number> {
    return Number(await fetchModelAttribute(this.sparkSession, this.ref, "numFeatures"));
  }

  /** Lazily adds the cluster index to `dataset` (PySpark: `model.transform(df)`). */
  transform(dataset: DataFrame, params: Partial<Pick<KMeansParams, "featuresCol" | "predictionCol">> = {}): DataFrame {
    const { featuresCol, predictionCol } = { ...this.params, ...params };
    return transformWithModel(dataset, this.ref, { featuresCol, predictionCol });
  }
}
