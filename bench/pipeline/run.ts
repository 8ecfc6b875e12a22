/**
 * Pipeline benchmark (issues 4 and 14): orchard end to end through Spark (`local[2]`) + bridge +
 * sidecar at 1x, 4x and 16x a base set (by default the sample set's 1188 Training images; copies
 * under new names above 1x), to see whether the cost per image stays flat. Per scale it prints
 * images, wall time (the whole runPipeline call: run.json's wallMs leaves out the report and the
 * publish), images/s, the cost per image (core-seconds = wall x cores / images, and the
 * CPU-seconds our processes used per image: Spark JVM + the bridges it reaped + sidecar + this
 * driver, from /proc), the PCA fit's share of the wall time, the peak RSS of the sidecar, the
 * driver and the JVM (sampled every 500 ms), and each cost against the first scale's.
 *
 * The first scale runs 1 + `--repeat` times: its first run is on the freshly started server (it
 * pays the JVM's one-time warm-up: class loading, JIT, ML code), the others are warm; the first
 * scale's cost is the warm runs' median, and the fresh run's wall against the warm median is
 * printed (issue 14's goal: <= 1.25). The raw in-process decode + ONNX loop (bench/pipeline/raw-loop.ts,
 * a child process, so it counts in neither the driver's RSS nor its CPU) is measured right before
 * every run on the base set, and each run's e2e/raw is against that figure (this machine's speed
 * drifts by 10-20% within minutes).
 *
 *   npx tsx bench/pipeline/run.ts [--base 1188] [--scales 1,4,16] [--repeat 2] [--k 50] [--partitions N]
 *                                 [--out FILE | --out ""]
 *
 * It writes the figures to `--out` (default `$ORCHARD_CACHE/bench/pipeline.json`, which `orchard
 * estimate` reads when present; `--out emr/throughput.json` refreshes the committed default; `""`
 * writes nothing). The schema is in bench/README.md ("The figure file").
 *
 * Uses SPARK_REMOTE / ORCHARD_SIDECAR when given (then without their CPU and RSS), else starts
 * both on free loopback ports (and stops them). Needs `npm run setup`. Prints figures; asserts nothing.
 */
import { fork } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { cacheRoot } from "../../scripts/lib/paths.ts";
import { freePort } from "../../src/cli/local/ports.ts";
import { startLocalSpark } from "../../src/cli/local/spark-server.ts";
import { SparkSession } from "../../src/connect/spark-session.ts";
import { runPipeline } from "../../src/pipeline/run-pipeline.ts";
import { startSidecar } from "../../udf-server/src/manage/start-sidecar.ts";
import { localSession } from "../lib/local-session.ts";
import { javaPid, processCpu, sampleRssPeaks } from "../lib/proc-stats.ts";
import { type BaseImage, baseImages, copiesDataset } from "../lib/sample-set.ts";

const { values } = parseArgs({
  options: {
    base: { type: "string" },
    scales: { type: "string" },
    k: { type: "string" },
    partitions: { type: "string" },
    repeat: { type: "string" },
    out: { type: "string" },
  },
});
const out = values.out ?? join(cacheRoot(), "bench", "pipeline.json");
const baseCount = Number(values.base ?? 1188);
const scales = (values.scales ?? "1,4,16").split(",").map(Number);
const k = Number(values.k ?? 50);
const partitions = values.partitions ? Number(values.partitions) : undefined;
const repeat = Number(values.repeat ?? 2);
const cores = availableParallelism();
const work = mkdtempSync(join(tmpdir(), "orchard-bench-pipeline-"));

/** A folder with `copies` copies of every base image, one folder per class. */
const dataset = (images: BaseImage[], copies: number) => copiesDataset(images, copies, join(work, `x${copies}`));

/** The raw loop's child process: `rate()` is one pass over the base set, in images/s. */
async function rawLoop(images: BaseImage[]) {
  const child = fork(join(import.meta.dirname, "raw-loop.ts"), { execArgv: ["--import", "tsx"] });
  const reply = () =>
    new Promise<{ rate?: number }>((resolve, reject) => {
      child.once("message", resolve);
      child.once("exit", (code) => reject(new Error(`raw loop exited (code ${code})`)));
    });
  const ready = reply();
  child.send({ files: images.map((i) => i.file) });
  await ready;
  return {
    async rate(): Promise<number> {
      const r = reply();
      child.send("rate");
      return (await r).rate ?? 0;
    },
    async close(): Promise<void> {
      const gone = new Promise((resolve) => child.once("exit", resolve));
      child.send("close");
      await gone;
    },
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const round = (x: number, digits = 3) => Number(x.toFixed(digits));

/** One run's figures. */
interface Run {
  label: string;
  scale: number;
  fresh: boolean;
  images: number;
  /** The runPipeline call, start to end (report and publish included). */
  wallSeconds: number;
  /** run.json's wallMs: up to the write, without the report and the publish. */
  pipelineWallSeconds: number;
  imagesPerSecond: number;
  featuresImagesPerSecond: number;
  rawModelImagesPerSecond: number;
  coreSecondsPerImage: number;
  /** null when the server or sidecar was given (their CPU is not ours to read). */
  cpuSecondsPerImage: number | null;
  pcaShare: number;
  /** Each step's wall milliseconds (list, features, pca, write, report). */
  stepsMs: Record<string, number>;
  peakRssMb: { sidecar: number | null; driver: number; jvm: number | null };
  loadAverage1m: number;
}

async function main(): Promise<void> {
  const stops: Array<() => Promise<void>> = [];
  try {
    let spark: SparkSession;
    let jvm: number | undefined;
    let sparkLabel = `local[2] (${cores} cores)`;
    if (process.env.SPARK_REMOTE) {
      spark = SparkSession.builder.remote(process.env.SPARK_REMOTE).getOrCreate();
      sparkLabel = "SPARK_REMOTE (given)";
    } else {
      // Warmed up as `orchard spark start` does (in the background there; here before the runs).
      const server = await startLocalSpark({ port: await freePort(), logDir: join(work, "logs"), warmUp: true });
      stops.push(server.stop);
      sparkLabel += `, warmed up in ${((server.warmUpMs ?? 0) / 1000).toFixed(1)} s`;
      jvm = javaPid(server.pid);
      spark = localSession(server);
    }
    stops.push(() => spark.stop());
    let sidecar = process.env.ORCHARD_SIDECAR;
    let sidecarSecretFile = process.env.ORCHARD_SIDECAR_SECRET_FILE || undefined;
    let sidecarPid: number | undefined;
    if (!sidecar) {
      const handle = await startSidecar({ port: await freePort(), logFile: join(work, "sidecar.log") });
      stops.push(() => handle.stop());
      sidecar = handle.address;
      sidecarSecretFile = handle.secretFile;
      sidecarPid = handle.pid;
    }
    const images = baseImages(baseCount);
    console.log(`base set: ${images.length} images; scales ${scales.join(", ")}; k=${k}; ${sparkLabel}`);
    const raw = await rawLoop(images);
    stops.push(raw.close);

    const first = scales[0] ?? 1;
    const plan = [{ scale: first, label: `${first}x fresh`, fresh: true }]
      .concat(Array.from({ length: repeat }, () => ({ scale: first, label: `${first}x warm`, fresh: false })))
      .concat(scales.slice(1).map((scale) => ({ scale, label: `${scale}x`, fresh: false })));
    const runs: Run[] = [];
    console.log(
      "\nrun        images  wall s  img/s  core-s/img  cpu-s/img  pca share  e2e/raw  RSS MB sidecar/driver/JVM  load1m",
    );
    for (const { scale, label, fresh } of plan) {
      const input = dataset(images, scale);
      // The baseline right before each run: on a shared machine the speed drifts within minutes.
      const rawRate = await raw.rate();
      const loadAverage1m = loadavg()[0] ?? 0;
      const rss = sampleRssPeaks({ sidecar: () => sidecarPid, driver: () => process.pid, jvm: () => jvm });
      const cpu0 = ourCpu(jvm, sidecarPid);
      const t0 = performance.now();
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
      // The call's whole time: run.json's wallMs stops before the report step and the publish.
      const wall = (performance.now() - t0) / 1000;
      const cpu = ourCpu(jvm, sidecarPid) - cpu0;
      const peaks = rss.stop();
      const n = s.counts.filesIn;
      const run: Run = {
        label,
        scale,
        fresh,
        images: n,
        wallSeconds: round(wall),
        pipelineWallSeconds: round(s.wallMs / 1000),
        imagesPerSecond: round(n / wall, 2),
        featuresImagesPerSecond: round(n / ((s.timingsMs.features ?? 0) / 1000), 2),
        rawModelImagesPerSecond: round(rawRate, 2),
        coreSecondsPerImage: round((wall * cores) / n, 4),
        cpuSecondsPerImage: jvm && sidecarPid ? round(cpu / n, 4) : null,
        pcaShare: round((s.timingsMs.pca ?? 0) / 1000 / wall, 4),
        stepsMs: { ...s.timingsMs },
        peakRssMb: {
          sidecar: sidecarPid ? Math.round(peaks.sidecar) : null,
          driver: Math.round(peaks.driver),
          jvm: jvm ? Math.round(peaks.jvm) : null,
        },
        loadAverage1m: round(loadAverage1m, 2),
      };
      runs.push(run);
      console.log(
        [
          label.padEnd(9),
          String(n).padStart(7),
          wall.toFixed(1).padStart(7),
          run.imagesPerSecond.toFixed(1).padStart(6),
          run.coreSecondsPerImage.toFixed(4).padStart(11),
          (run.cpuSecondsPerImage?.toFixed(4) ?? "-").padStart(10),
          `${(100 * run.pcaShare).toFixed(1)}%`.padStart(10),
          (run.imagesPerSecond / rawRate).toFixed(2).padStart(8),
          [run.peakRssMb.sidecar ?? "-", run.peakRssMb.driver, run.peakRssMb.jvm ?? "-"].join("/").padStart(26),
          loadAverage1m.toFixed(1).padStart(7),
        ].join(" "),
      );
      rmSync(input, { recursive: true, force: true });
    }

    const perScale = summarize(runs);
    console.log(
      "\nscale  images  core-s/img  vs 1st scale  cpu-s/img  vs 1st scale  pca share  peak RSS MB sidecar/driver/JVM",
    );
    for (const p of perScale) {
      console.log(
        [
          `${p.scale}x`.padEnd(5),
          String(p.images).padStart(7),
          p.coreSecondsPerImage.toFixed(4).padStart(11),
          `${p.coreCostRatio.toFixed(2)}x`.padStart(13),
          (p.cpuSecondsPerImage?.toFixed(4) ?? "-").padStart(10),
          (p.cpuCostRatio === null ? "-" : `${p.cpuCostRatio.toFixed(2)}x`).padStart(13),
          `${(100 * p.pcaShare).toFixed(1)}%`.padStart(10),
          [p.peakRssMb.sidecar ?? "-", p.peakRssMb.driver, p.peakRssMb.jvm ?? "-"].join("/").padStart(32),
        ].join(" "),
      );
    }
    const freshRun = runs.find((r) => r.fresh);
    const warmWalls = runs.filter((r) => r.scale === first && !r.fresh).map((r) => r.wallSeconds);
    const firstRun =
      freshRun && warmWalls.length > 0
        ? {
            scale: first,
            freshWallSeconds: freshRun.wallSeconds,
            warmMedianWallSeconds: round(median(warmWalls)),
            ratio: round(freshRun.wallSeconds / median(warmWalls)),
          }
        : null;
    if (firstRun) {
      console.log(
        `\nfirst run on the fresh server: ${firstRun.freshWallSeconds.toFixed(1)} s against ${firstRun.warmMedianWallSeconds.toFixed(1)} s warm (median of ${warmWalls.length}): ${firstRun.ratio.toFixed(2)}x`,
      );
    }

    const largest = runs[runs.length - 1];
    if (out && largest) {
      const perCore = (x: number) => round(x / cores, 2);
      const figures = {
        format: "orchard-throughput/1",
        measured: new Date().toISOString(),
        source: "bench/pipeline/run.ts",
        note: "imagesPerSecondPerCore: the largest scale's run, Spark local[N] + bridge + sidecar on one machine, all cores shared",
        machine: {
          cores,
          cpu: cpus()[0]?.model ?? "?",
          memoryGiB: round(totalmem() / 2 ** 30, 1),
          loadAverage1m: largest.loadAverage1m,
        },
        spark: sparkLabel,
        model: "efficientnet-lite0",
        k,
        imagesPerSecondPerCore: {
          endToEnd: perCore(largest.imagesPerSecond),
          features: perCore(largest.featuresImagesPerSecond),
          rawModel: perCore(largest.rawModelImagesPerSecond),
          // What a core does when our processes get all of it: images per CPU-second they used.
          ...(largest.cpuSecondsPerImage ? { cpuBound: round(1 / largest.cpuSecondsPerImage, 2) } : {}),
        },
        scales: perScale,
        firstRun,
        runs,
      };
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, `${JSON.stringify(figures, null, 2)}\n`);
      console.log(`\nwrote ${out}: ${figures.imagesPerSecondPerCore.endToEnd} images/s per core end to end`);
    }
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  }
}

/** CPU seconds so far of the Spark JVM (with the bridges it reaped), the sidecar and this driver. */
function ourCpu(jvm: number | undefined, sidecar: number | undefined): number {
  const j = jvm ? processCpu(jvm) : { self: 0, children: 0 };
  const { user, system } = process.cpuUsage();
  return j.self + j.children + (sidecar ? processCpu(sidecar).self : 0) + (user + system) / 1e6;
}

/** Per scale: the first scale's warm runs' medians (its fresh run left out), the others' one run; costs against the first scale's. */
function summarize(runs: Run[]) {
  const byScale = [...new Set(runs.map((r) => r.scale))].map((scale) => {
    const all = runs.filter((r) => r.scale === scale);
    const warm = all.filter((r) => !r.fresh);
    const rs = warm.length > 0 ? warm : all;
    const of = (f: (r: Run) => number) => median(rs.map(f));
    const cpu = rs.every((r) => r.cpuSecondsPerImage !== null) ? of((r) => r.cpuSecondsPerImage as number) : null;
    const peak = (f: (r: Run) => number | null) =>
      rs.every((r) => f(r) !== null) ? Math.max(...rs.map((r) => f(r) as number)) : null;
    return {
      scale,
      images: rs[0]?.images ?? 0,
      runs: rs.length,
      imagesPerSecond: round(
        of((r) => r.imagesPerSecond),
        2,
      ),
      coreSecondsPerImage: round(
        of((r) => r.coreSecondsPerImage),
        4,
      ),
      cpuSecondsPerImage: cpu === null ? null : round(cpu, 4),
      pcaShare: round(
        of((r) => r.pcaShare),
        4,
      ),
      peakRssMb: {
        sidecar: peak((r) => r.peakRssMb.sidecar),
        driver: Math.max(...rs.map((r) => r.peakRssMb.driver)),
        jvm: peak((r) => r.peakRssMb.jvm),
      },
    };
  });
  const base = byScale[0];
  return byScale.map((p) => ({
    ...p,
    coreCostRatio: round(p.coreSecondsPerImage / (base?.coreSecondsPerImage ?? p.coreSecondsPerImage)),
    cpuCostRatio:
      p.cpuSecondsPerImage === null || !base?.cpuSecondsPerImage
        ? null
        : round(p.cpuSecondsPerImage / base.cpuSecondsPerImage),
  }));
}

await main();
