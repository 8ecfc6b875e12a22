/**
 * Pipeline benchmark (issue 4): images/s end to end through Spark (`local[2]`) + bridge + sidecar,
 * against the raw in-process decode + ONNX loop on the same images and model, measured in the same
 * run; the PCA fit's share of the wall time; and the same at 1x, 4x and 16x a base set (by default
 * the sample set's 1188 Training images; copies under new names above 1x), to see whether the time
 * per image stays flat. The first scale runs 1 + `--repeat` times (median printed): on a fresh Spark
 * server the first run also pays the JVM's one-time warm-up (class loading, JIT, ML code), which a
 * long-running server pays once. The raw loop is measured again right before every run, and each
 * run's ratios are against that figure (this machine's speed drifts by 10-20% within minutes).
 *
 *   npx tsx bench/pipeline/run.ts [--base 1188] [--scales 1,4,16] [--repeat 3] [--k 50] [--partitions N]
 *                                 [--throughput-out emr/throughput.json | --throughput-out ""]
 *
 * It writes the images/s per core it measured to `--throughput-out` (default emr/throughput.json,
 * which `orchard estimate` reads): end to end and features alone, from the last (largest) scale's
 * run, divided by this machine's cores, with every run's figures and the machine's load beside them.
 *
 * Uses SPARK_REMOTE / ORCHARD_SIDECAR when given, else starts both on free loopback ports (and
 * stops them). Needs `npm run setup` (Spark, model, sample data). Prints figures; asserts nothing.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { freePort } from "../../src/cli/local/ports.ts";
import { startLocalSpark } from "../../src/cli/local/spark-server.ts";
import { readTokenFile } from "../../src/cli/local/token-file.ts";
import { redactUrl } from "../../src/connect/connection-url.ts";
import { SparkSession } from "../../src/connect/spark-session.ts";
import { runPipeline } from "../../src/pipeline/run-pipeline.ts";
import { loadFeaturizer } from "../../udf-server/src/featurizer.ts";
import { startSidecar } from "../../udf-server/src/manage/start-sidecar.ts";
import { type BaseImage, baseImages, copiesDataset } from "../lib/sample-set.ts";

const { values } = parseArgs({
  options: {
    base: { type: "string" },
    scales: { type: "string" },
    k: { type: "string" },
    partitions: { type: "string" },
    repeat: { type: "string" },
    "throughput-out": { type: "string" },
  },
});
const throughputOut = values["throughput-out"] ?? join(import.meta.dirname, "..", "..", "emr", "throughput.json");
const baseCount = Number(values.base ?? 1188);
const scales = (values.scales ?? "1,4,16").split(",").map(Number);
const k = Number(values.k ?? 50);
const partitions = values.partitions ? Number(values.partitions) : undefined;
const repeat = Number(values.repeat ?? 3);
const work = mkdtempSync(join(tmpdir(), "orchard-bench-pipeline-"));

/** A folder with `copies` copies of every base image, one folder per class. */
const dataset = (images: BaseImage[], copies: number) => copiesDataset(images, copies, join(work, `x${copies}`));

/** The raw in-process loop over `images`, measured by `rate()` (one pass; a warm-up pass first). */
async function rawLoop(images: Array<{ file: string }>) {
  const featurizer = await loadFeaturizer({ model: "efficientnet-lite0" });
  const bytes = images.map((i) => new Uint8Array(readFileSync(i.file)));
  await featurizer.featurize(bytes.slice(0, 32));
  return {
    async rate(): Promise<number> {
      const t0 = performance.now();
      for (let i = 0; i < bytes.length; i += 32) await featurizer.featurize(bytes.slice(i, i + 32));
      return bytes.length / ((performance.now() - t0) / 1000);
    },
    close: () => featurizer.close(),
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function main(): Promise<void> {
  const stops: Array<() => Promise<void>> = [];
  try {
    let remote = process.env.SPARK_REMOTE;
    if (!remote) {
      const spark = await startLocalSpark({ port: await freePort(), logDir: join(work, "logs") });
      stops.push(spark.stop);
      // It requires the random token it got (in a 0600 file); this process's client sends it.
      remote = `${spark.remote}/;token=${readTokenFile(spark.tokenFile as string, "the bench server's token file")}`;
    }
    let sidecar = process.env.ORCHARD_SIDECAR;
    let sidecarSecretFile = process.env.ORCHARD_SIDECAR_SECRET_FILE || undefined;
    if (!sidecar) {
      const handle = await startSidecar({ port: await freePort(), logFile: join(work, "sidecar.log") });
      stops.push(() => handle.stop());
      sidecar = handle.address;
      sidecarSecretFile = handle.secretFile;
    }
    const images = baseImages(baseCount);
    console.log(
      `base set: ${images.length} images; scales ${scales.join(", ")}; k=${k}; Spark ${redactUrl(remote)}; sidecar ${sidecar}`,
    );
    const raw = await rawLoop(images);
    stops.push(raw.close);

    const spark = SparkSession.builder.remote(remote).getOrCreate();
    console.log(
      "\nscale  images   wall s  list s  features s  pca s  write s  report s  e2e img/s  raw img/s  ms/img  e2e/raw  features/raw  pca share",
    );
    const first = scales[0] ?? 1;
    const runs = [{ scale: first, label: `${first}x 1st` }]
      .concat(Array.from({ length: repeat }, () => ({ scale: first, label: `${first}x` })))
      .concat(scales.slice(1).map((scale) => ({ scale, label: `${scale}x` })));
    const warm: Array<{ e2e: number; features: number; pca: number }> = [];
    const measured: Array<Record<string, number | string>> = [];
    for (const [i, { scale, label }] of runs.entries()) {
      const input = dataset(images, scale);
      // The baseline is measured right before each run: on a shared machine the speed drifts by
      // 10-20% within minutes, and a ratio is only fair against the same minutes.
      const rawRate = await raw.rate();
      const s = await runPipeline(spark, {
        input: pathToFileURL(input).href,
        output: pathToFileURL(join(work, `out-x${scale}`)).href,
        reduction: { k },
        keepFeatures: false,
        extensions: ["jpg"],
        mode: "overwrite",
        partitions,
        sidecar,
        ...(sidecarSecretFile === undefined ? {} : { sidecarSecretFile }),
      });
      const n = s.counts.filesIn;
      const features = (s.timingsMs.features ?? 0) / 1000;
      const e2e = n / (s.wallMs / 1000);
      const ratios = { e2e: e2e / rawRate, features: n / features / rawRate, pca: (s.timingsMs.pca ?? 0) / s.wallMs };
      if (i > 0 && i <= repeat) warm.push(ratios);
      measured.push({
        run: label,
        images: n,
        wallSeconds: s.wallMs / 1000,
        endToEndImagesPerSecond: e2e,
        featuresImagesPerSecond: n / features,
        rawModelImagesPerSecond: rawRate,
      });
      console.log(
        [
          label.padEnd(6),
          String(n).padStart(6),
          (s.wallMs / 1000).toFixed(1).padStart(8),
          ((s.timingsMs.list ?? 0) / 1000).toFixed(1).padStart(7),
          features.toFixed(1).padStart(11),
          ((s.timingsMs.pca ?? 0) / 1000).toFixed(1).padStart(6),
          ((s.timingsMs.write ?? 0) / 1000).toFixed(1).padStart(8),
          ((s.timingsMs.report ?? 0) / 1000).toFixed(1).padStart(9),
          e2e.toFixed(1).padStart(10),
          rawRate.toFixed(1).padStart(10),
          ((1000 * s.wallMs) / 1000 / n).toFixed(1).padStart(7),
          ratios.e2e.toFixed(2).padStart(8),
          ratios.features.toFixed(2).padStart(13),
          `${(100 * ratios.pca).toFixed(1)}%`.padStart(10),
        ].join(" "),
      );
      rmSync(input, { recursive: true, force: true });
    }
    if (warm.length > 0) {
      console.log(
        `\n${first}x warm, median of ${warm.length}: e2e/raw ${median(warm.map((w) => w.e2e)).toFixed(2)}, ` +
          `features/raw ${median(warm.map((w) => w.features)).toFixed(2)}, ` +
          `pca share ${(100 * median(warm.map((w) => w.pca))).toFixed(1)}%`,
      );
    }
    const last = measured[measured.length - 1];
    if (throughputOut && last) {
      const cores = availableParallelism();
      const perCore = (x: unknown) => Number((Number(x) / cores).toFixed(2));
      const record = {
        format: "orchard-throughput/1",
        measured: new Date().toISOString(),
        source: "bench/pipeline/run.ts",
        note: "images/s per core of the last (largest) run: Spark local[N] + bridge + sidecar on one machine, all cores shared",
        machine: { cores, cpu: cpus()[0]?.model ?? "?", loadAverage1m: Number(loadavg()[0]?.toFixed(2)) },
        spark: process.env.SPARK_REMOTE ? "SPARK_REMOTE (given)" : "local[2]",
        model: "efficientnet-lite0",
        k,
        imagesPerSecondPerCore: {
          endToEnd: perCore(last.endToEndImagesPerSecond),
          features: perCore(last.featuresImagesPerSecond),
          rawModel: perCore(last.rawModelImagesPerSecond),
        },
        runs: measured,
      };
      writeFileSync(throughputOut, `${JSON.stringify(record, null, 2)}\n`);
      console.log(`\nwrote ${throughputOut}: ${record.imagesPerSecondPerCore.endToEnd} images/s per core end to end`);
    }
    await spark.stop();
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
