import type { RowCounts } from "@orchard/udf-server";

/** Images done in the features step, as counted by the sidecar (not by Spark's finished tasks). */
export interface ImageProgress {
  readonly done: number;
  readonly total: number;
  /** Images per second since the step started; undefined before the first image is answered. */
  readonly perSecond?: number;
}

/** One read of the sidecar's cumulative row counters, and when it was taken (ms, same clock as `startedMs`). */
export interface CounterSample {
  readonly counts: RowCounts;
  readonly atMs: number;
}

/**
 * Merges the sidecar's row counters into the features step's progress. The counters are
 * cumulative over the sidecar's life, so the step's own count is the difference from `baseline`,
 * read when the step started. Returns undefined — the caller then shows Spark's task counts —
 * when there is no baseline (no sidecar answered at the start: a later baseline would undercount),
 * no sample yet, the latest sample is older than `staleMs` (the sidecar stopped answering), or the
 * counters went below the baseline (the sidecar restarted). The count is capped at `total`.
 */
export function mergeImageProgress({
  total,
  baseline,
  latest,
  startedMs,
  nowMs,
  staleMs,
}: {
  total: number | undefined;
  baseline: RowCounts | undefined;
  latest: CounterSample | undefined;
  startedMs: number;
  nowMs: number;
  staleMs: number;
}): ImageProgress | undefined {
  if (total === undefined || baseline === undefined || latest === undefined) return undefined;
  if (nowMs - latest.atMs > staleMs) return undefined;
  const answered = latest.counts.rowsServed + latest.counts.rowsFailed;
  const before = baseline.rowsServed + baseline.rowsFailed;
  if (answered < before) return undefined;
  const done = Math.min(total, answered - before);
  const seconds = (latest.atMs - startedMs) / 1000;
  return done > 0 && seconds > 0 ? { done, total, perSecond: done / seconds } : { done, total };
}
