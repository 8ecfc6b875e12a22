/**
 * Starts a local sidecar as its own detached process (own process group, output appended to a
 * log file), waits until it answers `health`, and hands back its pid, address and a `stop()`.
 * Used by `orchard sidecar start`, the integration tests' global set-up, the bench, and the
 * bridge when no sidecar answers.
 */
import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { SetupError } from "../errors.ts";
import type { DeviceChoice } from "../model/execution-device.ts";
import { stopProcessGroup, tailFile } from "../process/managed-process.ts";
import { DEFAULT_SIDECAR_HOST, DEFAULT_SIDECAR_PORT } from "../server/defaults.ts";
import { readPidRecord } from "./run-files.ts";
import { sidecarEnv } from "./sidecar-env.ts";
import { isSidecarHealthy } from "./sidecar-status.ts";

/** The `orchard-sidecar` executable. */
export const SIDECAR_BIN = fileURLToPath(new URL("../../bin/orchard-sidecar", import.meta.url));

/** How to start a sidecar. Unset values take the sidecar's defaults. */
export interface StartSidecarOptions {
  host?: string;
  /** 0 picks a free port (read back from the pid file). */
  port?: number;
  model?: string;
  threads?: number;
  /** `--device cpu|cuda|auto` (default: the sidecar's, cpu). */
  device?: DeviceChoice;
  maxBatch?: number;
  /** Where the sidecar's output goes (appended); default: a file beside the pid file. */
  logFile?: string;
  /** Pid file the sidecar writes once it listens; default: a fresh one in the OS temp folder. */
  pidFile?: string;
  /** The 0600 file the sidecar writes its fresh shared secret to; default: the pid file's name with `.secret`. */
  secretFile?: string;
  /** Cache root for the model (default: the sidecar's, i.e. `$ORCHARD_CACHE` or `~/.cache/orchard`). */
  cacheDir?: string;
  /** Exit after this many seconds without an exchange (0 = never). */
  idleExitSeconds?: number;
  /** More `orchard-sidecar` flags, e.g. `["--max-wait-ms", "2"]`. */
  extraArgs?: string[];
  /** How long to wait for the first healthy answer (default 300 s: a first run installs the model). */
  readyTimeoutMs?: number;
  /** Environment the sidecar's is taken from (default: this process's); only what it needs passes (see sidecar-env.ts). */
  env?: NodeJS.ProcessEnv;
  /**
   * Node.js flags placed before the sidecar's script, e.g. `["--cpu-prof", "--cpu-prof-dir=DIR"]`
   * (flags Node refuses in NODE_OPTIONS; the profile bench uses them).
   */
  nodeArgs?: string[];
}

/** How long a stopping sidecar may drain in-flight work before it is killed (its own grace is 30 s). */
export const SIDECAR_GRACE_MS = 35_000;

/** A sidecar started by `startSidecar`. */
export interface SidecarHandle {
  pid: number;
  /** `host:port` it listens on. */
  address: string;
  logFile: string;
  pidFile: string;
  /** Its shared secret's file (clients read it; the secret itself never leaves the file). */
  secretFile: string;
  /** SIGTERM (drains in-flight work), SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

/** Starts a sidecar and waits until it is healthy; throws `SetupError` (with the log's tail) if it exits or never answers. */
export async function startSidecar(options: StartSidecarOptions = {}): Promise<SidecarHandle> {
  const host = options.host ?? DEFAULT_SIDECAR_HOST;
  const port = options.port ?? DEFAULT_SIDECAR_PORT;
  const pidFile = options.pidFile ?? join(tmpdir(), `orchard-sidecar-${process.pid}-${Date.now()}.pid`);
  const logFile = options.logFile ?? `${pidFile.replace(/\.pid$/, "")}.log`;
  const secretFile = options.secretFile ?? `${pidFile.replace(/\.pid$/, "")}.secret`;
  rmSync(pidFile, { force: true });
  const args = [
    ...(options.nodeArgs ?? []),
    SIDECAR_BIN,
    "--host",
    host,
    "--port",
    String(port),
    "--pid-file",
    pidFile,
    "--secret-file",
    secretFile,
  ];
  if (options.model !== undefined) args.push("--model", options.model);
  if (options.threads !== undefined) args.push("--threads", String(options.threads));
  if (options.device !== undefined) args.push("--device", options.device);
  if (options.maxBatch !== undefined) args.push("--max-batch", String(options.maxBatch));
  if (options.cacheDir !== undefined) args.push("--cache-dir", options.cacheDir);
  if (options.idleExitSeconds !== undefined) args.push("--idle-exit-seconds", String(options.idleExitSeconds));
  args.push(...(options.extraArgs ?? []));

  mkdirSync(dirname(logFile), { recursive: true });
  const out = openSync(logFile, "a");
  const child = spawn(process.execPath, args, {
    detached: true,
    stdio: ["ignore", out, out],
    env: { MALLOC_ARENA_MAX: "2", ...sidecarEnv(options.env ?? process.env) },
  });
  closeSync(out);
  const pid = child.pid;
  if (pid === undefined) throw new SetupError({ component: "sidecar", message: `could not spawn ${SIDECAR_BIN}` });
  let exitCode: number | null = null;
  child.once("exit", (code, signal) => {
    exitCode = code ?? (signal ? 128 : 1);
  });
  child.unref();

  const stop = async (graceMs?: number) => {
    await stopProcessGroup(pid, graceMs ?? SIDECAR_GRACE_MS);
  };
  const deadline = Date.now() + (options.readyTimeoutMs ?? 300_000);
  while (Date.now() < deadline) {
    if (exitCode !== null) {
      const tail = tailFile(logFile, 15);
      // The sidecar's own reason (its `cannot start: ...` line) goes on the first line, which is the one callers show.
      const reason = [...tail.matchAll(/ cannot start: (.*)$/gm)].at(-1)?.[1];
      throw new SetupError({
        component: "sidecar",
        message: `the sidecar exited with code ${exitCode} before answering${reason ? `: ${reason}` : ""}\nlast lines of ${logFile}:\n${tail || "(no log)"}`,
      });
    }
    const record = readPidRecord(pidFile);
    if (record && record.pid === pid && (await isSidecarHealthy(record.address, 1000))) {
      return { pid, address: record.address, logFile, pidFile, secretFile, stop };
    }
    await sleep(200);
  }
  await stop(5000);
  throw new SetupError({
    component: "sidecar",
    message: `the sidecar did not answer on ${host}:${port} within ${Math.round((options.readyTimeoutMs ?? 300_000) / 1000)} s; last lines of ${logFile}:\n${tailFile(logFile, 15) || "(no log)"}`,
  });
}
