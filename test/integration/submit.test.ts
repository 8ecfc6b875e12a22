import { type ChildProcess, spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isAlive } from "@orchard/udf-server/process";
import { afterAll, describe, expect, inject, it } from "vitest";
import { readState } from "../../src/cli/local/server-state.ts";
import { stopLocalSpark } from "../../src/cli/local/spark-server.ts";
import { SparkAuthenticationError, SparkSession } from "../../src/index.ts";
import { cliEnv } from "./helpers/cli-env.ts";
import { REPO_ROOT, testLayout } from "./helpers/test-paths.ts";

// `orchard submit` as a user runs it: the real CLI starts its own Spark Connect server (three
// starts in all, 10-30 s each), runs a driver against it (the TypeScript example, orchard's own
// pipeline, a plain-JavaScript probe), and must leave nothing behind.

/** The submits' own run folder: their state files and logs, apart from the shared test servers'. */
const runDir = mkdtempSync(join(tmpdir(), "orchard-submit-run-"));
const PROBE = join(REPO_ROOT, "test", "integration", "fixtures", "submit-probe.mjs");
const started: ChildProcess[] = [];
/** Per test: a Spark start plus the driver, on a loaded 2-core machine (the pipeline took 2-3 min there). */
const SUBMIT_TIMEOUT_MS = 600_000;

interface Submitted {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number>;
}

function submit(args: string[]): Submitted {
  const child = spawn(process.execPath, [join(REPO_ROOT, "bin", "orchard.mjs"), "submit", ...args], {
    cwd: REPO_ROOT,
    // Submit's own run folder; the test sidecar's secret file stays where the global setup's sidecar wrote it.
    env: { ...cliEnv(), ORCHARD_RUN_DIR: runDir, ORCHARD_SIDECAR_SECRET_FILE: inject("sidecarSecretFile") },
    stdio: ["ignore", "pipe", "pipe"],
  });
  started.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number>((resolve) =>
    child.once("close", (code, signal) => resolve(code ?? (signal ? -1 : 0))),
  );
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Server pid and port as submit reports them on stderr (`answers at sc://127.0.0.1:P (pid N, ...`). */
function serverOf(stderr: string): { pid: number; port: number } {
  const m = /answers at sc:\/\/127\.0\.0\.1:(\d+) \(pid (\d+),/.exec(stderr);
  expect(m, stderr).not.toBeNull();
  return { port: Number(m?.[1]), pid: Number(m?.[2]) };
}

/** Command lines of every process on the machine (Linux /proc), by pid. */
function allCommandLines(): Map<number, string> {
  const out = new Map<number, string>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      out.set(Number(entry), readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").join(" "));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 240_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** What must hold after every submit: its server has exited, and left no state file, token file or work folder. */
async function expectServerGone(server: { pid: number; port: number }): Promise<void> {
  await until("the server to exit", () => (isAlive(server.pid) ? undefined : true), 30_000);
  expect(readState(runDir, "spark", server.port)).toBeUndefined();
  expect(existsSync(join(runDir, `spark-${server.port}.token`))).toBe(false);
  expect(existsSync(join(runDir, `spark-${server.port}`))).toBe(false);
  const leftovers = [...allCommandLines().values()].filter((c) =>
    c.includes(`spark.connect.grpc.binding.port=${server.port}`),
  );
  expect(leftovers).toEqual([]);
}

/** No token value anywhere in a text: only ever `token=<redacted>`. */
function expectNoToken(text: string): void {
  expect(text).not.toMatch(/token=(?!<redacted>)/);
}

afterAll(async () => {
  // Only if a test failed half-way: stop what these tests started, by pid (never by name).
  for (const child of started) if (child.exitCode === null && child.pid) child.kill("SIGTERM");
  for (const f of readdirSync(runDir)) {
    const port = /^spark-(\d+)\.json$/.exec(f)?.[1];
    if (port) await stopLocalSpark({ runDir, port: Number(port) });
  }
  rmSync(runDir, { recursive: true, force: true });
});

describe("orchard submit", () => {
  it(
    "runs examples/05-submit-driver.ts on local[2]: its output arrives, its query ran on submit's server",
    async () => {
      const n = 200;
      const s = submit([
        "--master",
        "local[2]",
        "--conf",
        "spark.sql.shuffle.partitions=3",
        "examples/05-submit-driver.ts",
        String(n),
        "--partitions",
        "3",
      ]);
      const code = await s.exited;
      const out = s.stdout();
      expect(code, s.stderr()).toBe(0);
      const server = serverOf(s.stderr());
      expect(out).toContain("driver arguments: n=200 partitions=3");
      expect(out).toContain(`connected to sc://127.0.0.1:${server.port}/;token=<redacted>`);
      expect(out).toContain("application orchard-submit-05-submit-driver on master local[2,4]");
      expect(out).toContain(`sum of the first ${n} squares: ${(n * (n + 1) * (2 * n + 1)) / 6}`);
      expect(out).toMatch(/\|\s*residue\|\s*n\|sum_of_squares\|/);
      expect(s.stderr()).toContain("05-submit-driver.ts exited with code 0");
      expectNoToken(out + s.stderr());
      await expectServerGone(server);
    },
    SUBMIT_TIMEOUT_MS,
  );

  it(
    "runs orchard's own pipeline: submit run --input ... --output ... uses submit's server",
    async () => {
      const images = join(runDir, "images");
      const fruits = join(testLayout().cacheRoot, "data", "fruits", "Training");
      for (const label of readdirSync(fruits).sort().slice(0, 3)) {
        mkdirSync(join(images, label), { recursive: true });
        for (const f of readdirSync(join(fruits, label)).sort().slice(0, 2)) {
          copyFileSync(join(fruits, label, f), join(images, label, f));
        }
      }
      const output = join(runDir, "pipeline-out");
      const s = submit(["--master", "local[2]", "run", "--input", images, "--output", output, "--k", "2", "--quiet"]);
      const code = await s.exited;
      expect(code, s.stderr()).toBe(0);
      const server = serverOf(s.stderr());
      expect(s.stdout()).toMatch(/images:\s+6 in, 6 rows out, 0 failed/);
      const record = JSON.parse(readFileSync(join(output, "run.json"), "utf8")) as { config: { remote: string } };
      expect(record.config.remote).toBe(`sc://127.0.0.1:${server.port}/;token=<redacted>`);
      expectNoToken(s.stdout() + s.stderr());
      await expectServerGone(server);
    },
    SUBMIT_TIMEOUT_MS,
  );

  it(
    "passes ARGS on untouched; keeps the token out of every argv and all output; Ctrl-C stops the script, then the server; the script's exit code (7) is submit's",
    async () => {
      const s = submit(["--master", "local[1]", PROBE, "hold", "7", "--master", "yarn", "-x", "--help"]);
      const driverPid = Number(
        await until("the probe to be ready", () => /probe ready pid=(\d+)/.exec(s.stdout())?.[1], 300_000),
      );
      const server = serverOf(s.stderr());
      expect(s.stdout()).toContain('probe args: ["hold","7","--master","yarn","-x","--help"]');
      expect(s.stdout()).toMatch(/probe remote: sc:\/\/127\.0\.0\.1:\d+\/;token=<redacted>/);
      expect(s.stderr()).toContain("probe: a line on stderr");
      // The server is recorded like `orchard spark start`'s, under its own free port.
      expect(readState(runDir, "spark", server.port)?.pid).toBe(server.pid);
      expect(readState(runDir, "spark", server.port)?.authenticated).toBe(true);
      expect(isAlive(server.pid)).toBe(true);

      // The driver got the token by environment; nothing on the machine has it in its command line.
      const remote = readFileSync(`/proc/${driverPid}/environ`, "utf8")
        .split("\0")
        .find((e) => e.startsWith("SPARK_REMOTE="));
      const token = decodeURIComponent(/;token=([^;]+)/.exec(remote ?? "")?.[1] ?? "");
      expect(token.length).toBeGreaterThanOrEqual(40);
      const carrying = [...allCommandLines()].filter(([, cmd]) => cmd.includes(token)).map(([pid]) => pid);
      expect(carrying).toEqual([]);
      expect(allCommandLines().get(server.pid)).toContain("SparkConnectServer");

      // The server requires it: without it a client is refused.
      const anonymous = SparkSession.builder.remote(`sc://127.0.0.1:${server.port}`).create();
      await expect(anonymous.version()).rejects.toBeInstanceOf(SparkAuthenticationError);
      await anonymous.stop();

      s.child.kill("SIGINT");
      const code = await s.exited;
      expect(code).toBe(7);
      expect(s.stdout()).toContain("probe got SIGINT");
      expect(s.stderr()).toContain("submit-probe.mjs exited with code 7");
      expect(isAlive(driverPid)).toBe(false);
      await expectServerGone(server);
      for (const text of [s.stdout(), s.stderr(), readFileSync(join(runDir, `spark-${server.port}.log`), "utf8")]) {
        expect(text).not.toContain(token);
      }
    },
    SUBMIT_TIMEOUT_MS,
  );
});
