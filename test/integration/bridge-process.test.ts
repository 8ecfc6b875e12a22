/**
 * The bridge executable as Spark runs it: delimited rows on stdin, a real sidecar over Flight,
 * rows on stdout. Also: failing loudly when no sidecar answers and auto-start is off, starting
 * exactly one sidecar when several bridges find none, and exiting when the parent goes away.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../src/cli/local/ports.ts";
import { type Featurizer, loadFeaturizer } from "../../udf-server/src/featurizer.ts";
import { readPidRecord, sidecarRunFiles } from "../../udf-server/src/manage/run-files.ts";
import type { SidecarHandle } from "../../udf-server/src/manage/start-sidecar.ts";
import { isAlive, stopProcessGroup } from "../../udf-server/src/process/managed-process.ts";
import { REPO_ROOT } from "./helpers/test-paths.ts";
import { fruitImages, maxAbsDiff, startTestSidecar } from "./sidecar-support.ts";

const BRIDGE = join(REPO_ROOT, "udf-server", "bin", "orchard-bridge");

interface BridgeRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runBridge(args: string[], input: string, env: NodeJS.ProcessEnv = process.env): Promise<BridgeRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BRIDGE, ...args], { env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");
/** Spark 4's default base64(): 76-character lines joined by CRLF. */
const chunkedB64 = (bytes: Uint8Array) => (b64(bytes).match(/.{1,76}/g) ?? []).join("\r\n");

function parseLine(line: string) {
  const [id, features, error, width, height] = line.split("\t");
  const nul = (s: string | undefined) => (s === "\\N" ? null : (s ?? null));
  return {
    id: nul(id),
    features: nul(features) === null ? null : (JSON.parse(features as string) as number[]).map(Math.fround),
    error: nul(error),
    width: nul(width) === null ? null : Number(width),
    height: nul(height) === null ? null : Number(height),
  };
}

describe("orchard-bridge with a real sidecar", () => {
  let sidecar: SidecarHandle;
  let featurizer: Featurizer;

  beforeAll(async () => {
    sidecar = await startTestSidecar("bridge");
    featurizer = await loadFeaturizer({ model: "efficientnet-lite0", threads: 2 });
  });

  afterAll(async () => {
    await featurizer?.close();
    await sidecar?.stop();
  });

  it("turns Spark's delimited rows into features, errors and sizes, in input order", async () => {
    const paths = fruitImages(40);
    const bytes = paths.map((p) => readFileSync(p));
    const local = await featurizer.featurize(bytes);
    const lines: string[] = [];
    const expected: { id: string | null; image: number | null; error?: RegExp }[] = [];
    paths.forEach((p, i) => {
      const content = i % 5 === 0 ? chunkedB64(bytes[i] as Buffer) : b64(bytes[i] as Buffer);
      lines.push(`${p}\t${content}`);
      expected.push({ id: p, image: i });
      if (i === 10) {
        lines.push("null-content.jpg\t\\N");
        expected.push({ id: "null-content.jpg", image: null, error: /no image bytes/ });
        lines.push(`notes.txt\t${b64(Buffer.from("just some text\n"))}`);
        expected.push({ id: "notes.txt", image: null, error: /unsupported image format/ });
        lines.push(`odd\tname.jpg\t${b64(bytes[0] as Buffer)}`);
        expected.push({ id: "odd\\tname.jpg", image: 0 });
        lines.push(`\\N\t${b64(bytes[1] as Buffer)}`);
        expected.push({ id: null, image: 1 });
      }
    });
    const run = await runBridge(
      ["--sidecar", sidecar.address, "--secret-file", sidecar.secretFile],
      `${lines.join("\n")}\n`,
    );
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const out = run.stdout.split("\n");
    expect(out.pop()).toBe("");
    expect(out).toHaveLength(expected.length);
    for (const [k, e] of expected.entries()) {
      const row = parseLine(out[k] as string);
      expect(row.id).toBe(e.id);
      if (e.image === null) {
        expect(row.features).toBeNull();
        expect(row.error).toMatch(e.error as RegExp);
        expect(row.width).toBeNull();
      } else {
        const want = local[e.image];
        expect(row.error).toBeNull();
        expect([row.width, row.height]).toEqual([want?.width, want?.height]);
        expect(maxAbsDiff(row.features ?? [], want?.features ?? [])).toBeLessThanOrEqual(1e-5);
      }
    }
  });

  it("writes nothing for empty input and exits 0", async () => {
    const run = await runBridge(["--sidecar", sidecar.address, "--secret-file", sidecar.secretFile], "");
    expect(run).toEqual({ code: 0, stdout: "", stderr: "" });
  });

  it("exits non-zero with one line on stderr when no sidecar answers and auto-start is off", async () => {
    const port = await freePort();
    const run = await runBridge(["--sidecar", `127.0.0.1:${port}`, "--no-start"], "a\t\\N\n");
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toBe(`orchard-bridge: no sidecar answers at 127.0.0.1:${port} (auto-start is off)\n`);
    const bad = await runBridge(["--batch-size", "x"], "");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^orchard-bridge: invalid --batch-size "x": expected an integer 1-4096\n$/);
  });

  it("exits on its own when its parent goes away while stdin stays open", async () => {
    const dir = mkdtempSync(join(tmpdir(), "orchard-bridge-parent-"));
    const fifo = join(dir, "stdin");
    const { execFileSync } = await import("node:child_process");
    execFileSync("mkfifo", [fifo]);
    const errFile = join(dir, "stderr");
    const outFile = join(dir, "stdout");
    // The test keeps the FIFO's write end open, so the bridge never sees end of input.
    const parent: ChildProcess = spawn(
      "bash",
      [
        "-c",
        `"${process.execPath}" "${BRIDGE}" --sidecar ${sidecar.address} --secret-file "${sidecar.secretFile}" < "${fifo}" > "${outFile}" 2> "${errFile}" & echo $!; wait`,
      ],
      { stdio: ["ignore", "pipe", "ignore"] },
    );
    const writer = openSync(fifo, "w");
    const pid = await new Promise<number>((resolve) =>
      parent.stdout?.once("data", (d) => resolve(Number(String(d).trim()))),
    );
    const image = fruitImages(1)[0] as string;
    writeFileSync(writer, `${image}\t${b64(readFileSync(image))}\n`);
    // Wait until the bridge has answered that row: it is up and streaming, its stdin still open.
    const answered = Date.now() + 30_000;
    while (!readFileSync(outFile, "utf8").includes("\n") && Date.now() < answered) await sleep(100);
    expect(readFileSync(outFile, "utf8").startsWith(`${image}\t[`)).toBe(true);
    expect(isAlive(pid)).toBe(true);
    parent.kill("SIGKILL");
    const deadline = Date.now() + 10_000;
    while (isAlive(pid) && Date.now() < deadline) await sleep(100);
    const gone = !isAlive(pid);
    if (!gone) process.kill(pid, "SIGKILL");
    expect(gone).toBe(true);
    expect(readFileSync(errFile, "utf8")).toMatch(/parent process went away/);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe("orchard-bridge when no sidecar answers (auto-start)", () => {
  it("starts exactly one sidecar for several bridges starting at once, and all of them finish", async () => {
    const port = await freePort();
    const runDir = mkdtempSync(join(tmpdir(), "orchard-run-"));
    const env = { ...process.env, ORCHARD_RUN_DIR: runDir, ORCHARD_SIDECAR_THREADS: "2" };
    const paths = fruitImages(9);
    const inputs = [0, 1, 2].map((k) =>
      paths
        .slice(k * 3, k * 3 + 3)
        .map((p) => `${p}\t${b64(readFileSync(p))}\n`)
        .join(""),
    );
    const files = sidecarRunFiles(runDir, port);
    try {
      const runs = await Promise.all(inputs.map((input) => runBridge(["--sidecar", `127.0.0.1:${port}`], input, env)));
      for (const [k, run] of runs.entries()) {
        expect(run.code, run.stderr).toBe(0);
        const rows = run.stdout.trim().split("\n").map(parseLine);
        expect(rows.map((r) => r.id)).toEqual(paths.slice(k * 3, k * 3 + 3));
        expect(rows.every((r) => r.error === null && r.features?.length === 1280)).toBe(true);
      }
      // Exactly one bridge said it started the sidecar; the log shows one model load, one bind.
      expect(runs.filter((r) => /starting one/.test(r.stderr))).toHaveLength(1);
      const log = readFileSync(files.logFile, "utf8");
      expect(log.match(/model efficientnet-lite0 .* loaded/g)).toHaveLength(1);
      expect(log.match(/listening on/g)).toHaveLength(1);
      const record = readPidRecord(files.pidFile);
      expect(record?.address).toBe(`127.0.0.1:${port}`);
      expect(isAlive(record?.pid ?? -1)).toBe(true);
    } finally {
      const record = readPidRecord(files.pidFile);
      if (record) await stopProcessGroup(record.pid);
      rmSync(runDir, { recursive: true, force: true });
    }
  });
});
