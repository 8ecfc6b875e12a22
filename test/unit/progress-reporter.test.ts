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
