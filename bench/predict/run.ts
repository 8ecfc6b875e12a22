/**
 * bench/predict: the warm latency of `Classifier.predict()` — the mobile app's case, a photo (or a
 * handful) of local files to a fruit name — once the session, the loaded classifier and the sidecar
 * are warm; beside it, the round trip of a trivial query (`SELECT 1`) on the same session, the floor
 * any Spark Connect call pays, measured in the same rounds.
 *
 *   npx tsx bench/predict/run.ts [--remote sc://...] [--sidecar host:port] [--model MODEL_DIR] [--reps 15]
 *
 * Without `--remote` / `--sidecar` it starts its own Spark Connect server (local[2]) and sidecar on
 * free loopback ports and stops them at the end. Without `--model` it first makes one from the
 * sample set (`orchard run --sample 6` on Training/, then `orchard train`), in a temporary folder.
 * Rounds interleave the measurements so they see the same load; medians and the best are reported
 * with the load average. Not part of `npm test`.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { cacheRoot } from "../../scripts/lib/paths.ts";
import { freePort } from "../../src/cli/local/ports.ts";
import { type LocalSpark, startLocalSpark } from "../../src/cli/local/spark-server.ts";
import { SparkSession } from "../../src/connect/spark-session.ts";
import { Classifier } from "../../src/pipeline/classifier.ts";
import { DEFAULT_EXTENSIONS } from "../../src/pipeline/pipeline-options.ts";
import { trainClassifier } from "../../src/pipeline/train.ts";
import { type SidecarHandle, startSidecar } from "../../udf-server/src/manage/start-sidecar.ts";
import { localSession } from "../lib/local-session.ts";

const repo = resolve(import.meta.dirname, "..", "..");
const { values } = parseArgs({
  options: {
    remote: { type: "string", default: process.env.SPARK_REMOTE },
    sidecar: { type: "string", default: process.env.ORCHARD_SIDECAR },
    model: { type: "string" },
    reps: { type: "string", default: "15" },
  },
});
const reps = Number(values.reps);
const logDir = join(repo, "test-artifacts", "logs");
const work = mkdtempSync(join(tmpdir(), "orchard-bench-predict-"));
let server: LocalSpark | undefined;
let sidecarHandle: SidecarHandle | undefined;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const best = (xs: number[]) => Math.min(...xs);
const ms = (x: number) => `${x.toFixed(0)} ms`;

try {
  if (values.remote === undefined) {
    server = await startLocalSpark({ port: await freePort(), master: "local[2]", logDir });
    console.log(`started ${server.remote} (pid ${server.pid}, ${(server.startupMs / 1000).toFixed(1)} s)`);
  }
  if (values.sidecar === undefined) {
    sidecarHandle = await startSidecar({ port: await freePort(), logFile: join(logDir, "bench-predict-sidecar.log") });
    console.log(`started the sidecar ${sidecarHandle.address} (pid ${sidecarHandle.pid})`);
  }
  const remote = values.remote ?? (server as LocalSpark).remote;
  const sidecar = values.sidecar ?? (sidecarHandle as SidecarHandle).address;
  // A server started here requires its token; a given --remote carries its own.
  const spark = server ? localSession(server) : SparkSession.builder.remote(remote).getOrCreate();
  const secretFile = sidecarHandle?.secretFile ?? process.env.ORCHARD_SIDECAR_SECRET_FILE;
  const fruits = join(cacheRoot(), "data", "fruits");
  let model = values.model ? pathToFileURL(resolve(values.model)).href : undefined;
  if (model === undefined) {
    model = pathToFileURL(join(work, "model")).href;
    const t0 = performance.now();
    await trainClassifier(spark, {
      input: pathToFileURL(join(fruits, "Training")).href,
      output: model,
      split: { kind: "stratified", testFraction: 0.2, seed: 1 },
      mode: "overwrite",
      featurize: {
        reduction: { k: 64 },
        keepFeatures: false,
        samplePerClass: 6,
        extensions: DEFAULT_EXTENSIONS,
        sidecar,
        ...(secretFile ? { sidecarSecretFile: secretFile } : {}),
      },
    });
    console.log(`trained a classifier on 6 images per class in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  const photos = ["kiwi", "pear", "banana", "tomato", "lemon"].map((c) => {
    const dir = join(fruits, "Test", c);
    return join(dir, readdirSync(dir).sort()[0] as string);
  });
  // Both places predict() can featurize, measured in the same rounds: through Spark's executors
  // (TRANSFORM, a bridge per query) and in this process straight from the sidecar.
  const places = ["executors", "driver"] as const;
  const classifiers = new Map<(typeof places)[number], Classifier>();
  for (const featurizeOn of places) {
    if (featurizeOn === "driver" && !secretFile) {
      console.log("no sidecar secret file: the driver side is not measured");
      continue;
    }
    const t0 = performance.now();
    const classifier = await Classifier.load(spark, model, {
      sidecar,
      ...(secretFile ? { secretFile } : {}),
      featurizeOn,
    });
    const loadMs = performance.now() - t0;
    const t1 = performance.now();
    const first = await classifier.predict([photos[0] as string]);
    console.log(
      `[${featurizeOn}] classifier loaded in ${ms(loadMs)}; first predict ${ms(performance.now() - t1)}: ${first[0]?.label} (${first[0]?.probability?.toFixed(3)})`,
    );
    classifiers.set(featurizeOn, classifier);
  }

  const one = new Map<string, number[]>();
  const five = new Map<string, number[]>();
  const floor: number[] = [];
  const loads: number[] = [];
  for (let r = 0; r < reps; r++) {
    loads.push(loadavg()[0] as number);
    let t = performance.now();
    await spark.sql("SELECT 1").collect();
    floor.push(performance.now() - t);
    // Alternate which side goes first, so neither always runs right after the other.
    const order = r % 2 === 0 ? [...classifiers] : [...classifiers].reverse();
    for (const [place, classifier] of order) {
      t = performance.now();
      const [p] = await classifier.predict([photos[r % photos.length] as string]);
      one.set(place, [...(one.get(place) ?? []), performance.now() - t]);
      if (p?.error) throw new Error(`predict failed: ${p.error}`);
      t = performance.now();
      await classifier.predict(photos);
      five.set(place, [...(five.get(place) ?? []), performance.now() - t]);
    }
  }
  console.log(
    `\n${reps} warm rounds, load average ${median(loads).toFixed(1)} (1-min, median) on ${(await import("node:os")).cpus().length} cores`,
  );
  console.log(`  SELECT 1 round trip                 median ${ms(median(floor))}, best ${ms(best(floor))}`);
  for (const place of classifiers.keys()) {
    const o = one.get(place) ?? [];
    const f = five.get(place) ?? [];
    console.log(`  [${place}] predict(1 photo)`.padEnd(38) + `median ${ms(median(o))}, best ${ms(best(o))}`);
    console.log(`  [${place}] predict(5 photos)`.padEnd(38) + `median ${ms(median(f))}, best ${ms(best(f))}`);
    console.log(
      `  [${place}] predict(1) / SELECT 1`.padEnd(38) + `${(median(o) / median(floor)).toFixed(1)}x (medians)`,
    );
  }
  const [executors, driver] = [one.get("executors"), one.get("driver")];
  if (executors && driver)
    console.log(`  executors / driver, predict(1)      ${(median(executors) / median(driver)).toFixed(1)}x (medians)`);
  for (const classifier of classifiers.values()) await classifier.close();
  await spark.stop();
} finally {
  await sidecarHandle?.stop();
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
}
