/**
 * "A sidecar must answer here": returns at once when one does; otherwise starts one on this
 * node, exactly once however many callers race (bridges of concurrent Spark tasks, the CLI):
 * the caller that takes `sidecar-<port>.lock` in the run folder starts it, the others wait for
 * it to answer. The port is the last line of defence: a second sidecar cannot bind it and exits.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { SetupError } from "../errors.ts";
import { tryLock } from "../process/managed-process.ts";
import { portInUse } from "../process/port-in-use.ts";
import { sidecarRunFiles } from "./run-files.ts";
import { isSidecarHealthy } from "./sidecar-status.ts";
import type { StartSidecarOptions } from "./start-sidecar.ts";

/** What to ensure. */
export interface EnsureLocalSidecarOptions {
  host: string;
  port: number;
  /** Folder of the pid file, log, lock and secret (`sidecar-<port>.{pid,log,lock,secret}`). */
  runDir: string;
  /** Where a sidecar started here keeps its secret (default: `sidecar-<port>.secret` in `runDir`). */
  secretFile?: string;
  /** How to start it if needed (host, port, pid, log and secret file are set from the above). */
  start?: Omit<StartSidecarOptions, "host" | "port" | "pidFile" | "logFile" | "secretFile" | "readyTimeoutMs">;
  /** How long to wait for it to answer, start-up included (default 300 s). */
  timeoutMs?: number;
  log?: (message: string) => void;
}

/** Resolves once a sidecar answers `health` at `host:port`; `started` tells whether this call started it. */
export async function ensureLocalSidecar(
  options: EnsureLocalSidecarOptions,
): Promise<{ started: boolean; address: string }> {
  const address = `${options.host}:${options.port}`;
  // Each check uses a fresh connection: a gRPC channel that failed once backs off before retrying.
  const healthy = (timeoutMs: number) => isSidecarHealthy(address, timeoutMs);
  if (await healthy(2000)) return { started: false, address };
  const files = sidecarRunFiles(options.runDir, options.port);
  const timeoutMs = options.timeoutMs ?? 300_000;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    const release = tryLock(files.lockFile, timeoutMs + 30_000);
    if (release) {
      try {
        if (await healthy(1000)) return { started: false, address };
        // A process that holds the port and does not answer (a stopped or hung sidecar) keeps a
        // new one from binding it: say so now rather than load a model that cannot serve.
        if (await portInUse(options.host, options.port)) {
          throw new SetupError({
            component: "sidecar",
            message: `the port of ${address} is held by a process that does not answer health (a stopped or hung sidecar? log: ${files.logFile})`,
          });
        }
        options.log?.(`no sidecar at ${address}: starting one (log: ${files.logFile})`);
        const { startSidecar } = await import("./start-sidecar.ts");
        await startSidecar({
          ...options.start,
          host: options.host,
          port: options.port,
          pidFile: files.pidFile,
          logFile: files.logFile,
          secretFile: options.secretFile ?? files.secretFile,
          readyTimeoutMs: Math.max(1000, deadline - Date.now()),
        });
        return { started: true, address };
      } catch (err) {
        if (await healthy(1000)) return { started: false, address };
        lastError = err;
        break;
      } finally {
        release();
      }
    }
    await sleep(500);
    if (await healthy(1000)) return { started: false, address };
  }
  const why =
    lastError instanceof Error ? `: ${lastError.message.split("\n")[0]}` : ` within ${Math.round(timeoutMs / 1000)} s`;
  throw new SetupError({
    component: "sidecar",
    message: `no sidecar answers at ${address} and none could be started${why} (log: ${files.logFile})`,
    cause: lastError,
  });
}
