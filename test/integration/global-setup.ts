import { rmSync } from "node:fs";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { freePort } from "../../src/cli/local/ports.ts";
import { ensureBucket, s3Client } from "../../src/cli/local/s3-objects.ts";
import { randomS3Credentials, startLocalS3 } from "../../src/cli/local/s3-server.ts";
import { startLocalSpark } from "../../src/cli/local/spark-server.ts";
import { startSidecar } from "../../udf-server/src/manage/start-sidecar.ts";
import type { ProvidedS3 } from "./helpers/provided.ts";
import { TEST_LOG_DIR } from "./helpers/test-paths.ts";

/** Bucket the shared S3 store gets (created when missing). */
const TEST_BUCKET = "orchard-test";

/**
 * Starts the real components the integration tests share and provides their addresses:
 * - S3: `ORCHARD_S3_ENDPOINT` (+ `ORCHARD_S3_ACCESS_KEY`, `ORCHARD_S3_SECRET_KEY`, optional
 *   `ORCHARD_S3_BUCKET`) when set, else a local MinIO on a free port with random credentials;
 * - Spark: `SPARK_REMOTE` when set (it must then reach that S3 store itself), else a local
 *   Spark Connect server on a free port (never 15002), configured for the S3 store;
 * - the sidecar: `ORCHARD_SIDECAR` (host:port) when set, else one started on a free port.
 * Tears down exactly what it started, also when a later start-up fails.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stops: { name: string; stop: () => Promise<void> }[] = [];
  const teardown = async () => {
    for (const { name, stop } of stops.reverse()) {
      try {
        await stop();
      } catch (err) {
        console.error(`[global-setup] stopping ${name} failed:`, err instanceof Error ? err.message : err);
      }
    }
  };
  try {
    const s3 = await provideS3(stops);
    project.provide("s3", s3);

    const remote = process.env.SPARK_REMOTE;
    if (remote) {
      project.provide("sparkRemote", remote);
    } else {
      const spark = await startLocalSpark({
        port: await freePort(),
        master: "local[2]",
        conf: { "spark.sql.shuffle.partitions": "4" },
        s3: { endpoint: s3.endpoint, accessKey: s3.accessKey, secretKey: s3.secretKey },
        logDir: TEST_LOG_DIR,
      });
      stops.push({ name: "spark", stop: spark.stop });
      console.log(
        `[global-setup] Spark Connect ${spark.remote} up in ${(spark.startupMs / 1000).toFixed(1)} s (log ${spark.logFile})`,
      );
      project.provide("sparkRemote", spark.remote);
    }

    // The sidecar the Spark executors' bridges talk to (ORCHARD_SIDECAR: use a running one).
    const givenSidecar = process.env.ORCHARD_SIDECAR;
    if (givenSidecar) {
      project.provide("sidecar", givenSidecar);
    } else {
      const sidecar = await startSidecar({
        port: await freePort(),
        logFile: join(TEST_LOG_DIR, "sidecar.log"),
        idleExitSeconds: 0,
      });
      stops.push({ name: "sidecar", stop: () => sidecar.stop() });
      console.log(`[global-setup] sidecar ${sidecar.address} up (pid ${sidecar.pid})`);
      project.provide("sidecar", sidecar.address);
    }
  } catch (err) {
    await teardown();
    throw err;
  }
  return teardown;
}

async function provideS3(stops: { name: string; stop: () => Promise<void> }[]): Promise<ProvidedS3> {
  const bucket = process.env.ORCHARD_S3_BUCKET || TEST_BUCKET;
  const given = process.env.ORCHARD_S3_ENDPOINT;
  let s3: ProvidedS3;
  if (given) {
    const accessKey = process.env.ORCHARD_S3_ACCESS_KEY;
    const secretKey = process.env.ORCHARD_S3_SECRET_KEY;
    if (!accessKey || !secretKey) {
      throw new Error("global-setup: ORCHARD_S3_ENDPOINT needs ORCHARD_S3_ACCESS_KEY and ORCHARD_S3_SECRET_KEY");
    }
    s3 = { endpoint: given, accessKey, secretKey, bucket };
  } else {
    const credentials = randomS3Credentials();
    const port = await freePort();
    const dataDir = join(TEST_LOG_DIR, `s3-data-${port}`);
    const server = await startLocalS3({ port, ...credentials, dataDir, logDir: TEST_LOG_DIR });
    stops.push({
      name: "s3",
      stop: async () => {
        await server.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    });
    console.log(`[global-setup] S3 (MinIO) ${server.endpoint} up in ${(server.startupMs / 1000).toFixed(1)} s`);
    s3 = { endpoint: server.endpoint, ...credentials, bucket };
  }
  await ensureBucket(s3Client(s3), bucket);
  return s3;
}
