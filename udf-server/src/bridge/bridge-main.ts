/**
 * Entry point of `udf-server/bin/orchard-bridge`. Exit codes: 0 done; 1 the sidecar could not
 * be reached or failed mid-stream (Spark retries the task); 2 bad arguments; 3 the parent
 * process went away. Every failure is one line on stderr.
 */
import { OrchardError } from "../errors.ts";
import { bridgeConfig } from "./bridge-config.ts";
import { ensureSidecar } from "./ensure-sidecar.ts";
import { runBridge } from "./run-bridge.ts";

/** Exit codes of `orchard-bridge`. */
const BridgeExit = { OK: 0, SIDECAR: 1, CONFIG: 2, ORPHANED: 3 } as const;

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
  try {
    await ensureSidecar(config, (m) => process.stderr.write(`orchard-bridge: ${m}\n`));
    await runBridge(config, { input: process.stdin, output: process.stdout });
    return BridgeExit.OK;
  } catch (err) {
    const code = err instanceof OrchardError && err.kind === "config" ? BridgeExit.CONFIG : BridgeExit.SIDECAR;
    return fail(code, oneLine(err));
  }
}
