/**
 * The `orchard-sidecar` process: loads the featurizer once, serves Flight until SIGTERM/SIGINT
 * (or `--idle-exit-seconds` without an exchange), then drains in-flight work and exits.
 * Makes a fresh shared secret at every start and, once bound, writes it to its 0600 secret file
 * (`--secret-file`, default `sidecar-<port>.secret` in the run folder), then a pid file (JSON:
 * pid, address, model); removes both on exit (when they are still its own).
 */
import { readFileSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { generateSecret, writeSecretFile } from "../auth/sidecar-secret.ts";
import { OrchardError, SetupError } from "../errors.ts";
import { loadFeaturizer } from "../featurizer.ts";
import { cacheRootFromEnv } from "../process/cache-root.ts";
import { writeFileAtomic } from "../process/managed-process.ts";
import { startFlightServer } from "./flight-server.ts";
import { parseSidecarConfig, SIDECAR_FLAGS, type SidecarConfig } from "./sidecar-config.ts";

/** Exit codes of `orchard-sidecar`. */
const SidecarExit = { OK: 0, CONFIG: 2, SETUP: 3, ADDRESS_IN_USE: 4 } as const;

function log(message: string): void {
  process.stderr.write(`${new Date().toISOString()} sidecar[${process.pid}] ${message}\n`);
}

/** Parses `argv` (flags such as `--port 8815 --max-batch 32`) into a config; `env` supplies ORCHARD_CACHE and ORCHARD_RUN_DIR. */
function sidecarConfigFromArgs(
  argv: string[],
  env: Readonly<Record<string, string | undefined>>,
): SidecarConfig & { runDir: string } {
  const { values } = parseArgs({
    args: argv,
    options: Object.fromEntries(SIDECAR_FLAGS.map(({ flag }) => [flag, { type: "string" as const }])),
    strict: true,
    allowPositionals: false,
  });
  const raw: Record<string, unknown> = {};
  for (const { key, flag } of SIDECAR_FLAGS) {
    const v = values[flag];
    if (v !== undefined) raw[key] = v;
  }
  if (raw.cacheDir === undefined && env.ORCHARD_CACHE) raw.cacheDir = env.ORCHARD_CACHE;
  const config = parseSidecarConfig(raw);
  const runDir = env.ORCHARD_RUN_DIR || join(config.cacheDir ?? cacheRootFromEnv(env, homedir()), "run");
  return { ...config, runDir };
}

/** Removes `path` if it still holds `text` (a sidecar started later on the port owns it otherwise). */
function removeIfStill(path: string, text: string): void {
  try {
    if (readFileSync(path, "utf8").trim() === text) rmSync(path, { force: true });
  } catch {
    // already gone
  }
}

function removeOwnPidFile(path: string | undefined): void {
  if (!path) return;
  try {
    const recorded = JSON.parse(readFileSync(path, "utf8")) as { pid?: number };
    if (recorded.pid === process.pid) rmSync(path, { force: true });
  } catch {
    // not ours, or already gone
  }
}

/** Runs the sidecar with `config` until it is told to stop; resolves with the exit code. */
async function runSidecar(config: SidecarConfig & { runDir: string }): Promise<number> {
  const t0 = performance.now();
  const featurizer = await loadFeaturizer({
    model: config.model,
    ...(config.threads === undefined ? {} : { threads: config.threads }),
    ...(config.sessions === undefined ? {} : { sessions: config.sessions }),
    ...(config.cacheDir === undefined ? {} : { cacheDir: config.cacheDir }),
    device: config.device,
  });
  log(
    `model ${featurizer.info.name} ${featurizer.info.version} loaded in ${Math.round(performance.now() - t0)} ms (${featurizer.info.threads} threads)`,
  );
  log(
    `device ${featurizer.info.device}${featurizer.deviceNote ? ` (${featurizer.deviceNote})` : ` (--device ${config.device})`}`,
  );
  const secret = generateSecret();
  const server = await startFlightServer(featurizer, {
    host: config.host,
    port: config.port,
    batching: {
      maxBatch: config.maxBatch,
      maxWaitMs: config.maxWaitMs,
      maxConcurrentBatches: config.concurrentBatches,
    },
    limits: {
      maxPendingPerStream: config.maxPendingPerStream,
      maxQueued: config.maxQueued,
      maxBatchRows: config.maxBatchRows,
    },
    maxMessageBytes: config.maxMessageMb * 1024 * 1024,
    secret,
    log,
  });
  // Written only once the port is ours: a sidecar that cannot bind never replaces the secret of the one that did.
  const secretFile = config.secretFile ?? join(config.runDir, `sidecar-${server.port}.secret`);
  try {
    writeSecretFile(secretFile, secret);
  } catch (cause) {
    await server.close(0);
    await featurizer.close();
    throw new SetupError({ component: "sidecar", message: `cannot write the secret file ${secretFile}`, cause });
  }
  log(`shared secret in ${secretFile} (0600)`);
  if (config.pidFile) {
    writeFileAtomic(
      config.pidFile,
      `${JSON.stringify({ pid: process.pid, address: server.address, model: featurizer.info.name, startedAt: new Date().toISOString() })}\n`,
    );
  }

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = async (why: string) => {
      if (stopping) return;
      stopping = true;
      clearInterval(idleTimer);
      log(`${why}: draining ${server.activeExchanges()} exchange(s), ${server.batcher.queued} queued image(s)`);
      await server.close(config.graceSeconds * 1000);
      await featurizer.close();
      removeIfStill(secretFile, secret);
      removeOwnPidFile(config.pidFile);
      log(`stopped after ${server.batcher.stats.images} image(s) in ${server.batcher.stats.batches} batch(es)`);
      resolve(SidecarExit.OK);
    };
    // Repeated SIGTERMs (a manager retrying) leave the drain running; a second Ctrl-C forces.
    process.on("SIGTERM", () => void stop("SIGTERM"));
    process.on("SIGINT", () => {
      if (stopping) {
        log("second SIGINT: exiting without draining");
        process.exit(130);
      }
      void stop("SIGINT");
    });
    const idleTimer = setInterval(() => {
      if (config.idleExitSeconds > 0 && server.idleMs() > config.idleExitSeconds * 1000) {
        void stop(`idle for ${config.idleExitSeconds} s`);
      }
    }, 1000);
    idleTimer.unref();
  });
}

/** Entry point of `udf-server/bin/orchard-sidecar`. */
export async function sidecarMain(argv: string[], env: Readonly<Record<string, string | undefined>>): Promise<number> {
  let config: SidecarConfig & { runDir: string };
  try {
    config = sidecarConfigFromArgs(argv, env);
  } catch (err) {
    process.stderr.write(`orchard-sidecar: ${err instanceof Error ? err.message : String(err)}\n`);
    return SidecarExit.CONFIG;
  }
  try {
    return await runSidecar(config);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    log(`cannot start: ${message}`);
    removeOwnPidFile(config.pidFile);
    if (/EADDRINUSE|address already in use/i.test(message)) return SidecarExit.ADDRESS_IN_USE;
    return err instanceof OrchardError && err.kind === "config" ? SidecarExit.CONFIG : SidecarExit.SETUP;
  }
}
