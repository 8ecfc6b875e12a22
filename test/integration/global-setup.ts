import { rmSync } from "node:fs";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { freePort } from "../../src/cli/local/ports.ts";
import { ensureBucket } from "../../src/cli/local/s3-objects.ts";
import { randomS3Credentials, startLocalS3 } from "../../src/cli/local/s3-server.ts";
import { startLocalSpark } from "../../src/cli/local/spark-server.ts";
import { readTokenFile } from "../../src/cli/local/token-file.ts";
import { s3Client, s3CompatibleAccess } from "../../src/s3.ts";
import { sidecarRunFiles } from "../../udf-server/src/manage/run-files.ts";
import { startSidecar } from "../../udf-server/src/manage/start-sidecar.ts";
import type { ProvidedS3 } from "./helpers/provided.ts";
import { TEST_LOG_DIR, testLayout } from "./helpers/test-paths.ts";

// The AWS SDK warns on every process that Node 20 support ends in 2027; tests need not repeat it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

/** Bucket the shared S3 store gets (created when missing). */
const TEST_BUCKET = "orchard-test";

/**
 * Starts the real components the integration tests share and provides their addresses:
 * - S3: `ORCHARD_S3_ENDPOINT` (+ `ORCHARD_S3_ACCESS_KEY`, `ORCHARD_S3_SECRET_KEY`, optional
 *   `ORCHARD_S3_BUCKET`) when set, else a local MinIO on a free port with random credentials;
 * - Spark: `SPARK_REMOTE` when set (it must then reach that S3 store itself), else a local
 *   Spark Connect server on a free port (never 15002), configured for the S3 store, requiring
 *   the random token every server orchard starts gets (provided inside the URL, `;token=...`);
 * - the sidecar: `ORCHARD_SIDECAR` (host:port) when set, else one started on a free port.
 * Tears down exactly what it started, also when a later start-up fails.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stops: Started[] = [];
  const teardown = async () => {
    for (const { name, pid, stop } of stops.reverse()) {
      try {
        await stop();
        running.delete(pid);
      } catch (err) {
        console.error(`[global-setup] stopping ${name} failed:`, err instanceof Error ? err.message : err);
      }
    }
  };
  try {
    const s3 = await provideS3(stops);
    project.provide("s3", s3);

    // Spark and the sidecar start side by side (each takes seconds); both are registered for
    // teardown as soon as they are up, so a failure of one still stops the other.
    const results = await Promise.allSettled([
      provideSpark(stops, s3).then((remote) => project.provide("sparkRemote", remote)),
      provideSidecar(stops).then(({ address, secretFile }) => {
        project.provide("sidecar", address);
        project.provide("sidecarSecretFile", secretFile);
      }),
    ]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
  } catch (err) {
    await teardown();
    throw err;
  }
  return teardown;
}

/** A server this set-up started: stopped by the teardown, killed by the exit guard if that never ran. */
interface Started {
  name: string;
  pid: number;
  stop: () => Promise<void>;
}

/** Pids still running; if the test run dies without its teardown, their process groups get SIGTERM. */
const running = new Set<number>();
process.once("exit", () => {
  for (const pid of running) {
    try {
      process.kill(-pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
});

function track(stops: Started[], started: Started): void {
  stops.push(started);
  running.add(started.pid);
}

async function provideSpark(stops: Started[], s3: ProvidedS3): Promise<string> {
  const remote = process.env.SPARK_REMOTE;
  if (remote) return remote;
  const spark = await startLocalSpark({
    port: await freePort(),
    master: "local[2]",
    conf: { "spark.sql.shuffle.partitions": "4" },
    s3,
    logDir: TEST_LOG_DIR,
  });
  track(stops, { name: "spark", pid: spark.pid, stop: spark.stop });
  console.log(
    `[global-setup] Spark Connect ${spark.remote} (token required) up in ${(spark.startupMs / 1000).toFixed(1)} s (log ${spark.logFile})`,
  );
  if (!spark.tokenFile) throw new Error("global-setup: the shared Spark was started without a token");
  return `${spark.remote}/;token=${readTokenFile(spark.tokenFile, "token file")}`;
}

/**
 * The sidecar the Spark executors' bridges talk to (ORCHARD_SIDECAR: use a running one, whose
 * secret is ORCHARD_SIDECAR_SECRET_FILE or in the cache's run folder). One started here keeps its
 * pid file and secret in the cache's run folder, where the CLI and the bridges look for them.
 */
async function provideSidecar(stops: Started[]): Promise<{ address: string; secretFile: string }> {
  const runDir = process.env.ORCHARD_RUN_DIR || testLayout().runDir;
  const givenSidecar = process.env.ORCHARD_SIDECAR;
  if (givenSidecar) {
    const port = Number(givenSidecar.slice(givenSidecar.lastIndexOf(":") + 1));
    return {
      address: givenSidecar,
      secretFile: process.env.ORCHARD_SIDECAR_SECRET_FILE || sidecarRunFiles(runDir, port).secretFile,
    };
  }
  const port = await freePort();
  const files = sidecarRunFiles(runDir, port);
  const sidecar = await startSidecar({
    port,
    pidFile: files.pidFile,
    secretFile: files.secretFile,
    logFile: join(TEST_LOG_DIR, "sidecar.log"),
    idleExitSeconds: 0,
  });
  track(stops, { name: "sidecar", pid: sidecar.pid, stop: () => sidecar.stop() });
  console.log(`[global-setup] sidecar ${sidecar.address} up (pid ${sidecar.pid})`);
  return { address: sidecar.address, secretFile: sidecar.secretFile };
}

async function provideS3(stops: Started[]): Promise<ProvidedS3> {
  const bucket = process.env.ORCHARD_S3_BUCKET || TEST_BUCKET;
  const given = process.env.ORCHARD_S3_ENDPOINT;
  let s3: ProvidedS3;
  if (given) {
    const accessKeyId = process.env.ORCHARD_S3_ACCESS_KEY;
    const secretAccessKey = process.env.ORCHARD_S3_SECRET_KEY;
    if (!accessKeyId || !secretAccessKey) {
      throw new Error("global-setup: ORCHARD_S3_ENDPOINT needs ORCHARD_S3_ACCESS_KEY and ORCHARD_S3_SECRET_KEY");
    }
    s3 = { ...s3CompatibleAccess(given, { accessKeyId, secretAccessKey }), bucket };
  } else {
    const credentials = randomS3Credentials();
    const port = await freePort();
    const dataDir = join(TEST_LOG_DIR, `s3-data-${port}`);
    const server = await startLocalS3({ port, credentials, dataDir, logDir: TEST_LOG_DIR });
    track(stops, {
      name: "s3",
      pid: server.pid,
      stop: async () => {
        await server.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    });
    console.log(`[global-setup] S3 (MinIO) ${server.endpoint} up in ${(server.startupMs / 1000).toFixed(1)} s`);
    s3 = { ...s3CompatibleAccess(server.endpoint, credentials), bucket };
  }
  await ensureBucket(await s3Client(s3), bucket);
  return s3;
}
