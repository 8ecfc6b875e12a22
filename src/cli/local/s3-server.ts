import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { cacheRootFromEnv } from "@orchard/udf-server/cache-root";
import { commandLine, isAlive, stopProcessGroup, tailFile } from "@orchard/udf-server/process";
import { SetupError } from "../../errors.ts";
import type { S3Credentials } from "../../s3.ts";
import { type InstallLayout, installLayout, setupHint } from "./install-layout.ts";
import { dialHost, freePort, isPortFree, urlHost } from "./ports.ts";
import { redact } from "./redact.ts";
import { readState, removeState, type ServerState, writeState } from "./server-state.ts";

/** Default port of the local S3 server (MinIO's usual one). */
export const DEFAULT_S3_PORT = 9000;

export interface LocalS3Options {
  /** S3 API port; 9000 by default. */
  port?: number;
  /** Address to bind; loopback by default. */
  host?: string;
  /**
   * The root user: the access key (3+ characters) and secret key (8+, MinIO's rules) clients sign
   * with; passed to the server through its environment only.
   */
  credentials: S3Credentials;
  /** Where the objects are stored. */
  dataDir: string;
  /** Folder for the server log and its state file. */
  logDir: string;
  /** Where the MinIO binary is installed; from `ORCHARD_CACHE` (in `env`) by default. */
  layout?: InstallLayout;
  env?: Readonly<Record<string, string | undefined>>;
  startTimeoutMs?: number;
}

/** A running local S3 server started by {@link startLocalS3}. */
export interface LocalS3 {
  readonly pid: number;
  readonly port: number;
  /** `http://host:port` */
  readonly endpoint: string;
  readonly logFile: string;
  readonly startupMs: number;
  /** Stops exactly this server (its process group) and waits until it is gone. */
  stop(): Promise<void>;
}

/** Random credentials for a throw-away server (tests, demo). */
export function randomS3Credentials(): S3Credentials {
  return {
    accessKeyId: `orchard${randomBytes(6).toString("hex")}`,
    secretAccessKey: randomBytes(24).toString("base64url"),
  };
}

/** Path of the MinIO binary `scripts/setup-s3.sh` builds. */
function minioBinary(layout: InstallLayout): string {
  return join(layout.s3Dir, "bin", "minio");
}

/**
 * Starts the local S3-compatible server (MinIO built by `scripts/setup-s3.sh`) on loopback,
 * detached in its own process group, and waits until its health endpoint answers. Its web
 * console is disabled. Throws a {@link SetupError} when it is not installed, the port is taken,
 * or it does not come up in time (with the redacted log tail).
 */
export async function startLocalS3(options: LocalS3Options): Promise<LocalS3> {
  const env = options.env ?? process.env;
  const host = options.host ?? "127.0.0.1";
  const port = options.port ?? DEFAULT_S3_PORT;
  const layout = options.layout ?? installLayout(cacheRootFromEnv(env, homedir()));
  const binary = minioBinary(layout);
  const { accessKeyId, secretAccessKey } = options.credentials;
  const secrets = [accessKeyId, secretAccessKey];
  if (!existsSync(binary)) {
    throw new SetupError({
      component: "s3",
      message: `the S3 server is not installed (looked for ${binary}): ${setupHint("s3")}`,
    });
  }
  if (secretAccessKey.length < 8 || accessKeyId.length < 3) {
    throw new SetupError({ component: "s3", message: "the S3 access key needs 3+ characters and the secret key 8+" });
  }
  if (!(await isPortFree(host, port))) {
    throw new SetupError({
      component: "s3",
      message: `port ${port} on ${host} is already in use; pick another port (or stop whatever listens there)`,
    });
  }
  mkdirSync(options.dataDir, { recursive: true });
  mkdirSync(options.logDir, { recursive: true });
  const logFile = join(options.logDir, `s3-${port}.log`);
  const consolePort = await freePort(host);
  const childEnv: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && !key.startsWith("MINIO_")) childEnv[key] = value;
  }
  Object.assign(childEnv, {
    MINIO_ROOT_USER: accessKeyId,
    MINIO_ROOT_PASSWORD: secretAccessKey,
    MINIO_BROWSER: "off",
    MINIO_UPDATE: "off",
  });
  const args = [
    "server",
    "--quiet",
    "--address",
    `${urlHost(host)}:${port}`,
    "--console-address",
    `${urlHost(host)}:${consolePort}`,
    options.dataDir,
  ];

  const out = openSync(logFile, "w", 0o600);
  const started = Date.now();
  const child = spawn(binary, args, { env: childEnv, detached: true, stdio: ["ignore", out, out] });
  closeSync(out);
  let exited: number | null | undefined;
  child.once("exit", (code) => {
    exited = code;
  });
  child.once("error", () => {
    exited = -1;
  });
  child.unref();
  const pid = child.pid;
  const fail = async (message: string) => {
    if (pid !== undefined) await stopProcessGroup(pid);
    const tail = redact(tailFile(logFile, 20), secrets);
    return new SetupError({
      component: "s3",
      message: tail ? `${message}\n--- last lines of ${logFile} ---\n${tail}` : message,
    });
  };
  if (pid === undefined) throw await fail(`could not start ${binary}`);

  const endpoint = `http://${urlHost(dialHost(host))}:${port}`;
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  for (;;) {
    if (exited !== undefined) throw await fail(`the S3 server exited during start-up (code ${exited})`);
    if (await healthy(endpoint)) break;
    if (Date.now() > started + timeoutMs)
      throw await fail(`the S3 server did not start within ${Math.round(timeoutMs / 1000)} s`);
    await sleep(100);
  }
  writeState(options.logDir, {
    component: "s3",
    pid,
    host,
    port,
    url: endpoint,
    logFile,
    startedAt: new Date(started).toISOString(),
    authenticated: true,
  });
  const stop = async () => {
    await stopProcessGroup(pid);
    if (readState(options.logDir, "s3", port)?.pid === pid) removeState(options.logDir, "s3", port);
  };
  return { pid, port, endpoint, logFile, startupMs: Date.now() - started, stop };
}

/** Whether the S3 server the CLI recorded for `port` runs and answers its health check. */
export async function localS3Status({
  runDir,
  port = DEFAULT_S3_PORT,
}: {
  runDir: string;
  port?: number;
}): Promise<{ running: boolean; healthy: boolean; state?: ServerState }> {
  const state = readState(runDir, "s3", port);
  if (!state) return { running: false, healthy: false };
  if (!ownsPid(state.pid)) {
    removeState(runDir, "s3", port);
    return { running: false, healthy: false };
  }
  return { running: true, healthy: await healthy(state.url), state };
}

/** Stops the S3 server recorded for `port` in `runDir`; false when none was recorded and alive. */
export async function stopLocalS3({
  runDir,
  port = DEFAULT_S3_PORT,
}: {
  runDir: string;
  port?: number;
}): Promise<boolean> {
  const state = readState(runDir, "s3", port);
  if (!state) return false;
  const mine = ownsPid(state.pid);
  if (mine) await stopProcessGroup(state.pid);
  removeState(runDir, "s3", port);
  return mine;
}

function ownsPid(pid: number): boolean {
  return isAlive(pid) && (commandLine(pid)?.includes("minio") ?? true);
}

async function healthy(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(`${endpoint}/minio/health/live`, { signal: AbortSignal.timeout(1000) });
    return res.ok;
  } catch {
    return false;
  }
}
