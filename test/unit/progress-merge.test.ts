import { describe, expect, it } from "vitest";
import { type ImageProgress, mergeImageProgress } from "../../src/cli/progress-merge.ts";

const c = (rowsServed: number, rowsFailed = 0) => ({ rowsServed, rowsFailed });

describe("mergeImageProgress: the sidecar's counters against the step's baseline", () => {
  const base = { total: 100, startedMs: 0, nowMs: 4000, staleMs: 3000 };
  const cases: {
    name: string;
    args: Partial<Parameters<typeof mergeImageProgress>[0]>;
    want: ImageProgress | undefined;
  }[] = [
    {
      name: "served and failed rows since the baseline, rate over the time since the step started",
      args: { baseline: c(500, 7), latest: { counts: c(530, 9), atMs: 4000 } },
      want: { done: 32, total: 100, perSecond: 8 },
    },
    {
      name: "nothing answered yet: 0 done, no rate",
      args: { baseline: c(5), latest: { counts: c(5), atMs: 2000 } },
      want: { done: 0, total: 100 },
    },
    {
      name: "no sidecar answered at the start: Spark's tasks instead",
      args: { baseline: undefined, latest: { counts: c(9), atMs: 4000 } },
      want: undefined,
    },
    { name: "no read after the baseline yet", args: { baseline: c(0), latest: undefined }, want: undefined },
    {
      name: "the sidecar stopped answering (stale sample)",
      args: { baseline: c(0), latest: { counts: c(40), atMs: 500 } },
      want: undefined,
    },
    {
      name: "the sidecar restarted (counters below the baseline)",
      args: { baseline: c(900), latest: { counts: c(12), atMs: 4000 } },
      want: undefined,
    },
    {
      name: "other clients' rows beyond the total are capped",
      args: { baseline: c(0), latest: { counts: c(250), atMs: 4000 } },
      want: { done: 100, total: 100, perSecond: 25 },
    },
    {
      name: "total not known yet",
      args: { total: undefined, baseline: c(0), latest: { counts: c(3), atMs: 4000 } },
      want: undefined,
    },
  ];
  for (const { name, args, want } of cases) {
    it(name, () => {
      expect(mergeImageProgress({ ...base, baseline: undefined, latest: undefined, ...args })).toEqual(want);
    });
  }
});
