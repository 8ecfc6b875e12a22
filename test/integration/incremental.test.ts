import { type ChildProcess, spawn } from "node:child_process";
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { listObjects, uploadFolder } from "../../src/cli/local/s3-objects.ts";
import { SparkSession } from "../../src/connect/spark-session.ts";
import type { RunSummary } from "../../src/pipeline/run-summary.ts";
import { s3Client } from "../../src/s3.ts";
import { cliEnv } from "./helpers/cli-env.ts";
import { orchardFails as fails, orchardOk } from "./helpers/orchard-cli.ts";
import { REPO_ROOT, testLayout } from "./helpers/test-paths.ts";

const orchard = (args: string[]) => orchardOk([...args, "--no-start"]);
const orchardFails = (args: string[]) => fails([...args, "--no-start"]);

// Issue 15 part 3, incremental runs, end to end with the real Spark, sidecar and CNN: `orchard run`
// on half the sample images, then `orchard run --incremental` on all of them featurizes only the
// new half (run.json and the progress say so) and equals `orchard transform` with the same model
// on all of them; a changed file is featurized again, a removed one reported and kept, dropped
// with --prune; --refit fits the PCA again; a killed incremental run leaves the old output as it
// was; and the options that cannot work are refused before any Spark work.

const remote = inject("sparkRemote");
const work = mkdtempSync(join(tmpdir(), "orchard-incremental-"));
const input = join(work, "in");
const PER_CLASS = 8;
const CLASSES = 4;
let spark: SparkSession;
/** The sample files chosen, by class: the first half goes in at first, the second half later. */
const chosen: { label: string; files: string[] }[] = [];
const started = new Set<ChildProcess>();

beforeAll(() => {
  const fruits = join(testLayout().cacheRoot, "data", "fruits", "Training");
  for (const label of readdirSync(fruits).sort().slice(0, CLASSES)) {
    const files = readdirSync(join(fruits, label)).sort().slice(0, PER_CLASS);
    chosen.push({ label, files: files.map((f) => join(fruits, label, f)) });
  }
  copyHalf(0);
  spark = SparkSession.builder.remote(remote).getOrCreate();
});

afterAll(async () => {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await spark?.stop().catch(() => undefined);
  rmSync(work, { recursive: true, force: true });
});

/** Copies the first (0) or second (1) half of each class's chosen files into the input. */
function copyHalf(half: 0 | 1): void {
  for (const { label, files } of chosen) {
    mkdirSync(join(input, label), { recursive: true });
    const part = half === 0 ? files.slice(0, PER_CLASS / 2) : files.slice(PER_CLASS / 2);
    for (const f of part) copyFileSync(f, join(input, label, f.split("/").at(-1) as string));
  }
}

function runJson(out: string): RunSummary {
  return JSON.parse(readFileSync(join(out, "run.json"), "utf8")) as RunSummary;
}

interface Row {
  label: string;
  pca: number[] | null;
  error: string | null;
}

/** data/ of an output, by path (fails on a duplicate path). */
async function rows(out: string): Promise<Map<string, Row>> {
  const got = await spark.read
    .parquet(`${pathToFileURL(out).href}/data`)
    .select("path", "label", "pca", "error")
    .collect();
  const byPath = new Map<string, Row>();
  for (const r of got) {
    const path = String(r.get(0));
    expect(byPath.has(path), `duplicate row for ${path}`).toBe(false);
    const pca = r.get(2) as ArrayLike<number> | null;
    byPath.set(path, {
      label: String(r.get(1)),
      pca: pca === null ? null : Array.from(pca),
      error: (r.get(3) as string | null) ?? null,
    });
  }
  return byPath;
}

function cosine(a: readonly number[], b: readonly number[]): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += (a[i] as number) * (b[i] as number);
    aa += (a[i] as number) ** 2;
    bb += (b[i] as number) ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}

/** Same paths, same labels, and per image a cosine >= 0.999 between the two `pca` vectors. */
function expectSameRows(got: Map<string, Row>, want: Map<string, Row>): void {
  expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
  for (const [path, w] of want) {
    const g = got.get(path) as Row;
    expect(g.label, path).toBe(w.label);
    expect(g.error, path).toBe(w.error);
    expect(g.pca?.length, path).toBe(w.pca?.length);
    if (w.pca && g.pca) expect(cosine(g.pca, w.pca), path).toBeGreaterThanOrEqual(0.999);
  }
}

/** The Parquet part files of a dataset folder with their modification times. */
function partFiles(folder: string): Record<string, number> {
  return Object.fromEntries(
    readdirSync(folder)
      .filter((n) => n.endsWith(".parquet"))
      .map((n) => [n, statSync(join(folder, n)).mtimeMs]),
  );
}

const COMMON = ["--input", input, "--partitions", "2"];

describe("orchard run --incremental (real Spark, sidecar, CNN)", () => {
  const out = join(work, "out");
  const total = CLASSES * PER_CLASS;
  const half = total / 2;

  it("featurizes only the new half, and equals a full projection with the same model", async () => {
    await orchard(["run", ...COMMON, "--output", out, "--k", "4"]);
    const first = runJson(out);
    expect(first.counts).toEqual({ filesIn: half, rowsOut: half, failed: 0 });
    expect(first.history).toHaveLength(1);
    expect(first.history[0]).toMatchObject({
      mode: "full",
      pcaRefit: true,
      counts: { listed: half, featurized: half },
    });
    const firstParts = partFiles(join(out, "data"));
    const model = readFileSync(join(out, "pca-model", "orchard.json"), "utf8");

    copyHalf(1);
    const { stdout, stderr } = await orchard(["run", "--incremental", ...COMMON, "--output", out]);
    const second = runJson(out);
    expect(second.runId).not.toBe(first.runId);
    expect(second.history.map((h) => h.mode)).toEqual(["full", "incremental"]);
    expect(second.history[1]).toMatchObject({
      runId: second.runId,
      pcaRefit: false,
      counts: {
        listed: total,
        new: half,
        changed: 0,
        unchanged: half,
        removed: 0,
        pruned: 0,
        featurized: half,
        failed: 0,
      },
      removedSample: [],
    });
    expect(second.counts).toEqual({ filesIn: total, rowsOut: total, failed: 0 });
    expect(second.k).toBe(4);
    expect(second.explainedVariance).toEqual(first.explainedVariance);
    expect(stderr).toContain(`${total} images: ${half} new, 0 changed, ${half} unchanged skipped; featurizing ${half}`);
    expect(stdout).toMatch(
      new RegExp(
        `incremental: +${total} listed: ${half} new, 0 changed, ${half} unchanged, 0 removed; ${half} featurized`,
      ),
    );
    // Appended: the first run's part files are still there, untouched, and the saved model is the same.
    const parts = partFiles(join(out, "data"));
    for (const [name, mtime] of Object.entries(firstParts)) expect(parts[name]).toBe(mtime);
    expect(Object.keys(parts).length).toBeGreaterThan(Object.keys(firstParts).length);
    expect(readFileSync(join(out, "pca-model", "orchard.json"), "utf8")).toBe(model);
    expect(readdirSync(out).sort()).toEqual(["data", "files", "pca-model", "report.html", "run.json"]);
    expect(await spark.read.parquet(`${pathToFileURL(out).href}/files`).count()).toBe(total);

    // The reference: every image featurized and projected with the same saved model.
    const ref = join(work, "ref");
    await orchard(["transform", ...COMMON, "--output", ref, "--pca-model", join(out, "pca-model")]);
    expectSameRows(await rows(out), await rows(ref));
  });

  it("featurizes a changed file again, reports a removed one and keeps its row, drops it with --prune", async () => {
    const before = await rows(out);
    const [a, b] = chosen.map((c) => c.files[0]?.split("/").at(-1) as string);
    const changed = join(input, chosen[0]?.label as string, a as string);
    const removed = join(input, chosen[1]?.label as string, b as string);
    const changedPath = pathToFileURL(changed).href.replace("file:///", "file:/");
    const removedPath = pathToFileURL(removed).href.replace("file:///", "file:/");
    writeFileSync(changed, await sharp(readFileSync(changed)).flop().jpeg().toBuffer());
    const later = new Date(Date.now() + 60_000);
    utimesSync(changed, later, later);
    rmSync(removed);

    const { stdout, stderr } = await orchard(["run", "--incremental", ...COMMON, "--output", out]);
    const s = runJson(out);
    expect(s.history.at(-1)).toMatchObject({
      counts: { listed: total - 1, new: 0, changed: 1, unchanged: total - 2, removed: 1, pruned: 0, featurized: 1 },
      removedSample: [removedPath],
    });
    expect(s.counts).toEqual({ filesIn: total, rowsOut: total, failed: 0 });
    expect(stderr).toContain(
      `${total - 1} images: 0 new, 1 changed, ${total - 2} unchanged skipped, 1 removed (rows kept); featurizing 1`,
    );
    expect(stdout).toContain(`removed:       ${removedPath}`);
    const after = await rows(out);
    expect(after.size).toBe(total);
    expect(after.get(removedPath)).toEqual(before.get(removedPath));
    const pcaBefore = before.get(changedPath)?.pca as number[];
    const pcaAfter = after.get(changedPath)?.pca as number[];
    expect(pcaAfter).toHaveLength(4);
    expect(pcaAfter).not.toEqual(pcaBefore);
    for (const [path, row] of before) if (path !== changedPath) expect(after.get(path), path).toEqual(row);

    // Run again with nothing changed: nothing is featurized, the removed file is still reported.
    const { stderr: idle } = await orchard(["run", "--incremental", ...COMMON, "--output", out, "--quiet"]);
    expect(idle).toBe("");
    expect(runJson(out).history.at(-1)?.counts).toMatchObject({ changed: 0, removed: 1, featurized: 0 });
    expect((await rows(out)).size).toBe(total);

    await orchard(["run", "--incremental", "--prune", ...COMMON, "--output", out]);
    const pruned = runJson(out);
    expect(pruned.history.at(-1)?.counts).toMatchObject({ removed: 1, pruned: 1, featurized: 0 });
    expect(pruned.counts).toEqual({ filesIn: total - 1, rowsOut: total - 1, failed: 0 });
    const left = await rows(out);
    expect(left.has(removedPath)).toBe(false);
    expect(left.size).toBe(total - 1);
    expect(await spark.read.parquet(`${pathToFileURL(out).href}/files`).count()).toBe(total - 1);
    expect(pruned.history.map((h) => h.mode)).toEqual([
      "full",
      "incremental",
      "incremental",
      "incremental",
      "incremental",
    ]);
  });

  it("--refit with kept features fits the PCA again on every row, featurizing only the new files", async () => {
    const kept = join(work, "kept");
    const halfInput = join(work, "in-half");
    for (const { label, files } of chosen) {
      mkdirSync(join(halfInput, label), { recursive: true });
      for (const f of files.slice(0, PER_CLASS / 2))
        copyFileSync(f, join(halfInput, label, f.split("/").at(-1) as string));
    }
    const args = ["--input", halfInput, "--partitions", "2", "--output", kept, "--keep-features", "--quiet"];
    await orchard(["run", ...args, "--k", "3"]);
    const first = runJson(kept);
    for (const { label, files } of chosen) {
      for (const f of files.slice(PER_CLASS / 2))
        copyFileSync(f, join(halfInput, label, f.split("/").at(-1) as string));
    }
    await orchard(["run", "--incremental", "--refit", ...args]);
    const s = runJson(kept);
    expect(s.history.at(-1)).toMatchObject({
      pcaRefit: true,
      counts: { new: half, unchanged: half, featurized: half },
    });
    expect(s.k).toBe(3);
    expect(s.counts).toEqual({ filesIn: total, rowsOut: total, failed: 0 });
    expect(s.explainedVariance).not.toEqual(first.explainedVariance);
    // Every row, old and new, is projected with the refitted model.
    const ref = join(work, "ref-refit");
    await orchard([
      "transform",
      "--input",
      halfInput,
      "--partitions",
      "2",
      "--output",
      ref,
      "--pca-model",
      join(kept, "pca-model"),
      "--quiet",
    ]);
    expectSameRows(await rows(kept), await rows(ref));
  });

  it("a killed incremental run leaves the old output readable and as it was", async () => {
    const before = runJson(out);
    const rowsBefore = await rows(out);
    const extra = join(input, chosen[2]?.label as string, "extra-copy.jpg");
    copyFileSync(chosen[2]?.files[0] as string, extra);
    const child = spawn(
      process.execPath,
      [join(REPO_ROOT, "bin", "orchard.mjs"), "run", "--incremental", ...COMMON, "--output", out, "--no-start"],
      { cwd: REPO_ROOT, env: cliEnv(), stdio: ["ignore", "ignore", "pipe"] },
    );
    started.add(child);
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.once("exit", (_code, signal) => resolve(signal)),
    );
    // Killed once the listing is done: while the new file is featurized.
    await new Promise<void>((resolve) => {
      let stderr = "";
      child.stderr?.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes("listing images: done")) resolve();
      });
      child.once("exit", () => resolve());
    });
    child.kill("SIGKILL");
    expect(await exited).toBe("SIGKILL");
    expect(runJson(out)).toEqual(before);
    expectSameRows(await rows(out), rowsBefore);

    // The next run picks the new file up (and deletes the killed run's attempt).
    await orchard(["run", "--incremental", ...COMMON, "--output", out, "--quiet"]);
    expect(runJson(out).history.at(-1)?.counts).toMatchObject({ new: 1, featurized: 1 });
    expect(readdirSync(out)).not.toContain("_attempts");
    rmSync(extra);
  });

  it.each([
    [["--output", join(work, "nothing-here")], "--output", "holds no earlier run"],
    [["--output", out, "--k", "3"], "--k", "only with --refit"],
    [["--output", out, "--overwrite"], "--incremental", "not both"],
    [["--output", out, "--sample", "2"], "--sample", "no --sample with --incremental"],
    [["--output", out, "--model", "mobilenet-v3-small"], "--model", "the earlier run's model (efficientnet-lite0)"],
    [["--output", out, "--keep-features"], "--keep-features", "did not keep the features"],
    [["--output", out, "--input", join(work, "in-half")], "--input", "updates the output of a run on"],
  ])("refuses --incremental %j naming %s", async (args, field, words) => {
    const { code, stderr } = await orchardFails(["run", "--incremental", ...COMMON, ...args]);
    expect(code).not.toBe(0);
    expect(stderr).toContain(field);
    expect(stderr).toContain(words);
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});

describe("orchard run --incremental on S3 (MinIO, s3a://)", () => {
  it("appends the new half's rows and state as objects, and counts the whole dataset", async () => {
    const s3 = inject("s3");
    const client = await s3Client(s3);
    const prefix = `incremental-${Date.now()}`;
    const base = `s3a://${s3.bucket}/${prefix}`;
    const upload = async (half: 0 | 1) => {
      const dir = mkdtempSync(join(work, "upload-"));
      for (const { label, files } of chosen.slice(0, 2)) {
        mkdirSync(join(dir, label));
        const part = half === 0 ? files.slice(0, PER_CLASS / 2) : files.slice(PER_CLASS / 2);
        for (const f of part) copyFileSync(f, join(dir, label, f.split("/").at(-1) as string));
      }
      await uploadFolder(client, { bucket: s3.bucket, prefix: `${prefix}/in`, dir });
    };
    const summary = async (): Promise<RunSummary> => {
      const out = await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: `${prefix}/out/run.json` }));
      return JSON.parse(await (out.Body as { transformToString(): Promise<string> }).transformToString()) as RunSummary;
    };
    const args = ["--input", `${base}/in`, "--output", `${base}/out`, "--partitions", "2", "--quiet"];
    const total = 2 * PER_CLASS;
    try {
      await upload(0);
      await orchard(["run", ...args, "--k", "2"]);
      const dataKeys = (await listObjects(client, s3.bucket, `${prefix}/out/data/`)).map((o) => o.key);
      await upload(1);
      await orchard(["run", "--incremental", ...args]);
      const s = await summary();
      expect(s.history.at(-1)).toMatchObject({
        mode: "incremental",
        counts: { new: total / 2, unchanged: total / 2, featurized: total / 2 },
      });
      expect(s.counts).toEqual({ filesIn: total, rowsOut: total, failed: 0 });
      const after = (await listObjects(client, s3.bucket, `${prefix}/out/`)).map((o) => o.key);
      // The first run's objects are still there; the attempt folder is gone.
      for (const key of dataKeys) expect(after).toContain(key);
      expect(after.some((k) => k.includes("/_attempts/"))).toBe(false);
      expect(await spark.read.parquet(`${base}/out/data`).count()).toBe(total);
      expect(await spark.read.parquet(`${base}/out/files`).count()).toBe(total);
      const paths = (await spark.read.parquet(`${base}/out/data`).select("path").collect()).map((r) =>
        String(r.get(0)),
      );
      expect(new Set(paths).size).toBe(total);
    } finally {
      client.destroy();
    }
  });
});
