import type { DataFrame } from "../connect/data-frame.ts";
import { fetchModelAttribute, readModel, readOperator, transformWithModel } from "../connect/ml-operations.ts";
import type { SparkSession } from "../connect/spark-session.ts";
import type { DenseMatrix } from "../connect/spark-values.ts";
import { MlError } from "./ml-error.ts";
import { newUid, paramsFrom } from "./ml-params.ts";
import { RemoteEstimator } from "./remote-estimator.ts";
import { RemoteModel } from "./remote-model.ts";

const ESTIMATOR_CLASS = "org.apache.spark.ml.classification.LogisticRegression";
const MODEL_CLASS = "org.apache.spark.ml.classification.LogisticRegressionModel";

/** LogisticRegression's params, PySpark's names and defaults. */
export interface LogisticRegressionParams {
  featuresCol: string;
  labelCol: string;
  predictionCol: string;
  probabilityCol: string;
  rawPredictionCol: string;
  maxIter: number;
  /** Regularization strength. */
  regParam: number;
  /** 0 is L2, 1 is L1, between is elastic net. */
  elasticNetParam: number;
  tol: number;
  fitIntercept: boolean;
  standardization: boolean;
  /** `auto` (multinomial when there are more than two classes), `binomial` or `multinomial`. */
  family: "auto" | "binomial" | "multinomial";
  aggregationDepth: number;
  /** Column of instance weights (all 1 when absent). */
  weightCol?: string;
}

/** The columns a fitted model reads and writes. */
type OutputCol = "featuresCol" | "predictionCol" | "probabilityCol" | "rawPredictionCol";

const DEFAULTS: LogisticRegressionParams = {
  featuresCol: "features",
  labelCol: "label",
  predictionCol: "prediction",
  probabilityCol: "probability",
  rawPredictionCol: "rawPrediction",
  maxIter: 100,
  regParam: 0,
  elasticNetParam: 0,
  tol: 1e-6,
  fitIntercept: true,
  standardization: true,
  family: "auto",
  aggregationDepth: 2,
};

function loadedParams(loaded: Record<string, unknown>): LogisticRegressionParams {
  return paramsFrom(DEFAULTS, loaded, { weightCol: String });
}

/**
 * Spark ML's logistic regression (binomial or multinomial), fitted on the server
 * (PySpark: `pyspark.ml.classification.LogisticRegression`). Immutable: `copy` returns a new one.
 *
 * @example
 * const model = await new LogisticRegression({ family: "multinomial", regParam: 0.01 }).fit(train);
 */
export class LogisticRegression extends RemoteEstimator<LogisticRegressionParams, LogisticRegressionModel> {
  constructor(params: Partial<LogisticRegressionParams> = {}, uid = newUid("LogisticRegression")) {
    const p = { ...DEFAULTS, ...params };
    if (!Number.isInteger(p.maxIter) || p.maxIter < 0) {
      throw new MlError({ message: `LogisticRegression maxIter must be a whole number >= 0, got ${p.maxIter}` });
    }
    if (!(p.regParam >= 0))
      throw new MlError({ message: `LogisticRegression regParam must be >= 0, got ${p.regParam}` });
    if (!(p.elasticNetParam >= 0 && p.elasticNetParam <= 1)) {
      throw new MlError({ message: `LogisticRegression elasticNetParam must be in [0, 1], got ${p.elasticNetParam}` });
    }
    super(p, uid);
  }

  /** A copy with some params changed (PySpark: `estimator.copy(extra)`). */
  copy(extra: Partial<LogisticRegressionParams>): LogisticRegression {
    return new LogisticRegression({ ...this.params, ...extra }, this.uid);
  }

  protected get className(): string {
    return ESTIMATOR_CLASS;
  }

  protected fittedModel(session: SparkSession, ref: string): LogisticRegressionModel {
    return new LogisticRegressionModel(session, ref, this.uid, this.params);
  }

  /** Loads an estimator saved by orchard or PySpark (PySpark: `LogisticRegression.load(path)`). */
  static async load(session: SparkSession, path: string): Promise<LogisticRegression> {
    const info = await readOperator(session, { className: ESTIMATOR_CLASS, type: "estimator" }, path);
    return new LogisticRegression(loadedParams(info.params), info.uid ?? newUid("LogisticRegression"));
  }
}

/**
 * A fitted logistic regression held by the server (PySpark:
 * `pyspark.ml.classification.LogisticRegressionModel`). `transform` adds `rawPrediction`,
 * `probability` (a vector over the classes) and `prediction` (the class index, a double).
 */
export class LogisticRegressionModel extends RemoteModel<LogisticRegressionParams> {
  /** Loads a model saved in Spark ML's format (PySpark: `LogisticRegressionModel.load(path)`). */
  static async load(session: SparkSession, path: string): Promise<LogisticRegressionModel> {
    const info = await readModel(session, MODEL_CLASS, path);
    return new LogisticRegressionModel(
      session,
      info.ref,
      info.uid ?? newUid("LogisticRegression"),
      loadedParams(info.params),
    );
  }

  /** Number of classes (PySpark: `model.numClasses`). */
  async numClasses(): Promise<number> {
    return Number(await fetchModelAttribute(this.sparkSession, this.ref, "numClasses"));
  }

  /** Length of the feature vectors (PySpark: `model.numFeatures`). */
  async numFeatures(): Promise<number> {
    return Number(await fetchModelAttribute(this.sparkSession, this.ref, "numFeatures"));
  }

  /** `numClasses x numFeatures` coefficients (PySpark: `model.coefficientMatrix`). */
  async coefficientMatrix(): Promise<DenseMatrix> {
    return (await fetchModelAttribute(this.sparkSession, this.ref, "coefficientMatrix")) as DenseMatrix;
  }

  /** One intercept per class (PySpark: `model.interceptVector`). */
  async interceptVector(): Promise<Float64Array> {
    return (await fetchModelAttribute(this.sparkSession, this.ref, "interceptVector")) as Float64Array;
  }

  /** Lazily adds the prediction columns to `dataset` (PySpark: `model.transform(df)`). */
  transform(dataset: DataFrame, params: Partial<Pick<LogisticRegressionParams, OutputCol>> = {}): DataFrame {
    const p = { ...this.params, ...params };
    const { featuresCol, predictionCol, probabilityCol, rawPredictionCol } = p;
    return transformWithModel(dataset, this.ref, { featuresCol, predictionCol, probabilityCol, rawPredictionCol });
  }
}
