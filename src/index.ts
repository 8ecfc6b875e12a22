/**
 * orchard's library entry: a PySpark-like Spark Connect client for TypeScript.
 *
 * ```ts
 * import { SparkSession, functions as F, col, lit } from "orchard";
 * const spark = SparkSession.builder.remote("sc://localhost:15002").getOrCreate();
 * await spark.range(10).where(col("id").gt(lit(3))).groupBy().agg(F.sum("id")).show();
 * ```
 */

export type { CastType, ColumnOrName, ColumnOrValue } from "./connect/column.ts";
export { Column } from "./connect/column.ts";
export type { ActionOptions, ExplainMode, JoinHow, ShowOptions, SortOptions } from "./connect/data-frame.ts";
export { DataFrame } from "./connect/data-frame.ts";
export { DataFrameReader } from "./connect/data-frame-reader.ts";
export type { OptionValue, SaveMode, WriteShortcutOptions } from "./connect/data-frame-writer.ts";
export { DataFrameWriter } from "./connect/data-frame-writer.ts";
export {
  ArrayType,
  BinaryType,
  BooleanType,
  ByteType,
  CalendarIntervalType,
  CharType,
  DataType,
  DateType,
  DayTimeIntervalType,
  DecimalType,
  DoubleType,
  FloatType,
  IntegerType,
  LongType,
  MapType,
  NullType,
  ShortType,
  StringType,
  StructField,
  StructType,
  TimestampNTZType,
  TimestampType,
  TimeType,
  UserDefinedType,
  VarcharType,
  VariantType,
  YearMonthIntervalType,
} from "./connect/data-types.ts";
export {
  type ConnectionProblem,
  InterruptedError,
  PlanError,
  ProtocolError,
  type ServerErrorCause,
  SparkAuthenticationError,
  SparkConnectionError,
  SparkServerError,
} from "./connect/errors.ts";
export type { ExecuteOptions } from "./connect/execute-options.ts";
/** Spark SQL functions (PySpark `pyspark.sql.functions`), usually imported as `functions as F`. */
export * as functions from "./connect/functions.ts";
export { col, column, expr, lit, when } from "./connect/functions.ts";
export { GroupedData } from "./connect/grouped-data.ts";
export type { LiteralValue } from "./connect/literal-input.ts";
export { MEMORY_AND_DISK, type StorageLevel } from "./connect/persistence.ts";
export type { ExecutionProgress, StageProgress } from "./connect/progress.ts";
export { Row, RowLayout } from "./connect/row.ts";
export { RuntimeConfig } from "./connect/runtime-config.ts";
export { formatRows, formatShowTable, type ShowLayout } from "./connect/show-format.ts";
export { SparkSession, SparkSessionBuilder } from "./connect/spark-session.ts";
export { type CalendarInterval, Decimal, DenseMatrix, Timestamp } from "./connect/spark-values.ts";
export { TLS_ENV, type TlsOptions } from "./connect/tls-options.ts";
export { type FrameBound, Window, WindowSpec } from "./connect/window.ts";
export { ConfigError, OrchardError, type OrchardErrorKind, SetupError } from "./errors.ts";

// orchard's image pipeline, step by step (what `orchard run` does), and its report.
export { type ClusteringAgreement, clusteringAgreement } from "./ml/clustering-agreement.ts";
export { IndexToString, type IndexToStringParams } from "./ml/index-to-string.ts";
export { KMeans, KMeansModel, type KMeansParams } from "./ml/kmeans.ts";
export {
  LogisticRegression,
  LogisticRegressionModel,
  type LogisticRegressionParams,
} from "./ml/logistic-regression.ts";
export {
  MulticlassClassificationEvaluator,
  type MulticlassClassificationEvaluatorParams,
  type MulticlassMetric,
} from "./ml/multiclass-classification-evaluator.ts";
export { PCA, PCAModel, type PCAParams } from "./ml/pca.ts";
export { RemoteModel } from "./ml/remote-model.ts";
export { StringIndexer, StringIndexerModel, type StringIndexerParams } from "./ml/string-indexer.ts";
export { Classifier, PREDICTION_COLUMNS, type Prediction } from "./pipeline/classifier.ts";
export { type FeaturizeOptions, featurize, featurizeSql } from "./pipeline/featurize.ts";
export { extensionGlob, extensionMatcher } from "./pipeline/image-extensions.ts";
export type { IncrementalOptions } from "./pipeline/incremental-plan.ts";
export { type IngestOptions, labelOf, readImages, sampledPaths } from "./pipeline/ingest.ts";
export { type ClassifierManifest, MODEL_LAYOUT } from "./pipeline/model-layout.ts";
export { type OutputStore, outputStore } from "./pipeline/output-store.ts";
export { DEFAULT_EXTENSIONS, type PipelineOptions } from "./pipeline/pipeline-options.ts";
export { type PredictFolderOptions, type PredictSummary, predictFolder } from "./pipeline/predict-folder.ts";
export { componentsFor, type FittedReduction, fitReduction, project } from "./pipeline/reduce.ts";
export { regenerateReport, reportUri, writeReport } from "./pipeline/report.ts";
export type { IncrementCounts, RunRecord } from "./pipeline/run-history.ts";
export { type PipelineEvents, type RunContext, runPipeline } from "./pipeline/run-pipeline.ts";
export { type RunSummary, readRunSummary, STEPS, type Step } from "./pipeline/run-summary.ts";
export { type TrainContext, type TrainOptions, trainClassifier } from "./pipeline/train.ts";
export { TEST_FLAG, type TrainSplit, withSplit } from "./pipeline/train-split.ts";
export {
  type ClassifierMetrics,
  type ClusteringFigures,
  type ConfusionMatrix,
  readTrainSummary,
  type TrainSummary,
} from "./pipeline/train-summary.ts";
export { outputColumns, writeOutput } from "./pipeline/write.ts";
export type { S3Access, S3Credentials } from "./s3.ts";
