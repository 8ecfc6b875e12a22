/**
 * Soak benchmark (issue 13): the pipeline over `--scale` x the sample set's Training images on
 * `local[2]`, with the sidecar SIGKILLed `--kills` times during the features step (evenly over the
 * images). The bridges Spark runs bring a sidecar back on the port and send again what had no
 * answer; the run must still end with rows in == rows out and no error row. Prints the counts, the
 * kills and restarts seen, and the peak RSS of the sidecar (whichever is alive), of this driver
 * process and of the Spark JVM, sampled every 500 ms.
 *
 *   npx tsx bench/soak/run.ts [--scale 10] [--kills 2] [--k 50]
 *
 * Starts its own Spark and sidecar on free loopback ports and stops them (and a restarted
 * sidecar). Needs `npm run setup`. Prints figures; asserts nothing.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { cacheRoot } from "../../scripts/lib/paths.ts";
import { freePort } from "../../src/cli/local/ports.ts";
import { startLocalSpark } from "../../src/cli/local/spark-server.ts";
import { runPipeline } from "../../src/pipeline/run-pipeline.ts";
import { readPidRecord, sidecarRunFiles } from "../../udf-server/src/manage/run-files.ts";
import { rowCounter } from "../../udf-server/src/manage/sidecar-status.ts";
import { startSidecar } from "../../udf-server/src/manage/start-sidecar.ts";
import { isAlive, stopProcessGroup } from "../../udf-server/src/process/managed-process.ts";
import { localSession } from "../lib/local-session.ts";
import { rssMb } from "../lib/proc-stats.ts";
import { baseImages, copiesDataset } from "../lib/sample-set.ts";

const { values } = parseArgs({
  options: { scale: { type: "string" }, kills: { type: "string" }, k: { type: "string" } },
});
const scale = Number(values.scale ?? 10);
const kills = Number(values.kills ?? 2);
const k = Number(values.k ?? 50);
const work = mkdtempSync(join(tmpdir(), "orchard-bench-soak-"));

async function main(): Promise<void> {
  const stops: Array<() => Promise<unknown>> = [];
  // The bridges run under the Spark server's environment: a sidecar they bring back records
  // itself in the cache's run folder, where this bench's own sidecar is recorded too.
  const runDir = join(cacheRoot(), "run");
  const port = await freePort();
  const files = sidecarRunFiles(runDir, port);
  try {
    const base = baseImages();
    const input = copiesDataset(base, scale, join(work, "in"));
    const spark = await startLocalSpark({ port: await freePort(), master: "local[2]", logDir: join(work, "logs") });
    stops.push(spark.stop);
    const first = await startSidecar({ port, pidFile: files.pidFile, logFile: files.logFile });
    stops.push(async () => {
      const record = readPidRecord(files.pidFile);
      if (record && isAlive(record.pid)) await stopProcessGroup(record.pid, 10_000);
    });
    const session = localSession(spark);
    stops.push(() => session.stop());
    const images = scale * base.length;
    console.log(`soak: ${images} images (${scale}x the sample set), k=${k}, ${kills} sidecar kills, local[2]`);

    const pids = new Set<number>([first.pid]);
    const peak = { sidecar: 0, driver: 0, spark: 0 };
    let killed = 0;
    let servedBefore = 0; // rows answered by sidecars already killed
    let lastServed = 0;
    let done = false;
    const counter = rowCounter(first.address, first.secretFile);
    const monitor = (async () => {
      while (!done) {
        const pid = readPidRecord(files.pidFile)?.pid;
        if (pid && isAlive(pid)) {
          if (!pids.has(pid)) {
            pids.add(pid);
            lastServed = 0;
          }
          peak.sidecar = Math.max(peak.sidecar, rssMb(pid));
        }
        peak.driver = Math.max(peak.driver, process.memoryUsage().rss / 2 ** 20);
        peak.spark = Math.max(peak.spark, rssMb(spark.pid));
        const served = await counter.read(1000).then(
          (c) => c.rowsServed,
          () => lastServed,
        );
        lastServed = served;
        // Kill i of `kills` once i/(kills+1) of the images have been answered.
        if (pid && killed < kills && servedBefore + served >= ((killed + 1) * images) / (kills + 1)) {
          process.kill(pid, "SIGKILL");
          killed++;
          servedBefore += served;
          lastServed = 0;
          console.log(`  killed sidecar pid ${pid} after ${servedBefore} rows answered`);
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
    let summary: Awaited<ReturnType<typeof runPipeline>>;
    try {
      summary = await runPipeline(session, {
        input: pathToFileURL(input).href,
        output: pathToFileURL(join(work, "out")).href,
        reduction: { k },
        keepFeatures: false,
        extensions: ["jpg"],
        mode: "overwrite",
        sidecar: first.address,
        sidecarSecretFile: first.secretFile,
      });
    } finally {
      done = true;
      await monitor;
      counter.close();
    }
    const errors = await session.read
      .parquet(pathToFileURL(join(work, "out", "data")).href)
      .filter("error IS NOT NULL")
      .count();
    console.log(
      [
        `rows: ${summary.counts.filesIn} in, ${summary.counts.rowsOut} out, ${summary.counts.failed} failed (${errors} error rows)`,
        `sidecar kills: ${killed}; sidecar processes seen: ${pids.size} (restarts ${pids.size - 1})`,
        `wall ${(summary.wallMs / 1000).toFixed(1)} s, ${summary.imagesPerSecond.toFixed(1)} img/s; features ${((summary.timingsMs.features ?? 0) / 1000).toFixed(1)} s`,
        `peak RSS: sidecar ${peak.sidecar.toFixed(0)} MB, driver (this process) ${peak.driver.toFixed(0)} MB, Spark JVM ${peak.spark.toFixed(0)} MB`,
        `load average at the end: ${(loadavg()[0] ?? 0).toFixed(1)}`,
      ].join("\n"),
    );
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
