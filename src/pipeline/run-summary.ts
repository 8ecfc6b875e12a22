import { OUTPUT_LAYOUT } from "./output-layout.ts";
import type { OutputStore } from "./output-store.ts";
import { PipelineError } from "./pipeline-error.ts";
import type { RunRecord } from "./run-history.ts";

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
  /**
   * The output as it now is: files it covers (a full run: the files listed; after incremental
   * runs, also removed files whose rows were kept), rows in `data/` (the same number, except
   * `orchard fit`'s 0), rows whose image failed (kept, with `error`).
   */
  readonly counts: { readonly filesIn: number; readonly rowsOut: number; readonly failed: number };
  /** The latest run's step timings (each run's are in {@link RunSummary.history}). */
  readonly timingsMs: Partial<Record<Step, number>>;
  readonly wallMs: number;
  /** The latest run's images featurized per second of its wall time. */
  readonly imagesPerSecond: number;
  /** Whether `data/` keeps the CNN features (`--keep-features`). */
  readonly keepFeatures: boolean;
  /** The runs that made this output, oldest first (see run-history.ts). */
  readonly history: readonly RunRecord[];
  /** Components in the output's `pca` column. */
  readonly k: number;
  readonly featureDim: number;
  readonly partitions: number;
  /** Explained-variance share of each kept component (null when a saved model was used). */
  readonly explainedVariance: number[] | null;
  /** Where the PCA model is (Spark ML format). */
  readonly pcaModel: string | null;
}

/** Reads and checks `run.json` of an output folder. */
export async function readRunSummary(store: OutputStore, output: string): Promise<RunSummary> {
  let text: string;
  try {
    text = new TextDecoder().decode(await store.get(OUTPUT_LAYOUT.runJson));
  } catch (cause) {
    throw new PipelineError({
      message: `${output} has no readable run.json: is it an orchard output folder? (${(cause as Error).message})`,
      cause,
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new PipelineError({ message: `${output}/run.json is not valid JSON`, cause });
  }
  const s = parsed as Partial<RunSummary>;
  if (
    s.orchardVersion !== 1 ||
    typeof s.counts !== "object" ||
    typeof s.k !== "number" ||
    typeof s.timingsMs !== "object"
  ) {
    throw new PipelineError({ message: `${output}/run.json is not an orchard run summary (orchardVersion 1)` });
  }
  return s as RunSummary;
}
