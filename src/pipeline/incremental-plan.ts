import { ConfigError } from "../errors.ts";
import type { FileStatus } from "./file-state.ts";
import { PipelineError } from "./pipeline-error.ts";
import type { ExpectedModel } from "./pipeline-options.ts";
import type { RunSummary } from "./run-summary.ts";

/**
 * What an incremental run does, decided from the diff of the input against the stored state: the
 * pure part of `orchard run --incremental` (see run-incremental.ts for the Spark part).
 */

/** The options of an incremental run (`orchard run --incremental [--refit] [--prune]`). */
export interface IncrementalOptions {
  /** Refit the PCA on every row (from the kept features, or by featurizing every listed file). */
  readonly refit: boolean;
  /** Drop the rows of files that are no longer listed (otherwise they are kept and reported). */
  readonly prune: boolean;
}

/** Files per status, from the diff. */
export type StatusCounts = Readonly<Record<FileStatus, number>>;

/** The decisions of an incremental run. */
export interface IncrementPlan {
  /** The statuses whose files are featurized (and their new rows written). */
  readonly featurize: readonly FileStatus[];
  /** The statuses whose published rows are kept as they are (the rest are replaced or dropped). */
  readonly keepRows: readonly FileStatus[];
  /**
   * `append`: the new rows join the published `data/` (nothing published is rewritten);
   * `rewrite`: `data/` and `files/` are written whole (kept rows + new rows) and replace the old.
   */
  readonly publication: "append" | "rewrite";
  /** Whether the PCA is fitted again (on the kept rows' features and the new ones). */
  readonly refit: boolean;
  /** Removed files whose rows are dropped. */
  readonly pruned: number;
}

/**
 * Decides what an incremental run does. New and changed files are featurized (a changed file's
 * row replaces its old one), unchanged ones are not; removed files keep their rows unless
 * `prune`. With `refit`, the PCA is fitted again on everything: from the kept rows' features when
 * `data/` keeps them, otherwise by featurizing every listed file again (then a removed file's row
 * could not be projected with the new model: the run refuses unless `prune`). Only new files
 * and nothing else: the new rows are appended; anything else rewrites `data/`.
 */
export function planIncrement(
  counts: StatusCounts,
  { refit, prune, keepFeatures }: IncrementalOptions & { readonly keepFeatures: boolean },
): IncrementPlan {
  const refeaturizeAll = refit && !keepFeatures;
  if (refeaturizeAll && counts.removed > 0 && !prune) {
    throw new PipelineError({
      message: `${counts.removed} files were removed from the input, and data/ keeps no features to project their rows with the refitted PCA: pass --prune to drop them, or run without --refit`,
    });
  }
  const pruned = prune ? counts.removed : 0;
  const featurize: FileStatus[] = refeaturizeAll ? ["new", "changed", "unchanged"] : ["new", "changed"];
  const keepRows: FileStatus[] = [
    ...(refeaturizeAll ? [] : (["unchanged"] as const)),
    ...(prune ? [] : (["removed"] as const)),
  ];
  const append = !refit && counts.changed === 0 && pruned === 0;
  return { featurize, keepRows, publication: append ? "append" : "rewrite", refit, pruned };
}

/** How many files a plan featurizes, and how many rows the output has after it. */
export function planTotals(counts: StatusCounts, plan: IncrementPlan): { featurized: number; rows: number } {
  const sum = (statuses: readonly FileStatus[]) => statuses.reduce((n, s) => n + counts[s], 0);
  const featurized = sum(plan.featurize);
  return { featurized, rows: featurized + sum(plan.keepRows) };
}

/** What an incremental run must match of the earlier run it updates. */
export interface IncrementalRequest {
  readonly input: string;
  readonly keepFeatures: boolean;
  /** The CNN the run asks for (its name, as `--model`). */
  readonly model?: string;
  /** The model as the bridges check it (known once the sidecar runs: its ONNX file's SHA-256). */
  readonly expectedModel?: ExpectedModel;
}

/**
 * Refuses an incremental run whose rows would not match the earlier run's, each with a ConfigError
 * naming the flag: another input, another CNN (by name, or by its file's SHA-256 when both runs
 * know it), or another `--keep-features` (data/ would mix two schemas).
 */
export function checkIncrementalAgainst(previous: RunSummary, request: IncrementalRequest): void {
  if (request.input !== previous.input) {
    throw new ConfigError({
      field: "--input",
      expected: `the earlier run's input (${previous.input})`,
      message: `--input ${request.input}: --incremental updates the output of a run on ${previous.input}; use another --output for another input`,
    });
  }
  const name = request.expectedModel?.name ?? request.model;
  const before = previous.model;
  if (before && name !== undefined && name !== before.name) {
    throw new ConfigError({
      field: "--model",
      expected: `the earlier run's model (${before.name})`,
      message: `--model ${name}: the output's rows hold features of the earlier run's model (${before.name}), --incremental cannot add rows of another (run with --overwrite instead to start afresh)`,
    });
  }
  const sha = request.expectedModel?.sha256;
  if (before?.sha256 && sha && sha !== before.sha256) {
    throw new ConfigError({
      field: "--model",
      expected: `the earlier run's model file (sha256 ${before.sha256})`,
      message: `--model ${before.name} is now another file (sha256 ${sha}; the earlier run's was ${before.sha256}): --incremental cannot mix their features; run with --overwrite to start afresh`,
    });
  }
  if (request.keepFeatures !== previous.keepFeatures) {
    throw new ConfigError({
      field: "--keep-features",
      expected: previous.keepFeatures ? "given, as in the earlier run" : "absent, as in the earlier run",
      message: `--keep-features: the earlier run ${previous.keepFeatures ? "kept" : "did not keep"} the features in data/, and an incremental run must do the same`,
    });
  }
}
