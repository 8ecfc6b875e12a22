import type { ActionOptions, DataFrame } from "../connect/data-frame.ts";
import { evaluateWith, readOperator, writeOperator } from "../connect/ml-operations.ts";
import type { SparkSession } from "../connect/spark-session.ts";
import { newUid, paramsFrom, toMlParams } from "./ml-params.ts";

const CLASS = "org.apache.spark.ml.evaluation.MulticlassClassificationEvaluator";

/** The metrics Spark's MulticlassClassificationEvaluator computes. */
export type MulticlassMetric =
  | "f1"
  | "accuracy"
  | "weightedPrecision"
  | "weightedRecall"
  | "weightedTruePositiveRate"
  | "weightedFalsePositiveRate"
  | "weightedFMeasure"
  | "truePositiveRateByLabel"
  | "falsePositiveRateByLabel"
  | "precisionByLabel"
  | "recallByLabel"
  | "fMeasureByLabel"
  | "logLoss"
  | "hammingLoss";

/** MulticlassClassificationEvaluator's params, PySpark's names and defaults. */
export interface MulticlassClassificationEvaluatorParams {
  /** `f1` is the weighted F-measure. */
  metricName: MulticlassMetric;
  labelCol: string;
  predictionCol: string;
  probabilityCol: string;
  /** The class the `...ByLabel` metrics are about. */
  metricLabel: number;
  beta: number;
  eps: number;
  weightCol?: string;
}

const DEFAULTS: MulticlassClassificationEvaluatorParams = {
  metricName: "f1",
  labelCol: "label",
  predictionCol: "prediction",
  probabilityCol: "probability",
  metricLabel: 0,
  beta: 1,
  eps: 1e-15,
};

const SMALLER_IS_BETTER: ReadonlySet<MulticlassMetric> = new Set([
  "weightedFalsePositiveRate",
  "falsePositiveRateByLabel",
  "logLoss",
  "hammingLoss",
]);

/**
 * Spark ML's multiclass evaluator, run on the server over a DataFrame of predictions
 * (PySpark: `pyspark.ml.evaluation.MulticlassClassificationEvaluator`).
 *
 * @example
 * const accuracy = await new MulticlassClassificationEvaluator({ metricName: "accuracy" }).evaluate(predictions);
 */
export class MulticlassClassificationEvaluator {
  readonly uid: string;
  readonly params: Readonly<MulticlassClassificationEvaluatorParams>;

  constructor(
    params: Partial<MulticlassClassificationEvaluatorParams> = {},
    uid = newUid("MulticlassClassificationEvaluator"),
  ) {
    this.params = { ...DEFAULTS, ...params };
    this.uid = uid;
  }

  /** A copy with some params changed (PySpark: `evaluator.copy(extra)`). */
  copy(extra: Partial<MulticlassClassificationEvaluatorParams>): MulticlassClassificationEvaluator {
    return new MulticlassClassificationEvaluator({ ...this.params, ...extra }, this.uid);
  }

  setMetricName(metricName: MulticlassMetric): MulticlassClassificationEvaluator {
    return this.copy({ metricName });
  }

  /** The metric over `dataset`, computed on the server (PySpark: `evaluator.evaluate(df)`). */
  async evaluate(dataset: DataFrame, options?: ActionOptions): Promise<number> {
    return evaluateWith(dataset, { className: CLASS, uid: this.uid, params: toMlParams(this.params) }, options);
  }

  /** Whether a larger value of the metric is better (PySpark: `evaluator.isLargerBetter()`). */
  isLargerBetter(): boolean {
    return !SMALLER_IS_BETTER.has(this.params.metricName);
  }

  /** Saves in Spark ML's format (PySpark: `evaluator.write().save(path)`). */
  async save(session: SparkSession, path: string, { overwrite = false } = {}): Promise<void> {
    await writeOperator(
      session,
      { className: CLASS, uid: this.uid, type: "evaluator", params: toMlParams(this.params) },
      { path, overwrite },
    );
  }

  /** Loads one saved by orchard or PySpark (PySpark: `MulticlassClassificationEvaluator.load(path)`). */
  static async load(session: SparkSession, path: string): Promise<MulticlassClassificationEvaluator> {
    const info = await readOperator(session, { className: CLASS, type: "evaluator" }, path);
    return new MulticlassClassificationEvaluator(
      paramsFrom(DEFAULTS, info.params, { weightCol: String }),
      info.uid ?? newUid("MulticlassClassificationEvaluator"),
    );
  }
}
