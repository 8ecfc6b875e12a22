/**
 * The layout of an output folder, in one place: what `orchard run | fit | transform` writes there,
 * and where `orchard report` and `orchard transform` find it again.
 */

/** The names inside an output folder (and inside its saved model). */
export const OUTPUT_LAYOUT = {
  /** Parquet, one row per input file. */
  data: "data",
  /**
   * Parquet, one row per file `data/` covers: `path string, length long, modificationTime
   * timestamp` as Spark's binaryFile source lists them (null time for an empty file); what an
   * incremental run compares the input's new listing with.
   */
  files: "files",
  /** The fitted PCA in Spark ML's format (`PCAModel.load` reads it). */
  pcaModel: "pca-model",
  /** The run's record (a RunSummary). */
  runJson: "run.json",
  /** The self-contained report page. */
  reportHtml: "report.html",
  /** orchard's own metadata inside `pca-model/` (a ModelMetadata); Spark ML's reader ignores it. */
  modelMetadata: "orchard.json",
} as const;

/** The URI of `part` inside the folder `root` (`s3a://b/out` + `data` -> `s3a://b/out/data`). */
export function outputPath(root: string, part: string): string {
  return `${root.replace(/\/+$/, "")}/${part}`;
}

/** What orchard keeps beside a saved PCA model: the k a run kept travels with the model. */
export interface ModelMetadata {
  /** Components the run that saved the model kept (a `--variance` fit saves more). */
  readonly k: number;
  /** Length of the feature vectors the model projects. */
  readonly featureDimension: number;
  /** The CNN whose features the model was fitted on (null when the caller did not say). */
  readonly model: string | null;
}
