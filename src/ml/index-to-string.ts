import type { DataFrame } from "../connect/data-frame.ts";
import { readOperator, transformWithTransformer, writeOperator } from "../connect/ml-operations.ts";
import type { SparkSession } from "../connect/spark-session.ts";
import { newUid, paramsFrom, toMlParams } from "./ml-params.ts";

const CLASS = "org.apache.spark.ml.feature.IndexToString";

/** IndexToString's params, PySpark's names. */
export interface IndexToStringParams {
  inputCol: string;
  outputCol: string;
  /** The labels by index; when absent, Spark reads them from the input column's ML metadata. */
  labels?: readonly string[];
}

const DEFAULTS: Omit<IndexToStringParams, "labels"> = { inputCol: "prediction", outputCol: "predictedLabel" };

/**
 * Spark ML's IndexToString: maps indices back to labels (the inverse of a {@link StringIndexerModel}),
 * a plain transformer built on the server from its params for each use
 * (PySpark: `pyspark.ml.feature.IndexToString`).
 *
 * @example
 * const named = new IndexToString({ inputCol: "prediction", outputCol: "predictedLabel", labels: await indexer.labels() }).transform(predictions);
 */
export class IndexToString {
  readonly uid: string;
  readonly params: Readonly<IndexToStringParams>;

  constructor(params: Partial<IndexToStringParams> = {}, uid = newUid("IndexToString")) {
    this.params = { ...DEFAULTS, ...params };
    this.uid = uid;
  }

  /** A copy with some params changed (PySpark: `transformer.copy(extra)`). */
  copy(extra: Partial<IndexToStringParams>): IndexToString {
    return new IndexToString({ ...this.params, ...extra }, this.uid);
  }

  /** Lazily adds `outputCol`, the label of each index in `inputCol` (PySpark: `transformer.transform(df)`). */
  transform(dataset: DataFrame): DataFrame {
    return transformWithTransformer(dataset, { className: CLASS, uid: this.uid, params: this.#mlParams() });
  }

  /** Saves in Spark ML's format (PySpark: `transformer.write().save(path)`). */
  async save(session: SparkSession, path: string, { overwrite = false } = {}): Promise<void> {
    await writeOperator(
      session,
      { className: CLASS, uid: this.uid, type: "transformer", params: this.#mlParams() },
      { path, overwrite },
    );
  }

  /** Loads one saved by orchard or PySpark (PySpark: `IndexToString.load(path)`). */
  static async load(session: SparkSession, path: string): Promise<IndexToString> {
    const info = await readOperator(session, { className: CLASS, type: "transformer" }, path);
    const params = paramsFrom(DEFAULTS, info.params, { labels: (v) => (v as unknown[]).map(String) });
    return new IndexToString(params, info.uid ?? newUid("IndexToString"));
  }

  #mlParams() {
    const { labels, ...rest } = this.params;
    return toMlParams({ ...rest, ...(labels ? { labels: [...labels] } : {}) });
  }
}
