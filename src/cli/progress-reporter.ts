import type { RowCounts } from "@orchard/udf-server";
import { MultiBar, type SingleBar } from "cli-progress";
import type { ExecutionProgress } from "../connect/progress.ts";
import type { PipelineEvents } from "../pipeline/run-pipeline.ts";
import { STEPS, type Step } from "../pipeline/run-summary.ts";
import type { CliContext } from "./cli-context.ts";
import {
  barParts,
  barPosition,
  lineDue,
  type ProgressSnapshot,
  progressLine,
  stepDoneLine,
} from "./progress-format.ts";
import { type CounterSample, mergeImageProgress } from "./progress-merge.ts";

/** How progress is shown: a live bar (terminal), log lines (CI, files), or not at all (`--quiet`). */
export type ProgressMode = "bar" | "lines" | "quiet";

/** The mode for a command: `--quiet` wins; a bar only when stderr is a terminal. */
export function progressMode({ quiet, isTTY }: { quiet: boolean; isTTY: boolean }): ProgressMode {
  if (quiet) return "quiet";
  return isTTY ? "bar" : "lines";
}

const LABEL: Record<Step, string> = {
  list: "listing images",
  features: "CNN features on the executors",
  pca: "PCA",
  write: "writing Parquet and the model",
  report: "writing report.html",
};

/** The same, short enough to leave room for the bar on one terminal line. */
const SHORT_LABEL: Record<Step, string> = {
  list: "listing",
  features: "CNN features",
  pca: "PCA",
  write: "writing",
  report: "report",
};

/** Steps whose work is processing the images (their progress has an images/s). */
const IMAGE_STEPS: ReadonlySet<Step> = new Set(["features"]);

/** Pipeline events that draw progress, plus `stop()` to release the terminal when the run ends. */
export interface ProgressReporter extends PipelineEvents {
  stop(): void;
}

export interface ProgressReporterOptions {
  readonly mode: ProgressMode;
  /** Where the bar is drawn (a TTY); default process.stderr. */
  readonly stream?: NodeJS.WritableStream;
  /** At most one progress line per step this often in `lines` mode (default 5 s). */
  readonly lineIntervalMs?: number;
  readonly now?: () => number;
  /**
   * Reads the sidecars' cumulative row counters; polled every `counterIntervalMs` during the
   * features step to show images done and images/s while the Spark tasks run. Without it (or when
   * it rejects at the step's start) the step shows Spark's task counts.
   */
  readonly rowCounts?: () => Promise<RowCounts>;
  /** How often the counters are read (default 1 s); a sample older than 3 intervals is stale. */
  readonly counterIntervalMs?: number;
}

/** What the reporter knows of the running step. */
interface StepState {
  step: Step;
  started: number;
  spark?: ExecutionProgress;
  lastLine?: number;
  counters?: CounterWatch;
}

/** The sidecar counters of one features step: the baseline read at its start, the latest read. */
interface CounterWatch {
  baseline?: RowCounts;
  latest?: CounterSample;
  timer?: ReturnType<typeof setInterval>;
  stopped: boolean;
}

/**
 * Progress of a pipeline run: in `bar` mode a cli-progress bar per step (tasks done/total of the
 * running Spark operation, stages, bytes read, images/s, ETA) with finished steps logged above it;
 * in `lines` mode a line when a step starts and ends and a progress line at most every few seconds;
 * in `quiet` mode nothing.
 */
export function progressReporter(ctx: CliContext, options: ProgressReporterOptions): ProgressReporter {
  if (options.mode === "quiet") return { stop: () => undefined };
  const now = options.now ?? (() => performance.now());
  const title = (step: Step) => `[${STEPS.indexOf(step) + 1}/${STEPS.length}] ${LABEL[step]}`;
  const shortTitle = (step: Step) => `[${STEPS.indexOf(step) + 1}/${STEPS.length}] ${SHORT_LABEL[step]}`;
  let images: number | undefined;
  let current: StepState | undefined;
  const counterInterval = options.counterIntervalMs ?? 1000;
  const served = () =>
    current?.counters &&
    mergeImageProgress({
      total: images,
      baseline: current.counters.baseline,
      latest: current.counters.latest,
      startedMs: current.started,
      nowMs: now(),
      staleMs: 3 * counterInterval,
    });
  const snapshot = (short = false): ProgressSnapshot | undefined => {
    if (!current) return undefined;
    const s = served();
    return {
      title: (short ? shortTitle : title)(current.step),
      ...(current.spark ? { spark: current.spark } : {}),
      ...(images !== undefined ? { images } : {}),
      countsImages: IMAGE_STEPS.has(current.step),
      elapsedMs: now() - current.started,
      ...(s ? { served: s } : {}),
    };
  };
  /** Starts reading the counters for an image step; `onSample` runs after each successful read. */
  const watchCounters = (step: Step, onSample: () => void): CounterWatch | undefined => {
    const read = options.rowCounts;
    if (!read || !IMAGE_STEPS.has(step)) return undefined;
    const watch: CounterWatch = { stopped: false };
    read().then(
      (baseline) => {
        if (watch.stopped) return;
        watch.baseline = baseline;
        watch.timer = setInterval(() => {
          read().then(
            (counts) => {
              if (watch.stopped) return;
              watch.latest = { counts, atMs: now() };
              onSample();
            },
            () => undefined,
          );
        }, counterInterval);
        watch.timer.unref();
      },
      () => undefined,
    );
    return watch;
  };
  const unwatch = (watch: CounterWatch | undefined) => {
    if (!watch) return;
    watch.stopped = true;
    clearInterval(watch.timer);
  };
  const doneLine = (step: Step, ms: number, detail?: string) =>
    stepDoneLine(title(step), ms, detail, IMAGE_STEPS.has(step) ? images : undefined);
  const base = {
    onInputCount(n: number) {
      images = n;
    },
  };

  if (options.mode === "lines") {
    const interval = options.lineIntervalMs ?? 5000;
    return {
      ...base,
      onStepStart(step) {
        const started: StepState = { step, started: now() };
        current = started;
        let counted = false;
        const counters = watchCounters(step, () => {
          if (current !== started) return;
          const s = snapshot();
          // The first moving image count is shown at once; after it, at most one line per interval.
          const first = !counted && (s?.served?.done ?? 0) > 0;
          if (first) counted = true;
          if (s && (first || lineDue(started.lastLine ?? started.started, now(), interval))) {
            started.lastLine = now();
            ctx.err(progressLine(s));
          }
        });
        if (counters) started.counters = counters;
        ctx.err(`${title(step)} ...`);
      },
      onProgress(step, p) {
        if (current?.step !== step) return;
        current.spark = p;
        const t = now();
        if (!lineDue(current.lastLine ?? current.started, t, interval)) return;
        current.lastLine = t;
        const s = snapshot();
        if (s) ctx.err(progressLine(s));
      },
      onStepEnd(step, ms, detail) {
        unwatch(current?.counters);
        current = undefined;
        ctx.err(doneLine(step, ms, detail));
      },
      stop() {
        unwatch(current?.counters);
      },
    };
  }

  const multi = new MultiBar({
    stream: options.stream ?? process.stderr,
    format: "{title} |{bar}| {percentage}% | {parts}",
    barsize: 24,
    hideCursor: false,
    clearOnComplete: true,
    fps: 5,
    barCompleteChar: "\u2588",
    barIncompleteChar: "\u2591",
  });
  let bar: SingleBar | undefined;
  let stopped = false;
  const redraw = () => {
    const s = snapshot(true);
    if (!bar || !s) return;
    const { value, total } = barPosition(current?.spark, s.served);
    bar.setTotal(total);
    bar.update(value, { title: s.title, parts: barParts(s).join(" | ") });
  };
  const ticker = setInterval(redraw, 1000);
  ticker.unref();
  return {
    ...base,
    onStepStart(step) {
      const started: StepState = { step, started: now() };
      current = started;
      const counters = watchCounters(step, redraw);
      if (counters) started.counters = counters;
      bar ??= multi.create(1, 0, { title: shortTitle(step), parts: "starting" });
      redraw();
    },
    onProgress(step, p) {
      if (current?.step !== step) return;
      current.spark = p;
      redraw();
    },
    onStepEnd(step, ms, detail) {
      unwatch(current?.counters);
      current = undefined;
      multi.log(`${doneLine(step, ms, detail)}\n`);
      multi.update();
    },
    stop() {
      clearInterval(ticker);
      unwatch(current?.counters);
      if (stopped) return;
      stopped = true;
      multi.update();
      multi.stop();
    },
  };
}
