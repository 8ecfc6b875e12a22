import type { ExecutionProgress } from "../connect/progress.ts";
import type { ImageProgress } from "./progress-merge.ts";

/**
 * Pure formatting for orchard's live progress (the bar on a terminal, the log lines elsewhere):
 * no clock, no stream, no state beyond the arguments, so every figure can be tested from a table.
 */

/** Bytes as `512 B`, `1.5 KiB`, `12.5 MiB`, `3.2 GiB` (binary units, one decimal above bytes). */
export function formatBytes(bytes: number | bigint): string {
  const n = Number(bytes);
  if (!Number.isFinite(n) || n < 1024) return `${Math.max(0, Math.round(Number.isFinite(n) ? n : 0))} B`;
  const units = ["KiB", "MiB", "GiB", "TiB", "PiB"];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

/** A duration as `0.4 s`, `12 s`, `1 m 05 s`, `2 h 03 m`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "?";
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} m ${String(s % 60).padStart(2, "0")} s`;
  const m = Math.floor(s / 60);
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} m`;
}

/**
 * Time left, extrapolated linearly from the share done so far; undefined before anything is done
 * (no basis for a guess). 0 when everything is done.
 */
export function etaMs(done: number, total: number, elapsedMs: number): number | undefined {
  if (total <= 0 || done <= 0 || elapsedMs < 0) return undefined;
  if (done >= total) return 0;
  return (elapsedMs * (total - done)) / done;
}

/** Images per second, given how many images the step handles and the share of its tasks done. */
export function imagesPerSecond(images: number, doneShare: number, elapsedMs: number): number | undefined {
  if (images <= 0 || doneShare <= 0 || elapsedMs <= 0) return undefined;
  return (images * Math.min(1, doneShare)) / (elapsedMs / 1000);
}

/** A rate as `8.3 images/s` (`0.25 images/s` when slow). */
export function formatRate(perSecond: number): string {
  return `${perSecond >= 10 ? perSecond.toFixed(0) : perSecond >= 1 ? perSecond.toFixed(1) : perSecond.toFixed(2)} images/s`;
}

/** What one step's progress looks like at a moment: the latest Spark update plus the step's context. */
export interface ProgressSnapshot {
  /** e.g. `[2/5] CNN features` */
  readonly title: string;
  /** Latest execution progress of the step's running Spark operation, if any arrived yet. */
  readonly spark?: ExecutionProgress;
  /** Images this step handles (known after listing); drives images/s. */
  readonly images?: number;
  /** Whether images/s makes sense for this step (the step processes the images). */
  readonly countsImages: boolean;
  /** Milliseconds since the step started. */
  readonly elapsedMs: number;
  /** Images answered so far, counted by the sidecars (wins over the estimate from Spark's tasks). */
  readonly served?: ImageProgress;
}

/** The parts shown after the bar (or after the title in a log line), each already formatted. */
export function progressParts(s: ProgressSnapshot): string[] {
  const parts: string[] = [];
  const p = s.spark;
  const served = s.countsImages ? s.served : undefined;
  if (served !== undefined) {
    parts.push(`images ${served.done}/${served.total}`);
    if (served.perSecond !== undefined) parts.push(formatRate(served.perSecond));
    if (p !== undefined && p.tasksTotal > 0) parts.push(`tasks ${p.tasksDone}/${p.tasksTotal}`);
    const eta = etaMs(served.done, served.total, s.elapsedMs);
    if (eta !== undefined) parts.push(`ETA ${formatDuration(eta)}`);
  } else if (p !== undefined) {
    const stagesDone = p.stages.filter((st) => st.done).length;
    parts.push(`tasks ${p.tasksDone}/${p.tasksTotal}`);
    parts.push(`stages ${stagesDone}/${p.stages.length}`);
    if (p.inflightTasks > 0) parts.push(`${p.inflightTasks} running`);
    if (p.inputBytesRead > 0n) parts.push(`${formatBytes(p.inputBytesRead)} read`);
    const share = p.tasksTotal > 0 ? p.tasksDone / p.tasksTotal : 0;
    if (s.countsImages && s.images !== undefined) {
      const rate = imagesPerSecond(s.images, share, s.elapsedMs);
      if (rate !== undefined) parts.push(`~${formatRate(rate)}`);
    }
    const eta = etaMs(p.tasksDone, p.tasksTotal, s.elapsedMs);
    if (eta !== undefined) parts.push(`ETA ${formatDuration(eta)}`);
  }
  parts.push(`${formatDuration(s.elapsedMs)} elapsed`);
  return parts;
}

/**
 * The parts next to the bar, most useful first (a narrow terminal cuts the end of the line):
 * tasks, images/s, ETA, then stages, running tasks and bytes; the elapsed time only before any ETA.
 */
export function barParts(s: ProgressSnapshot): string[] {
  const parts = progressParts(s);
  const first = (prefix: RegExp) => parts.filter((p) => prefix.test(p));
  const ordered = [
    ...first(/^images /),
    ...first(/^tasks /),
    ...first(/images\/s$/),
    ...first(/^ETA /),
    ...first(/^stages /),
    ...first(/ running$/),
    ...first(/ read$/),
  ];
  return ordered.some((p) => p.startsWith("ETA ")) ? ordered : [...ordered, ...first(/ elapsed$/)];
}

/** A plain log line: `[2/5] CNN features: tasks 3/5, stages 0/2, 2 running, 1.2 MiB read, 4.1 images/s, ETA 6.0 s, 9.1 s elapsed`. */
export function progressLine(s: ProgressSnapshot): string {
  return `${s.title}: ${progressParts(s).join(", ")}`;
}

/**
 * The bar's position: images answered out of the total when the sidecars count them, else tasks
 * done and total of the running operation (0/1 before Spark reports).
 */
export function barPosition(
  p: ExecutionProgress | undefined,
  served?: ImageProgress,
): { value: number; total: number } {
  if (served !== undefined && served.total > 0) return { value: served.done, total: served.total };
  if (p === undefined || p.tasksTotal <= 0) return { value: 0, total: 1 };
  return { value: Math.min(p.tasksDone, p.tasksTotal), total: p.tasksTotal };
}

/** Whether a plain progress line is due: at most one every `intervalMs`. */
export function lineDue(lastMs: number | undefined, nowMs: number, intervalMs: number): boolean {
  return lastMs === undefined || nowMs - lastMs >= intervalMs;
}

/** The line printed when a step ends: `[2/5] CNN features: done in 11.8 s (129 rows, ...), 10.9 images/s`. */
export function stepDoneLine(title: string, ms: number, detail: string | undefined, images?: number): string {
  const rate = images !== undefined && images > 0 && ms > 0 ? `, ${formatRate(images / (ms / 1000))}` : "";
  return `${title}: done in ${formatDuration(ms)}${detail ? ` (${detail})` : ""}${rate}`;
}
