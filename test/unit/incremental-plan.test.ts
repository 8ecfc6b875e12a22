import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.ts";
import {
  checkIncrementalAgainst,
  type IncrementalRequest,
  planIncrement,
  planTotals,
  type StatusCounts,
} from "../../src/pipeline/incremental-plan.ts";
import { PipelineError } from "../../src/pipeline/pipeline-error.ts";
import { fullRunCounts, historyAfter, type RunRecord } from "../../src/pipeline/run-history.ts";
import type { RunSummary } from "../../src/pipeline/run-summary.ts";

const counts = (c: Partial<StatusCounts>): StatusCounts => ({ new: 0, changed: 0, unchanged: 0, removed: 0, ...c });

describe("planIncrement", () => {
  it.each([
    // counts, options, featurize, keepRows, publication, featurized, rows
    [{ new: 5, unchanged: 10 }, {}, ["new", "changed"], ["unchanged", "removed"], "append", 5, 15],
    [{ unchanged: 10 }, {}, ["new", "changed"], ["unchanged", "removed"], "append", 0, 10],
    [{ new: 2, changed: 1, unchanged: 9 }, {}, ["new", "changed"], ["unchanged", "removed"], "rewrite", 3, 12],
    [{ new: 2, unchanged: 9, removed: 3 }, {}, ["new", "changed"], ["unchanged", "removed"], "append", 2, 14],
    [{ new: 2, unchanged: 9, removed: 3 }, { prune: true }, ["new", "changed"], ["unchanged"], "rewrite", 2, 11],
    [{ unchanged: 9 }, { prune: true }, ["new", "changed"], ["unchanged"], "append", 0, 9],
    [
      { new: 2, unchanged: 9 },
      { refit: true, keepFeatures: true },
      ["new", "changed"],
      ["unchanged", "removed"],
      "rewrite",
      2,
      11,
    ],
    [{ new: 2, unchanged: 9 }, { refit: true }, ["new", "changed", "unchanged"], ["removed"], "rewrite", 11, 11],
    [
      { new: 2, unchanged: 9, removed: 1 },
      { refit: true, prune: true },
      ["new", "changed", "unchanged"],
      [],
      "rewrite",
      11,
      11,
    ],
  ] as const)(
    "%j with %j: featurize %j, keep %j, %s (%d featurized, %d rows)",
    (c, o, featurize, keepRows, publication, featurized, rows) => {
      const plan = planIncrement(counts(c), { refit: false, prune: false, keepFeatures: false, ...o });
      expect(plan.featurize).toEqual(featurize);
      expect(plan.keepRows).toEqual(keepRows);
      expect(plan.publication).toBe(publication);
      expect(planTotals(counts(c), plan)).toEqual({ featurized, rows });
    },
  );

  it("counts the pruned files only with --prune", () => {
    expect(planIncrement(counts({ removed: 3 }), { refit: false, prune: false, keepFeatures: false }).pruned).toBe(0);
    expect(planIncrement(counts({ removed: 3 }), { refit: false, prune: true, keepFeatures: false }).pruned).toBe(3);
  });

  it("refuses --refit without kept features when files were removed and not pruned", () => {
    expect(() =>
      planIncrement(counts({ unchanged: 4, removed: 1 }), { refit: true, prune: false, keepFeatures: false }),
    ).toThrow(PipelineError);
    expect(() =>
      planIncrement(counts({ unchanged: 4, removed: 1 }), { refit: true, prune: false, keepFeatures: true }),
    ).not.toThrow();
  });
});

const previous = {
  input: "file:///data/in",
  model: { name: "efficientnet-lite0", sha256: "ab".repeat(32) },
  keepFeatures: false,
} as RunSummary;

describe("checkIncrementalAgainst", () => {
  const ok: IncrementalRequest = { input: "file:///data/in", keepFeatures: false, model: "efficientnet-lite0" };
  it("accepts the same input, model and --keep-features", () => {
    expect(() => checkIncrementalAgainst(previous, ok)).not.toThrow();
    expect(() =>
      checkIncrementalAgainst(previous, {
        ...ok,
        expectedModel: { name: "efficientnet-lite0", sha256: "ab".repeat(32) },
      }),
    ).not.toThrow();
    // A checksum the driver could not compute is not a mismatch.
    expect(() =>
      checkIncrementalAgainst(previous, { ...ok, expectedModel: { name: "efficientnet-lite0", sha256: null } }),
    ).not.toThrow();
  });

  it.each([
    [{ input: "file:///data/other" }, "--input", "file:///data/in"],
    [{ model: "mobilenet-v3-small" }, "--model", "efficientnet-lite0"],
    [{ expectedModel: { name: "efficientnet-lite0", sha256: "cd".repeat(32) } }, "--model", "sha256"],
    [{ keepFeatures: true }, "--keep-features", "did not keep"],
  ] as const)("refuses %j naming %s", (change, field, words) => {
    let error: unknown;
    try {
      checkIncrementalAgainst(previous, { ...ok, ...change });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).field).toBe(field);
    expect((error as ConfigError).message).toContain(field);
    expect((error as ConfigError).message).toContain(words);
  });
});

describe("run history", () => {
  const record = (runId: string, mode: RunRecord["mode"]): RunRecord => ({
    runId,
    mode,
    publishedAt: "2026-12-03T12:00:00.000Z",
    counts: fullRunCounts(3, 1),
    removedSample: [],
    pcaRefit: mode === "full",
    timingsMs: { list: 5 },
    wallMs: 10,
  });

  it("a full run starts it, an incremental run extends it, oldest first", () => {
    const one = historyAfter(undefined, record("a", "full"));
    const two = historyAfter(one, record("b", "incremental"));
    const three = historyAfter(two, record("c", "incremental"));
    expect(three.map((r) => [r.runId, r.mode])).toEqual([
      ["a", "full"],
      ["b", "incremental"],
      ["c", "incremental"],
    ]);
    expect(historyAfter(three, record("d", "full")).map((r) => r.runId)).toEqual(["d"]);
    // The earlier history is not changed in place.
    expect(one).toHaveLength(1);
  });

  it("a full run's counts: every listed file new and featurized", () => {
    expect(fullRunCounts(7, 2)).toEqual({
      listed: 7,
      new: 7,
      changed: 0,
      unchanged: 0,
      removed: 0,
      pruned: 0,
      featurized: 7,
      failed: 2,
    });
  });

  it("survives a JSON round trip with every field (run.json)", () => {
    const r = record("a", "incremental");
    expect(JSON.parse(JSON.stringify(historyAfter([], r)))).toEqual([r]);
    expect(Object.keys(r).sort()).toEqual(
      ["counts", "mode", "pcaRefit", "publishedAt", "removedSample", "runId", "timingsMs", "wallMs"].sort(),
    );
  });
});
