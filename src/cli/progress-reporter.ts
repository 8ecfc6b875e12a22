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
  let current: { step: Step; started: number; spark?: ExecutionProgress; lastLine?: number } | undefined;
  const snapshot = (short = false): ProgressSnapshot | undefined =>
    current && {
      title: (short ? shortTitle : title)(current.step),
      ...(current.spark ? { spark: current.spark } : {}),
      ...(images !== undefined ? { images } : {}),
      countsImages: IMAGE_STEPS.has(current.step),
      elapsedMs: now() - current.started,
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
        current = { step, started: now() };
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
        current = undefined;
        ctx.err(doneLine(step, ms, detail));
      },
      stop: () => undefined,
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
    const { value, total } = barPosition(current?.spark);
    bar.setTotal(total);
    bar.update(value, { title: s.title, parts: barParts(s).join(" | ") });
  };
  const ticker = setInterval(redraw, 1000);
  ticker.unref();
  return {
    ...base,
    onStepStart(step) {
      current = { step, started: now() };
      bar ??= multi.create(1, 0, { title: shortTitle(step), parts: "starting" });
      redraw();
    },
    onProgress(step, p) {
      if (current?.step !== step) return;
      current.spark = p;
      redraw();
    },
    onStepEnd(step, ms, detail) {
      current = undefined;
      multi.log(`${doneLine(step, ms, detail)}\n`);
      multi.update();
    },
    stop() {
      clearInterval(ticker);
      if (stopped) return;
      stopped = true;
      multi.update();
      multi.stop();
    },
  };
}
