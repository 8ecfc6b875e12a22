import { execFile } from "node:child_process";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { rowCounter } from "../../../udf-server/src/manage/sidecar-status.ts";
import { cliEnv } from "./cli-env.ts";
import { REPO_ROOT } from "./test-paths.ts";

/** How one `orchard` command ended. */
export interface CliRun {
  /** The exit code (1 when the process was killed, e.g. by the timeout). */
  code: number;
  stdout: string;
  stderr: string;
  /** Wall time, in milliseconds. */
  ms: number;
}

/** How to run it. */
export interface CliOptions {
  /** Default: {@link cliEnv} (the test Spark, sidecar and MinIO). */
  env?: NodeJS.ProcessEnv;
  /** Milliseconds before the process is killed; default 600 000. */
  timeout?: number;
  /** Written to its standard input, which is then closed. */
  input?: string;
  /** Default: the repository root. */
  cwd?: string;
}

/** Runs `bin/orchard.mjs ARGS` to its end as a user would; never rejects (a failure is its exit code). */
export function runOrchard(args: readonly string[], options: CliOptions = {}): Promise<CliRun> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [join(REPO_ROOT, "bin", "orchard.mjs"), ...args],
      {
        cwd: options.cwd ?? REPO_ROOT,
        env: options.env ?? cliEnv(),
        timeout: options.timeout ?? 600_000,
        maxBuffer: 64 << 20,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr, ms: performance.now() - started });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** The fault tests' small pipeline: `orchard run` on INPUT into OUTPUT with k 3 on 2 partitions, against the servers given. */
export function faultRunArgs(input: string, output: string): string[] {
  return ["run", "--input", input, "--output", output, "--k", "3", "--partitions", "2", "--no-start", "--quiet"];
}

/** Waits until the sidecar at ADDRESS has answered at least ROWS rows (polled every 200 ms, two minutes at most). */
export async function waitForRowsServed(address: string, secretFile: string, rows: number): Promise<void> {
  const counter = rowCounter(address, secretFile);
  try {
    for (let i = 0; i < 600; i++) {
      const served = await counter.read(1000).then(
        (c) => c.rowsServed,
        () => 0,
      );
      if (served >= rows) return;
      await sleep(200);
    }
  } finally {
    counter.close();
  }
}

/** Runs `orchard ARGS` and rejects, with its exit code and stderr, unless it exits 0. */
export async function orchardOk(args: readonly string[], options: CliOptions = {}): Promise<CliRun> {
  const r = await runOrchard(args, options);
  if (r.code !== 0) throw new Error(`orchard ${args.join(" ")} exited ${r.code}:\n${r.stderr}`);
  return r;
}

/** Runs `orchard ARGS`, which must fail: rejects if it exits 0. */
export async function orchardFails(args: readonly string[], options: CliOptions = {}): Promise<CliRun> {
  const r = await runOrchard(args, options);
  if (r.code === 0) throw new Error(`orchard ${args.join(" ")} succeeded; it must fail`);
  return r;
}
