import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CliContext } from "../../src/cli/cli-context.ts";
import { EXIT } from "../../src/cli/exit-codes.ts";
import { installLayout } from "../../src/cli/local/install-layout.ts";
import { runCli } from "../../src/cli/program.ts";
import { benchFiguresFile, loadThroughput } from "../../src/emr/throughput-file.ts";

let dir: string;

/** A figure file of the shape bench/pipeline writes, with `endToEnd` images/s per core. */
function figures(endToEnd: number) {
  return {
    format: "orchard-throughput/1",
    measured: "2026-12-03T13:00:00.000Z",
    source: "bench/pipeline/run.ts",
    machine: { cores: 2, cpu: "fixture cpu", memoryGiB: 23.5, loadAverage1m: 1.5 },
    spark: "local[2] (2 cores)",
    model: "efficientnet-lite0",
    k: 50,
    imagesPerSecondPerCore: { endToEnd, features: endToEnd + 5, rawModel: endToEnd + 20, cpuBound: endToEnd * 2 },
    scales: [
      { scale: 1, images: 1188, coreCostRatio: 1, pcaShare: 0.2 },
      { scale: 4, images: 4752, coreCostRatio: 0.9, pcaShare: 0.07 },
    ],
  };
}

function write(path: string, content: unknown): string {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "orchard-throughput-unit-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("where orchard estimate takes its images/s per core from", () => {
  it.each([
    { name: "--throughput wins over the bench's file", flag: true, bench: true, origin: "--throughput", perCore: 11 },
    {
      name: "the bench's file on this machine",
      flag: false,
      bench: true,
      origin: "bench/pipeline on this machine",
      perCore: 22,
    },
  ])("$name", ({ flag, bench, origin, perCore }) => {
    const cacheRoot = join(dir, "cache");
    const given = write(join(dir, "given.json"), figures(11));
    if (bench) write(benchFiguresFile(cacheRoot), figures(22));
    const got = loadThroughput({ ...(flag ? { flag: given } : {}), cacheRoot });
    expect(got.origin).toBe(origin);
    expect(got.path).toBe(flag ? given : benchFiguresFile(cacheRoot));
    expect(got.throughput.imagesPerSecondPerCore.endToEnd).toBe(perCore);
    expect(got.throughput.scales?.map((s) => s.scale)).toEqual([1, 4]);
  });

  it("falls back to the committed emr/throughput.json, which parses", () => {
    const got = loadThroughput({ cacheRoot: join(dir, "empty-cache") });
    expect(got.origin).toBe("committed default");
    expect(got.path).toMatch(/emr\/throughput\.json$/);
    expect(got.throughput.imagesPerSecondPerCore.endToEnd).toBeGreaterThan(0);
  });

  it.each([
    {
      name: "a missing field",
      content: { ...figures(10), imagesPerSecondPerCore: { features: 3 } },
      message: /^invalid --throughput \S+bad\.json \(imagesPerSecondPerCore\.endToEnd\): expected/,
    },
    {
      name: "a field of the wrong type",
      content: { ...figures(10), machine: { cores: "two", cpu: "x" } },
      message: /^invalid --throughput \S+bad\.json \(machine\.cores\): expected/,
    },
    {
      name: "a non-positive figure",
      content: figures(0),
      message: /^invalid --throughput \S+bad\.json \(imagesPerSecondPerCore\.endToEnd\): expected/,
    },
    {
      name: "not JSON",
      content: "{ not json",
      message: /^invalid --throughput \S+bad\.json: expected a JSON document/,
    },
  ])("a bad file ($name) is a config error naming the file and the field", ({ content, message }) => {
    const bad = write(join(dir, "bad.json"), content);
    expect(() => loadThroughput({ flag: bad, cacheRoot: dir })).toThrow(message);
  });

  it("a bad file in the cache is named as such", () => {
    const cacheRoot = join(dir, "cache");
    write(benchFiguresFile(cacheRoot), { ...figures(10), measured: 3 });
    expect(() => loadThroughput({ cacheRoot })).toThrow(
      `invalid throughput file ${benchFiguresFile(cacheRoot)} (measured): expected`,
    );
  });

  it("a missing --throughput file is a config error naming it", () => {
    const missing = join(dir, "nope.json");
    expect(() => loadThroughput({ flag: missing, cacheRoot: dir })).toThrow(
      `invalid --throughput ${missing}: expected a readable JSON file`,
    );
  });
});

describe("orchard estimate prints where its figure came from", () => {
  const run = async (args: string[], cacheRoot: string) => {
    const out: string[] = [];
    const err: string[] = [];
    const ctx: CliContext = {
      env: {},
      layout: installLayout(cacheRoot),
      runDir: join(dir, "run"),
      out: (l) => out.push(l),
      err: (l) => err.push(l),
    };
    return { code: await runCli(["estimate", "--images", "100000", ...args], ctx), out: out.join("\n"), err };
  };

  it("the bench's file on this machine: file, date, machine and the measured flatness among the assumptions", async () => {
    const cacheRoot = join(dir, "cache");
    const file = write(benchFiguresFile(cacheRoot), figures(40));
    const r = await run([], cacheRoot);
    expect(r.code).toBe(EXIT.ok);
    expect(r.out).toContain("40 images/s per core end to end (features alone 45; 80 per CPU-second our processes used");
    expect(r.out).toContain("on 2026-12-03 on a 2-core fixture cpu (load average 1.5 while measuring)");
    expect(r.out).toContain(`from ${file} (bench/pipeline on this machine)`);
    expect(r.out).toContain("the bench's cost per image at 4x was 0.90x its 1x one, the PCA fit 7.0% of the wall time");
    // 40/s/core x 8 vCPUs x 2 nodes
    expect(r.out).toContain("at ~640 images/s");
  });

  it("--throughput with a bad file exits 2 with one line naming the file and the field", async () => {
    const bad = write(join(dir, "bad.json"), { ...figures(40), model: 7 });
    const r = await run(["--throughput", bad], join(dir, "cache"));
    expect(r.code).toBe(EXIT.config);
    expect(r.err).toEqual([
      expect.stringMatching(new RegExp(`^orchard: invalid --throughput ${bad} \\(model\\): expected`)),
    ]);
  });

  it("--json carries the file and its origin", async () => {
    const given = write(join(dir, "given.json"), figures(25));
    const r = await run(["--throughput", given, "--json"], join(dir, "cache"));
    expect(JSON.parse(r.out).throughputFile).toEqual({ path: given, origin: "--throughput" });
  });
});
