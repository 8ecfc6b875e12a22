import { MODEL_LAYOUT } from "./model-layout.ts";
import type { OutputStore } from "./output-store.ts";
import { PipelineError } from "./pipeline-error.ts";
import type { TrainSplit } from "./train-split.ts";

/** A confusion matrix: `counts[i][j]` test rows of class `labels[i]` were predicted as `labels[j]`. */
export interface ConfusionMatrix {
  readonly labels: readonly string[];
  readonly counts: readonly (readonly number[])[];
}

/** The classifier's figures on the test set. */
export interface ClassifierMetrics {
  /** Share of test rows predicted right (Spark's MulticlassClassificationEvaluator, `accuracy`). */
  readonly accuracy: number;
  /** Unweighted mean of the per-class F1 (from the confusion matrix). */
  readonly macroF1: number;
  /** Spark's `f1`: per-class F1 weighted by class size. */
  readonly weightedF1: number;
  /** Per class: the share of its test rows predicted right (its recall). */
  readonly perClassAccuracy: Readonly<Record<string, number>>;
  readonly confusionMatrix: ConfusionMatrix;
}

/** KMeans on the same PCA features, against the labels. */
export interface ClusteringFigures {
  readonly k: number;
  readonly seed: number;
  readonly adjustedRandIndex: number;
  readonly purity: number;
  readonly rows: number;
}

/** `MODEL_DIR/run.json` of `orchard train`. */
export interface TrainSummary {
  readonly orchardVersion: 1;
  readonly command: "train";
  /** The validated configuration, secrets removed. */
  readonly config: unknown;
  readonly input: string;
  /** The orchard output whose `data/` the classifier was trained on (the input, or what train featurized). */
  readonly features: string;
  readonly output: string;
  readonly sparkVersion: string;
  readonly split: TrainSplit & { readonly trainRows: number; readonly testRows: number };
  readonly k: number;
  readonly labels: readonly string[];
  readonly classifier: { readonly family: "multinomial"; readonly regParam: number; readonly maxIter: number };
  readonly metrics: ClassifierMetrics;
  /** Null when KMeans could not run (fewer rows than clusters). */
  readonly clustering: ClusteringFigures | null;
  readonly timingsMs: Readonly<Record<string, number>>;
  readonly wallMs: number;
}

/** Reads and checks `run.json` of a classifier folder. */
export async function readTrainSummary(store: OutputStore, folder: string): Promise<TrainSummary> {
  let parsed: Partial<TrainSummary>;
  try {
    parsed = JSON.parse(new TextDecoder().decode(await store.get(MODEL_LAYOUT.runJson))) as Partial<TrainSummary>;
  } catch (cause) {
    throw new PipelineError({ message: `${folder} has no readable run.json of orchard train`, cause });
  }
  if (parsed.command !== "train" || typeof parsed.metrics !== "object" || typeof parsed.split !== "object") {
    throw new PipelineError({ message: `${folder}/run.json is not the record of orchard train` });
  }
  return parsed as TrainSummary;
}
