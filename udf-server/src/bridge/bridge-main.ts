/**
 * Entry point of `udf-server/bin/orchard-bridge`. Exit codes: 0 done; 1 the sidecar could not
 * be reached or failed mid-stream (Spark retries the task); 2 bad arguments; 3 the parent
 * process went away; 4 the server on the port is not this node's sidecar (it failed to prove the
 * shared secret, or refused it) or serves another model than the run asked for. Every failure is
 * one line on stderr. Before the first row, and after every reconnect, the sidecar is verified
 * (see `verifySidecar`).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { SidecarAuthError } from "../auth/sidecar-secret.ts";
import { OrchardError } from "../errors.ts";
import { isSidecarHealthy } from "../manage/sidecar-status.ts";
import { ModelMismatchError, verifySidecar } from "../manage/verify-sidecar.ts";
import { bridgeConfig } from "./bridge-config.ts";
import { ensureSidecar } from "./ensure-sidecar.ts";
import { runBridge } from "./run-bridge.ts";

/** How long a broken exchange waits for a supervisor to bring the sidecar back before starting one. */
const RESTART_GRACE_MS = 10_000;

/** Polls `health` until the sidecar answers or `timeoutMs` passes. */
async function waitForHealthy(address: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await isSidecarHealthy(address, 1000)) return true;
    await sleep(250);
  }
  return false;
}

/** Exit codes of `orchard-bridge`. */
const BridgeExit = { OK: 0, SIDECAR: 1, CONFIG: 2, ORPHANED: 3, WRONG_SIDECAR: 4 } as const;

function oneLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, " | ");
}

/** Polls `process.ppid`: when the parent is gone the bridge is re-parented, and exits. */
function watchParent(parent: number, onGone: () => void, intervalMs = 1000): void {
  if (process.ppid !== parent) {
    onGone();
    return;
  }
  const timer = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(timer);
      onGone();
    }
  }, intervalMs);
  timer.unref();
}

/** Runs the bridge; `parentPid` is the parent at process start (default: the current one). */
export async function bridgeMain(
  argv: string[],
  env: Readonly<Record<string, string | undefined>>,
  { parentPid = process.ppid }: { parentPid?: number } = {},
): Promise<number> {
  const fail = (code: number, message: string) => {
    process.stderr.write(`orchard-bridge: ${message}\n`);
    return code;
  };
  let config: ReturnType<typeof bridgeConfig>;
  try {
    config = bridgeConfig(argv, env);
  } catch (err) {
    return fail(BridgeExit.CONFIG, oneLine(err));
  }
  watchParent(parentPid, () => {
    process.stderr.write("orchard-bridge: parent process went away; exiting\n");
    process.exit(BridgeExit.ORPHANED);
  });
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(fail(BridgeExit.ORPHANED, "stdout closed by the reader; exiting"));
  });
  const log = (m: string) => process.stderr.write(`orchard-bridge: ${m}\n`);
  const verify = () =>
    verifySidecar(config.sidecar, {
      secretFile: config.secretFile,
      ...(config.expectModel ? { expectModel: config.expectModel } : {}),
    });
  try {
    await ensureSidecar(config, log);
    await verify();
    await runBridge(
      config,
      { input: process.stdin, output: process.stdout },
      {
        // A supervisor (systemd, the Docker image's) may already be restarting it: give it a moment,
        // then start one ourselves where that is allowed.
        reconnect: async () => {
          if (!(await waitForHealthy(config.sidecar, RESTART_GRACE_MS))) await ensureSidecar(config, log);
          await verify();
        },
        onReconnect: (attempt, cause) => log(`the exchange broke (${oneLine(cause)}); reconnecting (${attempt})`),
      },
    );
    return BridgeExit.OK;
  } catch (err) {
    const code =
      err instanceof SidecarAuthError || err instanceof ModelMismatchError
        ? BridgeExit.WRONG_SIDECAR
        : err instanceof OrchardError && err.kind === "config"
          ? BridgeExit.CONFIG
          : BridgeExit.SIDECAR;
    return fail(code, oneLine(err));
  }
}
