import { type ChildProcess, spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { pathToFileURL } from "node:url";
import { ListMultipartUploadsCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { SparkSession } from "../../../src/connect/spark-session.ts";
import { type OutputStore, outputStore } from "../../../src/pipeline/output-store.ts";
import { ATTEMPTS_FOLDER } from "../../../src/pipeline/publish-output.ts";
import type { RunSummary } from "../../../src/pipeline/run-summary.ts";
import { s3Client } from "../../../src/s3.ts";
import { cliEnv } from "../helpers/cli-env.ts";
import { withPySpark } from "../helpers/pyspark-client.ts";
import { REPO_ROOT, testLayout } from "../helpers/test-paths.ts";

// Issue 13, driver killed during the write: `orchard run --overwrite` onto a published output is
// killed (SIGKILL, then SIGTERM) while Spark writes, on a local folder and on MinIO through s3a://.
// Readers running all the while, and after, see the previous complete run or none, never a part
// of one; then a rerun with --overwrite publishes the new run with the right count.
//
// A reader does what the docs tell readers to do: read run.json (none: no output), read data/
// with spark.read.parquet(...).count(), read run.json again; if it is the same run, the rows must
// be the rows run.json counts.

const s3 = inject("s3");
const remote = inject("sparkRemote");
const work = mkdtempSync(join(tmpdir(), "orchard-driver-kill-"));
const started = new Set<ChildProcess>();
/** Process groups of Spark servers that `orchard submit` started here (killed at the end if left). */
const sparkGroups = new Set<number>();
let spark: SparkSession;

/** Two inputs of different sizes, so that a reader would notice rows of one under the other's run.json. */
const inputs = { small: join(work, "in-small"), large: join(work, "in-large") };
const counts = { small: 0, large: 0 };

beforeAll(() => {
  const fruits = join(testLayout().cacheRoot, "data", "fruits", "Training");
  const labels = readdirSync(fruits).sort();
  const fill = (dir: string, chosen: string[]) => {
    let n = 0;
    for (const label of chosen) {
      mkdirSync(join(dir, label), { recursive: true });
      for (const f of readdirSync(join(fruits, label)).sort()) {
        copyFileSync(join(fruits, label, f), join(dir, label, f));
        n++;
      }
    }
    return n;
  };
  counts.small = fill(inputs.small, labels.slice(0, 2));
  counts.large = fill(inputs.large, labels.slice(2, 5));
  expect(counts.small).not.toBe(counts.large);
  spark = SparkSession.builder.remote(remote).getOrCreate();
});

afterAll(async () => {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  for (const pid of sparkGroups) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  await spark?.stop().catch(() => undefined);
  rmSync(work, { recursive: true, force: true });
});

interface Run {
  readonly child: ChildProcess;
  readonly done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

/** The `orchard run` arguments of every run here. */
function runArgs(input: string, output: string): string[] {
  return ["run", "--input", input, "--output", output, "--k", "2", "--partitions", "2", "--overwrite", "--quiet"];
}

/** `orchard run` on the test's Spark and sidecar (`--no-start`: it starts nothing of its own). */
function orchardRun(input: string, output: string): Run {
  return orchard([...runArgs(input, output), "--no-start"]);
}

/** The `orchard` CLI with `args`; `detached`: in a process group of its own (with its children). */
function orchard(args: string[], { detached = false } = {}): Run {
  const child = spawn(process.execPath, [join(REPO_ROOT, "bin", "orchard.mjs"), ...args], {
    cwd: REPO_ROOT,
    env: cliEnv(),
    stdio: ["ignore", "ignore", "pipe"],
    detached,
  });
  started.add(child);
  let stderr = "";
  child.stderr?.on("data", (b: Buffer) => {
    stderr += b.toString();
  });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => {
    child.once("exit", (code, signal) => {
      started.delete(child);
      resolve({ code, signal, stderr });
    });
  });
  return { child, done };
}

type Seen =
  | { state: "none" }
  | { state: "complete"; runId: string; rows: number }
  | { state: "moved" }
  | { state: "partial"; detail: string };

async function readRunJson(store: OutputStore): Promise<RunSummary | undefined> {
  try {
    return JSON.parse(new TextDecoder().decode(await store.get("run.json"))) as RunSummary;
  } catch {
    return undefined;
  }
}

/** One read, as a reader must make it (see the file's head). */
async function read(output: string, store: OutputStore): Promise<Seen> {
  const before = await readRunJson(store);
  if (!before) return { state: "none" };
  let rows: number;
  try {
    rows = await spark.read.parquet(`${output}/data`).count();
  } catch {
    // Files listed and then gone: a publication moved data/ under the reader, who reads again.
    const now = await readRunJson(store);
    if (now?.runId !== before.runId) return { state: "moved" };
    return { state: "partial", detail: `run ${before.runId} published, but its data/ is unreadable` };
  }
  const after = await readRunJson(store);
  if (after?.runId !== before.runId) return { state: "moved" };
  if (rows !== before.counts.rowsOut) {
    return {
      state: "partial",
      detail: `run ${before.runId} counts ${before.counts.rowsOut} rows, data/ holds ${rows}`,
    };
  }
  return { state: "complete", runId: before.runId, rows };
}

/** Reads in a loop until `stop` resolves (bounded: at most `max` reads), returning what it saw. */
async function readWhile(output: string, store: OutputStore, stop: Promise<unknown>, max = 400): Promise<Seen[]> {
  let stopped = false;
  void stop.then(() => {
    stopped = true;
  });
  const seen: Seen[] = [];
  for (let i = 0; i < max && !stopped; i++) {
    seen.push(await read(output, store));
    await sleep(100);
  }
  return seen;
}

/**
 * Whether the run has begun writing: files in an attempt folder (Spark's job set-up creates them
 * there), or a published data/ that no longer holds what it held before the run (`before`).
 */
async function writing(store: OutputStore, before: readonly string[]): Promise<boolean> {
  for (const attempt of await store.list(ATTEMPTS_FOLDER)) {
    if ((await store.list(`${ATTEMPTS_FOLDER}/${attempt}`)).length > 0) return true;
  }
  return JSON.stringify(await store.list("data")) !== JSON.stringify(before);
}

/** Whether a job in an attempt folder has the S3A magic committer's pending data (`__magic_job-<id>/`). */
async function magicPending(store: OutputStore): Promise<boolean> {
  for (const attempt of await store.list(ATTEMPTS_FOLDER)) {
    for (const part of ["data", "pca-model/data", "pca-model/metadata"]) {
      const names = await store.list(`${ATTEMPTS_FOLDER}/${attempt}/${part}`);
      if (names.some((n) => n.startsWith("__magic"))) return true;
    }
  }
  return false;
}

/** Kills the run with `signal` as soon as it writes; fails when it never gets there. */
async function killDuringWrite(run: Run, store: OutputStore, signal: NodeJS.Signals): Promise<void> {
  const before = await store.list("data");
  let exited = false;
  void run.done.then(() => {
    exited = true;
  });
  for (let i = 0; i < 12_000 && !exited; i++) {
    if (await writing(store, before)) {
      run.child.kill(signal);
      return;
    }
    await sleep(20);
  }
  throw new Error(`the run ended before it was seen writing: ${(await run.done).stderr}`);
}

async function pysparkRows(output: string): Promise<{ rows: number; k: number }> {
  return withPySpark<{ rows: number; k: number }>(
    remote,
    [
      "from pyspark.ml.feature import PCAModel",
      `rows = spark.read.parquet(${JSON.stringify(`${output}/data`)}).count()`,
      `k = PCAModel.load(${JSON.stringify(`${output}/pca-model`)}).getK()`,
      "print(json.dumps({'rows': rows, 'k': k}))",
    ].join("\n"),
  );
}

const fileOutput = pathToFileURL(join(work, "out")).href;
const s3Output = `s3a://${s3.bucket}/driver-kill-${Date.now()}/out`;
const backends = [
  { name: "a local folder (file:)", output: fileOutput, store: outputStore(fileOutput) },
  { name: "MinIO (s3a://, the magic committer)", output: s3Output, store: outputStore(s3Output, s3) },
];

describe.each(backends)("the driver killed during the write, on $name", ({ output, store }) => {
  let previous: RunSummary;

  it("publishes a first, complete run", async () => {
    const first = await orchardRun(inputs.small, output).done;
    expect(first.code, first.stderr).toBe(0);
    previous = (await readRunJson(store)) as RunSummary;
    expect(previous.counts.rowsOut).toBe(counts.small);
    expect(await read(output, store)).toEqual({ state: "complete", runId: previous.runId, rows: counts.small });
    expect(await store.list(ATTEMPTS_FOLDER)).toEqual([]);
    if (output.startsWith("s3a:")) {
      // Job commit by the S3A magic committer: its _SUCCESS is a JSON manifest naming it.
      const success = JSON.parse(new TextDecoder().decode(await store.get("data/_SUCCESS"))) as { committer: string };
      expect(success.committer).toBe("magic");
    }
  }, 300_000);

  for (const signal of ["SIGKILL", "SIGTERM"] as const) {
    it(`${signal}: readers see the previous run throughout, and a rerun with --overwrite publishes`, async () => {
      const input = previous.counts.rowsOut === counts.small ? inputs.large : inputs.small;
      const expected = input === inputs.large ? counts.large : counts.small;

      const killed = orchardRun(input, output);
      const during = readWhile(output, store, killed.done);
      await killDuringWrite(killed, store, signal);
      const end = await killed.done;
      if (signal === "SIGKILL") expect(end.signal).toBe("SIGKILL");
      // SIGTERM: orchard interrupts its Spark work, publishes nothing and exits as shells report SIGTERM.
      else expect(end.code, end.stderr).toBe(143);
      // What the killed run had sent to Spark may still finish there: readers keep reading meanwhile.
      const settle = sleep(5000);
      const after = [...(await during), ...(await readWhile(output, store, settle, 50))];

      // Never a part of a run; and since the killed run never got to publish, never "none" either:
      // every read is the previous run, complete.
      const other = after.filter((s) => s.state !== "complete" || s.runId !== previous.runId);
      expect(other, JSON.stringify(other)).toEqual([]);
      expect(after.length).toBeGreaterThan(5);
      expect(after[0]).toEqual({ state: "complete", runId: previous.runId, rows: previous.counts.rowsOut });
      // PySpark's own client reads the previous output, data and model.
      expect(await pysparkRows(output)).toEqual({ rows: previous.counts.rowsOut, k: 2 });

      const rerun = await orchardRun(input, output).done;
      expect(rerun.code, rerun.stderr).toBe(0);
      const next = (await readRunJson(store)) as RunSummary;
      expect(next.runId).not.toBe(previous.runId);
      expect(next.counts).toEqual({ filesIn: expected, rowsOut: expected, failed: 0 });
      expect(await read(output, store)).toEqual({ state: "complete", runId: next.runId, rows: expected });
      expect(await pysparkRows(output)).toEqual({ rows: expected, k: 2 });
      previous = next;
    }, 600_000);
  }

  it("leaves no attempt folder behind once a run has published", async () => {
    // A killed run's job may still have been finishing in Spark when the rerun cleaned up.
    for (let i = 0; i < 50 && (await store.list(ATTEMPTS_FOLDER)).length > 0; i++) await sleep(200);
    const last = await orchardRun(inputs.small, output).done;
    expect(last.code, last.stderr).toBe(0);
    expect(await store.list(ATTEMPTS_FOLDER)).toEqual([]);
    if (!output.startsWith("s3a:")) expect(existsSync(join(work, "out", ATTEMPTS_FOLDER))).toBe(false);
  }, 300_000);
});

describe("the whole driver killed during the write: orchard submit and the Spark it started, on MinIO", () => {
  const output = `s3a://${s3.bucket}/driver-kill-submit-${Date.now()}/out`;
  const store = outputStore(output, s3);
  const prefix = output.replace(`s3a://${s3.bucket}/`, "");

  it("readers see the previous run; the rerun publishes and aborts the dead job's pending uploads", async () => {
    const first = await orchardRun(inputs.small, output).done;
    expect(first.code, first.stderr).toBe(0);
    const previous = (await readRunJson(store)) as RunSummary;

    // `orchard submit run`: a Spark Connect server as the application's driver, and orchard's
    // driver against it. Both are SIGKILLed in the middle of the write, as when their machine is lost.
    const submitted = orchard(["submit", ...runArgs(inputs.large, output)], { detached: true });
    const during = readWhile(output, store, submitted.done);
    let sparkPid: number | undefined;
    let stderr = "";
    submitted.child.stderr?.on("data", (b: Buffer) => {
      stderr += b.toString();
      const m = /Spark Connect answers at \S+ \(pid (\d+)/.exec(stderr);
      if (m && sparkPid === undefined) {
        sparkPid = Number(m[1]);
        sparkGroups.add(sparkPid);
      }
    });
    const before = await store.list("data");
    let killed = false;
    let writingSince: number | undefined;
    for (let i = 0; i < 15_000 && submitted.child.exitCode === null; i++) {
      if (sparkPid !== undefined && (await writing(store, before))) writingSince ??= Date.now();
      // Best in the magic committer's window (tasks' uploads pending, job not committed yet); else
      // a second into the write.
      if (writingSince !== undefined && ((await magicPending(store)) || Date.now() - writingSince > 1000)) {
        process.kill(-(submitted.child.pid as number), "SIGKILL");
        process.kill(-(sparkPid as number), "SIGKILL");
        killed = true;
        break;
      }
      await sleep(20);
    }
    expect(killed, stderr).toBe(true);
    await submitted.done;
    const client = await s3Client(s3);
    // (MinIO lists uploads by a whole key or all of them, not by a prefix.)
    const pending = async () =>
      ((await client.send(new ListMultipartUploadsCommand({ Bucket: s3.bucket }))).Uploads ?? []).filter((u) =>
        u.Key?.startsWith(`${prefix}/`),
      );
    console.log(`[driver-kill] multipart uploads the dead job left pending: ${(await pending()).length}`);
    const after = [...(await during), ...(await readWhile(output, store, sleep(3000), 30))];
    const other = after.filter((s) => s.state !== "complete" || s.runId !== previous.runId);
    expect(other, JSON.stringify(other)).toEqual([]);
    expect(await pysparkRows(output)).toEqual({ rows: previous.counts.rowsOut, k: 2 });

    const rerun = await orchardRun(inputs.large, output).done;
    expect(rerun.code, rerun.stderr).toBe(0);
    const next = (await readRunJson(store)) as RunSummary;
    expect(next.counts).toEqual({ filesIn: counts.large, rowsOut: counts.large, failed: 0 });
    expect(await read(output, store)).toEqual({ state: "complete", runId: next.runId, rows: counts.large });
    // The dead job's attempt is gone, and with it any multipart upload it had left pending.
    expect(await store.list(ATTEMPTS_FOLDER)).toEqual([]);
    expect(await pending()).toEqual([]);
  }, 900_000);
});
