/**
 * Makes sure a sidecar answers before the bridge streams rows. When none answers and the bridge
 * may start one (loopback address only), exactly one bridge per node starts it: the one that
 * takes `<cache>/run/sidecar-<port>.lock`; the others wait for it to answer. The port is the
 * last line of defence: a second sidecar on the same port fails to bind and exits.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { OrchardError } from "../../../src/errors.ts";
import { sidecarRunFiles, tryLock } from "../manage/run-files.ts";
import { isSidecarHealthy } from "../manage/sidecar-status.ts";
import type { BridgeConfig } from "./bridge-config.ts";
import { parseAddress } from "./bridge-config.ts";

/** No sidecar answers, and the bridge may not (or could not) start one. */
export class SidecarUnavailableError extends OrchardError {
  constructor(message: string, cause?: unknown) {
    super("connection", { message, cause });
  }
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\./.test(host);
}

/**
 * Resolves once the sidecar at `config.sidecar` answers `health`; starts it if needed and
 * allowed. Each check uses a fresh connection (a channel that failed once backs off).
 */
export async function ensureSidecar(
  config: BridgeConfig,
  log: (message: string) => void,
): Promise<{ started: boolean }> {
  const healthy = (timeoutMs: number) => isSidecarHealthy(config.sidecar, timeoutMs);
  if (await healthy(2000)) return { started: false };
  const { host, port } = parseAddress(config.sidecar);
  if (!config.autoStart) {
    throw new SidecarUnavailableError(`no sidecar answers at ${config.sidecar} (auto-start is off)`);
  }
  if (!isLoopback(host)) {
    throw new SidecarUnavailableError(
      `no sidecar answers at ${config.sidecar} (only a loopback sidecar is started on demand)`,
    );
  }
  const files = sidecarRunFiles(config.runDir, port);
  const timeoutMs = config.startTimeoutSeconds * 1000;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const release = tryLock(files.lockFile, timeoutMs + 30_000);
    if (release) {
      try {
        if (await healthy(1000)) return { started: false };
        log(`no sidecar at ${config.sidecar}: starting one (log: ${files.logFile})`);
        const { startSidecar } = await import("../manage/start-sidecar.ts");
        await startSidecar({
          host,
          port,
          pidFile: files.pidFile,
          logFile: files.logFile,
          cacheDir: config.cacheDir,
          idleExitSeconds: config.idleExitSeconds,
          readyTimeoutMs: Math.max(1000, deadline - Date.now()),
          ...(config.model === undefined ? {} : { model: config.model }),
          ...(config.threads === undefined ? {} : { threads: config.threads }),
        });
        return { started: true };
      } catch (err) {
        if (await healthy(1000)) return { started: false };
        throw new SidecarUnavailableError(
          `no sidecar answers at ${config.sidecar} and starting one failed: ${(err instanceof Error ? err.message : String(err)).split("\n")[0]}`,
          err,
        );
      } finally {
        release();
      }
    }
    await sleep(500);
    if (await healthy(1000)) return { started: false };
  }
  throw new SidecarUnavailableError(`no sidecar answered at ${config.sidecar} within ${config.startTimeoutSeconds} s`);
}
