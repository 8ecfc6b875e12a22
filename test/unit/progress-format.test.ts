import { describe, expect, it } from "vitest";
import {
  barParts,
  barPosition,
  etaMs,
  formatBytes,
  formatDuration,
  formatRate,
  imagesPerSecond,
  lineDue,
  progressLine,
  progressParts,
  stepDoneLine,
} from "../../src/cli/progress-format.ts";
import { progressMode } from "../../src/cli/progress-reporter.ts";
import type { ExecutionProgress } from "../../src/connect/progress.ts";

function progress(
  stages: Array<[tasks: number, done: number, bytes: number, finished: boolean]>,
  inflight = 0,
): ExecutionProgress {
  const st = stages.map(([numTasks, numCompletedTasks, bytes, done], i) => ({
    stageId: i,
    numTasks,
    numCompletedTasks,
    inputBytesRead: BigInt(bytes),
    done,
  }));
  return {
    operationId: "op",
    stages: st,
    inflightTasks: inflight,
    tasksDone: st.reduce((a, s) => a + s.numCompletedTasks, 0),
    tasksTotal: st.reduce((a, s) => a + s.numTasks, 0),
    inputBytesRead: st.reduce((a, s) => a + s.inputBytesRead, 0n),
  };
}

describe("formatBytes", () => {
  it.each([
    [0, "0 B"],
    [1023, "1023 B"],
    [1024, "1.0 KiB"],
    [1536, "1.5 KiB"],
    [12.5 * 1024 * 1024, "12.5 MiB"],
    [3.25 * 1024 ** 3, "3.3 GiB"],
    [2n * 1024n ** 4n, "2.0 TiB"],
    [-5, "0 B"],
  ] as const)("%s -> %s", (n, want) => {
    expect(formatBytes(n)).toBe(want);
  });
});

describe("formatDuration", () => {
  it.each([
    [0, "0.0 s"],
    [400, "0.4 s"],
    [9_949, "9.9 s"],
    [12_400, "12 s"],
    [59_400, "59 s"],
    [65_000, "1 m 05 s"],
    [3_599_000, "59 m 59 s"],
    [3_780_000, "1 h 03 m"],
    [-1, "?"],
    [Number.NaN, "?"],
  ])("%s ms -> %s", (ms, want) => {
    expect(formatDuration(ms)).toBe(want);
  });
});

describe("etaMs", () => {
  it.each([
    [0, 10, 5000, undefined],
    [5, 0, 5000, undefined],
    [5, 10, 5000, 5000],
    [1, 4, 3000, 9000],
    [10, 10, 5000, 0],
    [12, 10, 5000, 0],
  ])("%s/%s after %s ms -> %s", (done, total, elapsed, want) => {
    expect(etaMs(done, total, elapsed)).toBe(want);
  });
});

describe("imagesPerSecond / formatRate", () => {
  it.each([
    [100, 0.5, 5000, 10],
    [100, 1, 4000, 25],
    [100, 2, 4000, 25],
    [0, 0.5, 1000, undefined],
    [100, 0, 1000, undefined],
    [100, 0.5, 0, undefined],
  ])("%s images, %s done, %s ms -> %s/s", (images, share, ms, want) => {
    expect(imagesPerSecond(images, share, ms)).toBe(want);
  });
  it.each([
    [123.4, "123 images/s"],
    [8.34, "8.3 images/s"],
    [0.254, "0.25 images/s"],
  ])("%s -> %s", (rate, want) => {
    expect(formatRate(rate)).toBe(want);
  });
});

describe("progressParts / progressLine", () => {
  it.each([
    {
      name: "before Spark reports",
      snap: { title: "[1/5] listing images", countsImages: false, elapsedMs: 1200 },
      want: "[1/5] listing images: 1.2 s elapsed",
      bar: "1.2 s elapsed",
    },
    {
      name: "features step half done",
      snap: {
        title: "[2/5] CNN features",
        spark: progress(
          [
            [4, 2, 3 * 1024 * 1024, false],
            [1, 0, 0, false],
          ],
          2,
        ),
        images: 100,
        countsImages: true,
        elapsedMs: 4000,
      },
      want: "[2/5] CNN features: tasks 2/5, stages 0/2, 2 running, 3.0 MiB read, ~10 images/s, ETA 6.0 s, 4.0 s elapsed",
      bar: "tasks 2/5, ~10 images/s, ETA 6.0 s, stages 0/2, 2 running, 3.0 MiB read",
    },
    {
      name: "a step that does not count images, nothing read",
      snap: {
        title: "[3/5] PCA",
        spark: progress([
          [2, 2, 0, true],
          [2, 1, 0, false],
        ]),
        images: 100,
        countsImages: false,
        elapsedMs: 30_000,
      },
      want: "[3/5] PCA: tasks 3/4, stages 1/2, ETA 10 s, 30 s elapsed",
      bar: "tasks 3/4, ETA 10 s, stages 1/2",
    },
    {
      name: "nothing done yet: no rate, no ETA",
      snap: {
        title: "[2/5] CNN features",
        spark: progress([[4, 0, 0, false]], 2),
        images: 100,
        countsImages: true,
        elapsedMs: 2000,
      },
      want: "[2/5] CNN features: tasks 0/4, stages 0/1, 2 running, 2.0 s elapsed",
      bar: "tasks 0/4, stages 0/1, 2 running, 2.0 s elapsed",
    },
  ])("$name", ({ snap, want, bar }) => {
    expect(progressLine(snap)).toBe(want);
    expect(progressParts(snap).join(", ")).toBe(want.slice(want.indexOf(": ") + 2));
    expect(barParts(snap).join(", ")).toBe(bar);
  });
});

describe("barPosition, lineDue, stepDoneLine, progressMode", () => {
  it.each([
    [undefined, { value: 0, total: 1 }],
    [progress([]), { value: 0, total: 1 }],
    [progress([[8, 3, 0, false]]), { value: 3, total: 8 }],
  ])("bar for %#", (p, want) => {
    expect(barPosition(p)).toEqual(want);
  });
  it.each([
    [undefined, 0, 5000, true],
    [1000, 5999, 5000, false],
    [1000, 6000, 5000, true],
  ])("line after %s at %s every %s -> %s", (last, now, every, want) => {
    expect(lineDue(last, now, every)).toBe(want);
  });
  it.each([
    ["[2/5] CNN", 10_000, "129 rows", 129, "[2/5] CNN: done in 10 s (129 rows), 13 images/s"],
    ["[3/5] PCA", 2500, undefined, undefined, "[3/5] PCA: done in 2.5 s"],
    ["[2/5] CNN", 0, "x", 5, "[2/5] CNN: done in 0.0 s (x)"],
  ])("%s %s ms", (title, ms, detail, images, want) => {
    expect(stepDoneLine(title, ms, detail, images)).toBe(want);
  });
  it.each([
    [true, true, "quiet"],
    [true, false, "quiet"],
    [false, true, "bar"],
    [false, false, "lines"],
  ] as const)("quiet=%s tty=%s -> %s", (quiet, isTTY, want) => {
    expect(progressMode({ quiet, isTTY })).toBe(want);
  });
});
