/**
 * The layout of a classifier folder (`orchard train --output MODEL_DIR`), in one place: what
 * `orchard train` writes there and where `orchard predict` and `predict()` find it again.
 */

/** The names inside a classifier folder. */
export const MODEL_LAYOUT = {
  /** The PCA the features are projected with, Spark ML's format (`PCAModel.load`). */
  pcaModel: "pca-model",
  /** The label index, Spark ML's format (`StringIndexerModel.load`): index i is `labels[i]`. */
  labelIndex: "label-index",
  /** The multinomial logistic regression, Spark ML's format (`LogisticRegressionModel.load`). */
  classifier: "classifier",
  /** The manifest (a {@link ClassifierManifest}). */
  manifest: "orchard-model.json",
  /** The report of the features with the classifier's sections. */
  reportHtml: "report.html",
  /** The training run's record (a TrainSummary). */
  runJson: "run.json",
  /** Where `orchard train` given images puts the pipeline's output it trains on. */
  features: "features",
} as const;

/** `orchard-model.json`: what a classifier folder holds and how its parts fit together. */
export interface ClassifierManifest {
  readonly orchardClassifier: 1;
  /** The parts, relative to the folder. */
  readonly parts: { readonly pcaModel: string; readonly labelIndex: string; readonly classifier: string };
  /** Components of the PCA the classifier reads (the first k of the saved model). */
  readonly k: number;
  /** Length of the CNN feature vectors the PCA projects. */
  readonly featureDimension: number;
  /** The CNN the features came from (the sidecar must serve it); null when unknown. */
  readonly cnnModel: string | null;
  /** The labels, by class index. */
  readonly labels: readonly string[];
  readonly trainedAt: string;
  /** Test-set figures of the training run (the full record is in run.json). */
  readonly metrics: { readonly accuracy: number; readonly macroF1: number };
}
