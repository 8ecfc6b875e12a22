import type { DataFrame } from "../connect/data-frame.ts";
import { fetchModelAttribute, readModel, readOperator, transformWithModel } from "../connect/ml-operations.ts";
import type { SparkSession } from "../connect/spark-session.ts";
import { newUid, paramsFrom, toMlParams } from "./ml-params.ts";
import { RemoteEstimator } from "./remote-estimator.ts";
import { RemoteModel } from "./remote-model.ts";

const ESTIMATOR_CLASS = "org.apache.spark.ml.feature.StringIndexer";
const MODEL_CLASS = "org.apache.spark.ml.feature.StringIndexerModel";

/** StringIndexer's params (one column), PySpark's names and defaults. */
export interface StringIndexerParams {
  inputCol: string;
  outputCol: string;
  /** What a label unseen when fitting becomes: `error` (fail), `skip` (drop the row), `keep` (index numLabels). */
  handleInvalid: "error" | "skip" | "keep";
  /** Index order: `frequencyDesc` (most frequent is 0), `frequencyAsc`, `alphabetDesc`, `alphabetAsc`. */
  stringOrderType: "frequencyDesc" | "frequencyAsc" | "alphabetDesc" | "alphabetAsc";
}

const DEFAULTS: StringIndexerParams = {
  inputCol: "label",
  outputCol: "labelIndex",
  handleInvalid: "error",
  stringOrderType: "frequencyDesc",
};

/**
 * Spark ML's StringIndexer: maps a string column to indices 0..n-1, fitted on the server
 * (PySpark: `pyspark.ml.feature.StringIndexer`). PySpark has no default for `inputCol` and
 * `outputCol`; orchard's are `label` and `labelIndex`.
 */
export class StringIndexer extends RemoteEstimator<StringIndexerParams, StringIndexerModel> {
  constructor(params: Partial<StringIndexerParams> = {}, uid = newUid("StringIndexer")) {
    super({ ...DEFAULTS, ...params }, uid);
  }

  /** A copy with some params changed (PySpark: `estimator.copy(extra)`). */
  copy(extra: Partial<StringIndexerParams>): StringIndexer {
    return new StringIndexer({ ...this.params, ...extra }, this.uid);
  }

  protected get className(): string {
    return ESTIMATOR_CLASS;
  }

  protected fittedModel(session: SparkSession, ref: string): StringIndexerModel {
    return new StringIndexerModel(session, ref, this.uid, this.params);
  }

  /** Loads an estimator saved by orchard or PySpark (PySpark: `StringIndexer.load(path)`). */
  static async load(session: SparkSession, path: string): Promise<StringIndexer> {
    const info = await readOperator(session, { className: ESTIMATOR_CLASS, type: "estimator" }, path);
    return new StringIndexer(paramsFrom(DEFAULTS, info.params), info.uid ?? newUid("StringIndexer"));
  }
}

/** A fitted StringIndexer held by the server (PySpark: `pyspark.ml.feature.StringIndexerModel`). */
export class StringIndexerModel extends RemoteModel<StringIndexerParams> {
  /** Loads a model saved in Spark ML's format (PySpark: `StringIndexerModel.load(path)`). */
  static async load(session: SparkSession, path: string): Promise<StringIndexerModel> {
    const info = await readModel(session, MODEL_CLASS, path);
    return new StringIndexerModel(
      session,
      info.ref,
      info.uid ?? newUid("StringIndexer"),
      paramsFrom(DEFAULTS, info.params),
    );
  }

  /** The labels in index order: `labels()[i]` has index i (PySpark: `model.labels`). */
  async labels(): Promise<string[]> {
    const all = (await fetchModelAttribute(this.sparkSession, this.ref, "labelsArray")) as unknown[][];
    return (all[0] ?? []).map(String);
  }

  /** Lazily adds the index column (a double) to `dataset` (PySpark: `model.transform(df)`). */
  transform(dataset: DataFrame, params: Partial<StringIndexerParams> = {}): DataFrame {
    return transformWithModel(dataset, this.ref, toMlParams({ ...this.params, ...params }));
  }
}
