import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { join } from "node:path";
import { driverRuntime } from "./driver-process.ts";

/** The log of the background warm-up of the local server on `port` (in the run folder, beside its own log). */
function warmUpLogFile(runDir: string, port: number): string {
  return join(runDir, `spark-${port}-warm-up.log`);
}

/**
 * Starts `orchard spark warm-up --port PORT` detached, its output in {@link warmUpLogFile}: the
 * server's JVM warms up (`warmUpSpark`, spark-warm-up.ts) while the user is not yet waiting on it, and
 * `orchard spark start` returns as soon as the server answers. It ends by itself (also when the
 * server is stopped meanwhile). Returns the log file.
 */
export function startBackgroundWarmUp({
  runDir,
  port,
  env,
}: {
  runDir: string;
  port: number;
  env: Readonly<Record<string, string | undefined>>;
}): string {
  const { node, orchardBin } = driverRuntime(undefined);
  const logFile = warmUpLogFile(runDir, port);
  const out = openSync(logFile, "w", 0o600);
  try {
    spawn(node, [orchardBin, "spark", "warm-up", "--port", String(port)], {
      env,
      detached: true,
      stdio: ["ignore", out, out],
    }).unref();
  } finally {
    closeSync(out);
  }
  return logFile;
}
