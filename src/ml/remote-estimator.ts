import type { ActionOptions, DataFrame } from "../connect/data-frame.ts";
import { fitEstimator, writeOperator } from "../connect/ml-operations.ts";
import type { SparkSession } from "../connect/spark-session.ts";
import { toMlParams } from "./ml-params.ts";

/**
 * What every Spark ML estimator orchard drives over Spark Connect shares: its uid and params, a
 * fit on the server that yields the fitted model, and saving the unfitted estimator in Spark ML's
 * format. PySpark: a `JavaEstimator` in Connect mode.
 */
export abstract class RemoteEstimator<P extends object, M> {
  readonly uid: string;
  readonly params: Readonly<P>;

  protected constructor(params: Readonly<P>, uid: string) {
    this.params = params;
    this.uid = uid;
  }

  /** Spark ML's class of the estimator (e.g. `org.apache.spark.ml.clustering.KMeans`). */
  protected abstract get className(): string;

  /** The fitted model the server holds as `ref`. */
  protected abstract fittedModel(session: SparkSession, ref: string): M;

  /** Fits on the server; the model lives in the session until its `close` (PySpark: `estimator.fit(df)`). */
  async fit(dataset: DataFrame, options?: ActionOptions): Promise<M> {
    const info = await fitEstimator(
      dataset,
      { className: this.className, uid: this.uid, params: toMlParams(this.params) },
      options,
    );
    return this.fittedModel(dataset.sparkSession, info.ref);
  }

  /** Saves the (unfitted) estimator in Spark ML's format (PySpark: `estimator.write().save(path)`). */
  async save(session: SparkSession, path: string, { overwrite = false } = {}): Promise<void> {
    await writeOperator(
      session,
      { className: this.className, uid: this.uid, type: "estimator", params: toMlParams(this.params) },
      { path, overwrite },
    );
  }
}
