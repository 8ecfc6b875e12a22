/**
 * The history of the runs that made an output folder, as `run.json` keeps it (`history`, oldest
 * first): a full run starts it, each `orchard run --incremental` adds one record. Delta Lake's
 * `DESCRIBE HISTORY` is the nearest PySpark-side equivalent; plain Parquet has none.
 */

/** What one run did to the output. */
export interface RunRecord {
  readonly runId: string;
  /** `full`: the output was made afresh; `incremental`: the run updated an earlier one. */
  readonly mode: "full" | "incremental";
  /** When the run published (ISO 8601, UTC). */
  readonly publishedAt: string;
  readonly counts: IncrementCounts;
  /** Up to {@link REMOVED_SAMPLE} of the removed files, sorted (all of them are counted). */
  readonly removedSample: readonly string[];
  /** Whether the run fitted the PCA (a full run without `--pca-model`, an incremental one with `--refit`). */
  readonly pcaRefit: boolean;
  readonly timingsMs: Readonly<Record<string, number>>;
  readonly wallMs: number;
}

/** The files a run listed and what it did with them. */
export interface IncrementCounts {
  /** Files the input listing found (a full run: every file it read). */
  readonly listed: number;
  /** Listed files the output did not cover yet (a full run: all of them). */
  readonly new: number;
  /** Covered files whose length or modification time changed: their rows were replaced. */
  readonly changed: number;
  /** Covered files left as they were: not featurized again. */
  readonly unchanged: number;
  /** Covered files no longer listed: reported; their rows kept unless pruned. */
  readonly removed: number;
  /** Removed files whose rows were dropped (`--prune`). */
  readonly pruned: number;
  /** Files this run featurized (new, changed, and with `--refit` without kept features all listed ones). */
  readonly featurized: number;
  /** Of those, the ones whose row holds an error. */
  readonly failed: number;
}

/** At most this many removed paths are recorded per run. */
export const REMOVED_SAMPLE = 20;

/**
 * The counts of a full run over `listed` files, `failed` of which have an error row (every
 * listed file is new and featurized).
 */
export function fullRunCounts(listed: number, failed: number): IncrementCounts {
  return { listed, new: listed, changed: 0, unchanged: 0, removed: 0, pruned: 0, featurized: listed, failed };
}

/** The history after a run: a full run's record starts a new one, an incremental one extends `previous`. */
export function historyAfter(previous: readonly RunRecord[] | undefined, record: RunRecord): RunRecord[] {
  return record.mode === "full" ? [record] : [...(previous ?? []), record];
}
