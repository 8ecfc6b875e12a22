import { describe, expect, it } from "vitest";
import type { CliContext } from "../../src/cli/cli-context.ts";
import { progressReporter } from "../../src/cli/progress-reporter.ts";
import type { ExecutionProgress } from "../../src/connect/progress.ts";

function ctxCapturing(): { ctx: CliContext; err: string[] } {
  const err: string[] = [];
  const ctx = { env: {}, layout: {}, runDir: "", out: () => undefined, err: (l: string) => err.push(l) };
  return { ctx: ctx as unknown as CliContext, err };
}

const p = (done: number, total: number): ExecutionProgress => ({
  operationId: "op",
  stages: [{ stageId: 0, numTasks: total, numCompletedTasks: done, inputBytesRead: 0n, done: done === total }],
  inflightTasks: 0,
  tasksDone: done,
  tasksTotal: total,
  inputBytesRead: 0n,
});

describe("progressReporter", () => {
  it("lines mode: a line per step start/end and throttled progress lines with images/s", () => {
    const { ctx, err } = ctxCapturing();
    let t = 0;
    const r = progressReporter(ctx, { mode: "lines", lineIntervalMs: 5000, now: () => t });
    r.onStepStart?.("list");
    t = 1000;
    r.onStepEnd?.("list", 1000, "40 images");
    r.onInputCount?.(40);
    r.onStepStart?.("features");
    t = 3000;
    r.onProgress?.("features", p(1, 4));
    t = 6000;
    r.onProgress?.("features", p(2, 4));
    t = 6500;
    r.onProgress?.("features", p(3, 4));
    t = 9000;
    r.onStepEnd?.("features", 8000, "40 rows");
    r.stop();
    expect(err).toEqual(
      [
        "[1/5] listing images ...",
        "[1/5] listing images: done in 1.0 s",
        "[2/5] CNN features on the executors ...",
        "[2/5] CNN features on the executors: tasks 2/4, stages 0/1, ~4.0 images/s, ETA 5.0 s, 5.0 s elapsed",
        "[2/5] CNN features on the executors: done in 8.0 s (40 rows), 5.0 images/s",
      ].map((l, i) => (i === 1 ? `${l} (40 images)` : l)),
    );
  });

  it("quiet mode prints nothing", () => {
    const { ctx, err } = ctxCapturing();
    const r = progressReporter(ctx, { mode: "quiet" });
    r.onStepStart?.("list");
    r.onProgress?.("list", p(1, 2));
    r.onStepEnd?.("list", 5, "x");
    r.stop();
    expect(err).toEqual([]);
  });
});

describe("progressReporter with the sidecar's row counters", () => {
  it("lines mode: the first moving image count is printed at once, with images/s from the sidecar", async () => {
    const { ctx, err } = ctxCapturing();
    let t = 0;
    const reads = [
      { rowsServed: 100, rowsFailed: 1 },
      { rowsServed: 100, rowsFailed: 1 },
      { rowsServed: 110, rowsFailed: 3 },
    ];
    let calls = 0;
    const r = progressReporter(ctx, {
      mode: "lines",
      now: () => t,
      counterIntervalMs: 5,
      rowCounts: async () => reads[Math.min(calls++, reads.length - 1)] as (typeof reads)[number],
    });
    r.onInputCount?.(40);
    r.onStepStart?.("features");
    t = 2000;
    await new Promise((resolve) => setTimeout(resolve, 60));
    r.onStepEnd?.("features", 2000, "40 rows");
    r.stop();
    expect(err[0]).toBe("[2/5] CNN features on the executors ...");
    expect(err[1]).toBe("[2/5] CNN features on the executors: images 12/40, 6.0 images/s, ETA 4.7 s, 2.0 s elapsed");
    expect(err.at(-1)).toBe("[2/5] CNN features on the executors: done in 2.0 s (40 rows), 20 images/s");
    expect(err).toHaveLength(3);
  });

  it("falls back to Spark's task counts when the sidecar does not answer", async () => {
    const { ctx, err } = ctxCapturing();
    let t = 0;
    const r = progressReporter(ctx, {
      mode: "lines",
      lineIntervalMs: 1000,
      now: () => t,
      counterIntervalMs: 5,
      rowCounts: () => Promise.reject(new Error("no sidecar")),
    });
    r.onInputCount?.(40);
    r.onStepStart?.("features");
    await new Promise((resolve) => setTimeout(resolve, 30));
    t = 2000;
    r.onProgress?.("features", p(1, 2));
    r.onStepEnd?.("features", 2000);
    r.stop();
    expect(err[1]).toBe(
      "[2/5] CNN features on the executors: tasks 1/2, stages 0/1, ~10 images/s, ETA 2.0 s, 2.0 s elapsed",
    );
  });
});
