import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { LocalSpark } from "../../src/cli/local/spark-server.ts";
import { col } from "../../src/connect/functions.ts";
import { SparkSession } from "../../src/connect/spark-session.ts";
import { cosine } from "../support/vectors.ts";
import { cliEnv } from "./helpers/cli-env.ts";
import { startExtraSpark } from "./helpers/extra-spark.ts";
import { REPO_ROOT, testLayout } from "./helpers/test-paths.ts";

// The one-sidecar-per-node design without Docker: on `local-cluster[2,1,1024]` the executors are
// two JVMs of their own, each starting bridges that feed the node's sidecar. The same images
// must give the same rows, and the same features, as on the shared `local[2]` server.

const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), "orchard-local-cluster-"));
const CLASSES = ["apple_red", "banana", "lemon"];
let cluster: LocalSpark | undefined;
let executorsBefore = new Set<number>();

/** Pids of Spark executor JVMs on this machine (read from /proc, never signalled). */
function executorPids(): number[] {
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/cmdline`, "utf8").includes("CoarseGrainedExecutorBackend");
      } catch {
        return false;
      }
    })
    .map(Number);
}

async function orchard(remote: string, output: string): Promise<void> {
  await run(
    process.execPath,
    [
      join(REPO_ROOT, "bin", "orchard.mjs"),
      "run",
      ...["--input", join(work, "in"), "--output", output, "--k", "4", "--keep-features", "--partitions", "4"],
      ...["--no-start", "--quiet"],
    ],
    { cwd: REPO_ROOT, timeout: 900_000, env: { ...cliEnv(), SPARK_REMOTE: remote } },
  );
}

type Features = Map<string, { features: number[] | null; error: unknown }>;

async function featuresOf(spark: SparkSession, output: string): Promise<Features> {
  const rows = await spark.read
    .parquet(pathToFileURL(join(output, "data")).href)
    .select(col("path"), col("features"), col("error"))
    .collect();
  return new Map(
    rows.map((r) => [
      String(r.get("path")).split("/").slice(-2).join("/"),
      {
        features: r.get("features") === null ? null : Array.from(r.get("features") as ArrayLike<number>),
        error: r.get("error"),
      },
    ]),
  );
}

beforeAll(async () => {
  executorsBefore = new Set(executorPids());
  const starting = startExtraSpark({ master: "local-cluster[2,1,1024]" });
  const fruits = join(testLayout().cacheRoot, "data", "fruits", "Training");
  for (const label of CLASSES) {
    mkdirSync(join(work, "in", label), { recursive: true });
    for (const f of readdirSync(join(fruits, label)).sort().slice(0, 8))
      copyFileSync(join(fruits, label, f), join(work, "in", label, f));
  }
  cluster = await starting;
}, 300_000);

afterAll(async () => {
  await cluster?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe("the pipeline on local-cluster (executors in separate JVMs)", () => {
  it("gives the same rows and features as on local[2]", async () => {
    const server = cluster as LocalSpark;
    const spark = SparkSession.builder.remote(server.remote).create();
    try {
      // Two executor JVMs of this cluster really are there, apart from the driver's.
      expect(await spark.conf.get("spark.master")).toBe("local-cluster[2,1,1024]");
      expect(executorPids().filter((pid) => !executorsBefore.has(pid)).length).toBeGreaterThanOrEqual(2);
      await orchard(server.remote, join(work, "cluster"));
      await orchard(inject("sparkRemote"), join(work, "local"));
      const onCluster = await featuresOf(spark, join(work, "cluster"));
      const onLocal = await featuresOf(spark, join(work, "local"));
      expect(onCluster.size).toBe(CLASSES.length * 8);
      expect([...onCluster.keys()].sort()).toEqual([...onLocal.keys()].sort());
      for (const [path, row] of onCluster) {
        const local = onLocal.get(path);
        expect(row.error, path).toBeNull();
        expect(local?.error, path).toBeNull();
        expect(cosine(row.features as number[], local?.features as number[]), path).toBeGreaterThan(0.9999);
      }
    } finally {
      await spark.stop();
    }
  });
});
