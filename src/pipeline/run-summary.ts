/** The pipeline's steps, in order (timings in run.json use these names). */
export const STEPS = ["list", "features", "pca", "write", "report"] as const;
export type Step = (typeof STEPS)[number];

/** `run.json`: what a run did, for people and for the report. */
export interface RunSummary {
  readonly orchardVersion: 1;
  /**
   * The run that published this output (its attempt folder's name): a reader that reads run.json
   * before and after reading data/ and finds the same runId read one run's complete output.
   */
  readonly runId: string;
  /** The validated configuration, secrets removed. */
  readonly config: unknown;
  readonly input: string;
  readonly output: string;
  /** The Spark version of the Connect server the run used (`spark.version()`), e.g. `4.0.2`. */
  readonly sparkVersion: string;
  /**
   * The CNN every feature was made with: its name and the SHA-256 of its ONNX file, which each
   * bridge checked against its sidecar before sending a row (sha256 null: the driver could not
   * read the model's files, and the bridges checked the name only). Null for a library caller
   * that named no model.
   */
  readonly model: { readonly name: string; readonly sha256: string | null } | null;
  /** Files listed, rows written, rows whose image failed (kept, with `error`). */
  readonly counts: { readonly filesIn: number; readonly rowsOut: number; readonly failed: number };
  readonly timingsMs: Partial<Record<Step, number>>;
  readonly wallMs: number;
  readonly imagesPerSecond: number;
  /** Components in the output's `pca` column. */
  readonly k: number;
  readonly featureDim: number;
  readonly partitions: number;
  /** Explained-variance share of each kept component (null when a saved model was used). */
  readonly explainedVariance: number[] | null;
  /** Where the PCA model is (Spark ML format). */
  readonly pcaModel: string | null;
}
