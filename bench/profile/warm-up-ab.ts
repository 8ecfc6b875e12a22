/**
 * JVM warm-up (issue 14): the pipeline's first run on a freshly started local Spark server
 * against a warm run on the same server (goal: <= 1.25x), without and with a warm-up right after
 * the server's start: the whole pipeline (list -> featurize -> PCA -> Parquet) over `--warm-images`
 * images into a scratch folder, i.e. the code paths of a run, on a handful of rows. Each trial
 * starts a fresh server, (warms it up,) runs the pipeline on the sample set twice (fresh, then
 * warm) and stops it; the variants alternate, the order flipped each trial. One sidecar, warmed
 * once, serves all trials, so the ratio is the Spark server's. Prints each trial and per variant
 * the median fresh/warm ratio and the warm-up's time.
 *
 *   npx tsx bench/profile/warm-up-ab.ts [--trials 2] [--warm-images 8] [--k 50]
 *
 * Needs `npm run setup`. Prints figures; asserts nothing.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { freePort } from "../../src/cli/local/ports.ts";
import { startLocalSpark } from "../../src/cli/local/spark-server.ts";
import type { SparkSession } from "../../src/connect/spark-session.ts";
import { runPipeline } from "../../src/pipeline/run-pipeline.ts";
import { startSidecar } from "../../udf-server/src/manage/start-sidecar.ts";
import { localSession } from "../lib/local-session.ts";
import { baseImages, copiesDataset } from "../lib/sample-set.ts";

const { values } = parseArgs({
  options: { trials: { type: "string" }, "warm-images": { type: "string" }, k: { type: "string" } },
});
const trials = Number(values.trials ?? 2);
const warmImages = Number(values["warm-images"] ?? 8);
const k = Number(values.k ?? 50);
const work = mkdtempSync(join(tmpdir(), "orchard-warm-up-ab-"));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function main(): Promise<void> {
  const input = copiesDataset(baseImages(), 1, join(work, "images"));
  const tiny = copiesDataset(baseImages(warmImages), 1, join(work, "tiny"));
  const stops: Array<() => Promise<void>> = [];
  try {
    const sidecar = await startSidecar({ port: await freePort(), logFile: join(work, "sidecar.log") });
    stops.push(() => sidecar.stop());
    // Seconds of the whole runPipeline call (run.json's wallMs leaves out the report and the publish).
    const run = async (spark: SparkSession, from: string, to: string, kk: number) => {
      const t0 = performance.now();
      await runPipeline(spark, {
        input: pathToFileURL(from).href,
        output: pathToFileURL(join(work, to)).href,
        reduction: { k: kk },
        keepFeatures: false,
        extensions: ["jpg"],
        mode: "overwrite",
        sidecar: sidecar.address,
        sidecarSecretFile: sidecar.secretFile,
      });
      return (performance.now() - t0) / 1000;
    };
    console.log("trial  variant   start s  warm-up s  fresh run s  warm run s  fresh/warm  load1m");
    const ratios = new Map<string, number[]>();
    const warmUps: number[] = [];
    const fresh = async () => {
      const server = await startLocalSpark({ port: await freePort(), logDir: join(work, "logs") });
      const spark = localSession(server);
      return { server, spark, stop: () => spark.stop().then(server.stop, server.stop) };
    };
    // The sidecar's own first batches (its ONNX sessions) are paid once, before any trial.
    const first = await fresh();
    await run(first.spark, tiny, "sidecar-warm", 2).finally(first.stop);
    for (let t = 0; t < trials; t++) {
      for (const variant of t % 2 === 0 ? ["none", "warm-up"] : ["warm-up", "none"]) {
        const load = loadavg()[0] ?? 0;
        const { server, spark, stop } = await fresh();
        try {
          let warmUp = 0;
          if (variant === "warm-up") {
            warmUp = await run(spark, tiny, "warm-up", 2);
            warmUps.push(warmUp);
          }
          const freshRun = await run(spark, input, "fresh", k);
          const warmRun = await run(spark, input, "warm", k);
          ratios.set(variant, [...(ratios.get(variant) ?? []), freshRun / warmRun]);
          console.log(
            [
              String(t + 1).padEnd(6),
              variant.padEnd(8),
              (server.startupMs / 1000).toFixed(1).padStart(8),
              (variant === "warm-up" ? warmUp.toFixed(1) : "-").padStart(10),
              freshRun.toFixed(1).padStart(12),
              warmRun.toFixed(1).padStart(11),
              `${(freshRun / warmRun).toFixed(2)}x`.padStart(11),
              load.toFixed(1).padStart(7),
            ].join(" "),
          );
        } finally {
          await stop();
        }
      }
    }
    for (const [variant, rs] of ratios) {
      console.log(`${variant}: fresh/warm median ${median(rs).toFixed(2)}x over ${rs.length} trials`);
    }
    if (warmUps.length > 0) console.log(`warm-up (${warmImages} images): median ${median(warmUps).toFixed(1)} s`);
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
