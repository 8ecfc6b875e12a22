/**
 * Makes sure a sidecar answers before the bridge streams rows: with auto-start on (the
 * default) and a loopback address, the first bridge on a node starts it, once (see
 * `ensureLocalSidecar`); otherwise the bridge fails with one clear line so Spark retries the task.
 */
import { OrchardError } from "../errors.ts";
import { ensureLocalSidecar } from "../manage/ensure-local-sidecar.ts";
import { isSidecarHealthy } from "../manage/sidecar-status.ts";
import { type BridgeConfig, parseAddress } from "./bridge-config.ts";

/** No sidecar answers, and the bridge may not (or could not) start one. */
export class SidecarUnavailableError extends OrchardError {
  constructor(message: string, cause?: unknown) {
    super("connection", { message, cause });
  }
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\./.test(host);
}

/** Resolves once the sidecar at `config.sidecar` answers `health`; starts it if needed and allowed. */
export async function ensureSidecar(
  config: BridgeConfig,
  log: (message: string) => void,
): Promise<{ started: boolean }> {
  if (await isSidecarHealthy(config.sidecar, 2000)) return { started: false };
  const { host, port } = parseAddress(config.sidecar);
  if (!config.autoStart) {
    throw new SidecarUnavailableError(`no sidecar answers at ${config.sidecar} (auto-start is off)`);
  }
  if (!isLoopback(host)) {
    throw new SidecarUnavailableError(
      `no sidecar answers at ${config.sidecar} (only a loopback sidecar is started on demand)`,
    );
  }
  try {
    const { started } = await ensureLocalSidecar({
      host,
      port,
      runDir: config.runDir,
      secretFile: config.secretFile,
      timeoutMs: config.startTimeoutSeconds * 1000,
      log,
      start: {
        cacheDir: config.cacheDir,
        idleExitSeconds: config.idleExitSeconds,
        ...(config.model === undefined ? {} : { model: config.model }),
        ...(config.threads === undefined ? {} : { threads: config.threads }),
        ...(config.device === undefined ? {} : { device: config.device }),
      },
    });
    return { started };
  } catch (err) {
    throw new SidecarUnavailableError(err instanceof Error ? (err.message.split("\n")[0] ?? "") : String(err), err);
  }
}
