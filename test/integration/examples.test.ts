import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { LocalSpark } from "../../src/cli/local/spark-server.ts";
import { startExtraSpark } from "./helpers/extra-spark.ts";
import { REPO_ROOT, testLayout } from "./helpers/test-paths.ts";

// Every notebook-style example in examples/, run as a user runs it (tsx, top-level await, the
// `orchard` package entry) against the real Spark Connect server and sidecar, so they cannot rot.
// Their printed results are checked against figures computed here independently.

const remote = inject("sparkRemote");
const sidecar = inject("sidecar");
const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), "orchard-examples-"));
const pipelineOut = pathToFileURL(join(work, "pipeline")).href;

async function example(name: string, env: Record<string, string> = {}, args: string[] = []): Promise<string> {
  const { stdout } = await run(process.execPath, ["--import", "tsx", join(REPO_ROOT, "examples", name), ...args], {
    cwd: REPO_ROOT,
    timeout: 600_000,
    maxBuffer: 16 * 1024 * 1024,
    env: {
      ...process.env,
      SPARK_REMOTE: remote,
      ORCHARD_SIDECAR: sidecar,
      ORCHARD_EXAMPLE_OUTPUT: pipelineOut,
      ...env,
    },
  });
  return stdout;
}

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("examples/", () => {
  it("are all covered here", () => {
    expect(
      readdirSync(join(REPO_ROOT, "examples"))
        .filter((f) => f.endsWith(".ts"))
        .sort(),
    ).toEqual([
      "01-explore-images.ts",
      "02-pipeline-step-by-step.ts",
      "03-inspect-output.ts",
      "04-remote-with-token.ts",
      "05-submit-driver.ts",
    ]);
  });

  it("01 explores the sample images: counts per split and label, sizes", async () => {
    const fruits = join(testLayout().cacheRoot, "data", "fruits");
    const dirs = (p: string) =>
      readdirSync(p, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name);
    const images = (p: string) => readdirSync(p).filter((f) => /\.(jpe?g|png)$/i.test(f));
    const splits = dirs(fruits);
    const perSplit = splits.map((s) => dirs(join(fruits, s)).flatMap((l) => images(join(fruits, s, l))));
    const labels = new Set(splits.flatMap((s) => dirs(join(fruits, s))));
    const out = await example("01-explore-images.ts");
    expect(out).toContain(`${perSplit.flat().length} image files`);
    expect(out).toContain(`${labels.size} classes`);
    for (const [i, s] of splits.entries())
      expect(out).toMatch(new RegExp(`\\|\\s*${s}\\|\\s*${perSplit[i]?.length}\\|`));
    expect(out).toMatch(/\|\s*label\|min_bytes\|avg_bytes\|max_bytes\|/);
  });

  it("02 runs the pipeline step by step and writes an output folder", async () => {
    const out = await example("02-pipeline-step-by-step.ts");
    const n = Number(/1\. ingest: (\d+) images/.exec(out)?.[1]);
    expect(n).toBe(12);
    const dim = Number(new RegExp(`2\\. features: ${n} rows, 0 failed, (\\d+) numbers per image`).exec(out)?.[1]);
    expect(dim).toBeGreaterThan(3);
    expect(out).toMatch(/3\. pca: k=3, explained variance per component \d+\.\d%, \d+\.\d%, \d+\.\d%/);
    expect(out).toContain(`4. write: ${n} rows in ${pipelineOut}/data`);
  });

  it("03 loads that output and finds nearest neighbours in PCA space", async () => {
    const out = await example("03-inspect-output.ts");
    expect(out).toContain("12 rows with a projection");
    expect(out).toMatch(/model: 3 components/);
    const table = out.split("\n").filter((l) => /^\|[a-z_]+\s*\|\d/.test(l));
    expect(table).toHaveLength(5);
    const distances = table.map((l) => Number(l.split("|")[2]));
    expect([...distances].sort((a, b) => a - b)).toEqual(distances);
    expect(out).toMatch(/[0-5] of the 5 nearest neighbours share the query's label/);
  });

  describe("04 against a server that requires a token", () => {
    const token = `tok-${process.pid}-${Date.now()}`;
    let server: LocalSpark;
    beforeAll(async () => {
      server = await startExtraSpark({ token });
    }, 300_000);
    afterAll(async () => {
      await server?.stop();
    });

    it("connects with the token, computes, and a wrong token is refused without leaking it", async () => {
      const port = new URL(server.remote.replace(/^sc:/, "http:")).port;
      const out = await example("04-remote-with-token.ts", {
        SPARK_CONNECT_HOST: "127.0.0.1",
        SPARK_CONNECT_PORT: port,
        SPARK_CONNECT_TOKEN: token,
      });
      const sumOfSquares = (1000 * 1001 * 2001) / 6;
      expect(out).toContain(`sum of the first 1000 squares: ${sumOfSquares}`);
      expect(out).toContain(`connecting to sc://127.0.0.1:${port}/;token=<redacted>`);
      expect(out).toMatch(/wrong token refused: .*UNAUTHENTICATED/);
      expect(out).not.toContain(token);
    });
  });

  // Its real use, through `orchard submit` with a server of its own, is tested in submit.test.ts.
  it("05 (the orchard submit driver) also runs on its own against SPARK_REMOTE, taking its arguments", async () => {
    const out = await example("05-submit-driver.ts", {}, ["300", "--partitions", "2"]);
    expect(out).toContain("driver arguments: n=300 partitions=2");
    expect(out).toMatch(/application \S+ on master local/);
    expect(out).toContain(`sum of the first 300 squares: ${(300 * 301 * 601) / 6}`);
  });
});
