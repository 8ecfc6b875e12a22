/**
 * INT8 vs FP32 benchmark: images/s per core of the catalog's `efficientnet-lite0-int8` against
 * `efficientnet-lite0`, in the same run, cases interleaved round after round (each keeps its best
 * round, so a busy neighbour hurts both alike):
 *   (m) the model alone at 1 thread: model.onnx on ready float32 224x224 tensors, and the production
 *       model-raw.onnx on ready 100x100 uint8 tensors (the sample set's size), batch 16 and 32;
 *   (a) the in-process loop, featurize(bytes) over sample images, one 1-thread session per core:
 *       the production path (model-raw.onnx) and model.onnx after sharp's resize (`rawMaxSide: 0`).
 * Prints INT8/FP32 for each pair; the target is >= 2x on (m).
 *
 *   npx tsx bench/model/int8-bench.ts [--images N] [--rounds N]
 * Needs `scripts/setup-model.sh efficientnet-lite0-int8` and scripts/setup-sample-data.sh.
 */
import { readdirSync, readFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { cacheRoot } from "../../scripts/lib/paths.ts";
import { type Featurizer, loadFeaturizer } from "../../udf-server/src/featurizer.ts";
import { preprocessSpec, readManifest } from "../../udf-server/src/model/manifest.ts";
import { type BatchInput, SessionPool } from "../../udf-server/src/model/onnx-session.ts";
import { decodeImage } from "../../udf-server/src/preprocess/decode.ts";
import { writeNchw } from "../../udf-server/src/preprocess/normalise.ts";
import { DEFAULT_LIMITS } from "../../udf-server/src/preprocess/spec.ts";
import { type Case, measureInterleaved } from "../lib/interleaved-cases.ts";

const { values } = parseArgs({ options: { images: { type: "string" }, rounds: { type: "string" } } });
const cores = availableParallelism();
const rounds = Number(values.rounds ?? 5);
const cache = cacheRoot();
const MODELS = ["efficientnet-lite0", "efficientnet-lite0-int8"] as const;

function sampleImages(limit: number): Uint8Array[] {
  const base = join(cache, "data", "fruits", "Training");
  const files = readdirSync(base)
    .flatMap((c) => readdirSync(join(base, c)).map((f) => join(base, c, f)))
    .sort();
  const step = Math.max(1, Math.floor(files.length / limit));
  return files
    .filter((_, i) => i % step === 0)
    .slice(0, limit)
    .map((f) => readFileSync(f));
}

async function main(): Promise<void> {
  const images = sampleImages(Number(values.images ?? 256));
  console.log(
    `INT8 bench: ${images.length} sample images (100x100 JPEG), ${cores} cores, best of ${rounds} interleaved rounds; ` +
      `load average ${loadavg()[0]?.toFixed(2)} at start`,
  );
  const spec = preprocessSpec(await readManifest(join(cache, "models", MODELS[0], "manifest.json")));
  const [h, w] = spec.size;
  const decoded = await Promise.all(images.slice(0, 32).map((b) => decodeImage(b, spec, DEFAULT_LIMITS)));
  const raw100 = await Promise.all(images.slice(0, 32).map((b) => decodeImage(b, spec, DEFAULT_LIMITS, 512)));
  const inputs = (graph: "model.onnx" | "model-raw.onnx", batch: number): BatchInput => {
    if (graph === "model-raw.onnx") {
      const data = new Uint8Array(batch * 100 * 100 * 3);
      for (let k = 0; k < batch; k++) data.set(raw100[k % raw100.length]?.pixels as Uint8Array, k * 100 * 100 * 3);
      return { data, dims: [batch, 100, 100, 3] };
    }
    const data = new Float32Array(batch * 3 * h * w);
    for (let k = 0; k < batch; k++)
      writeNchw(decoded[k % 32]?.pixels as Uint8Array, data, k, h * w, spec.mean, spec.std);
    return { data, dims: [batch, 3, h, w] };
  };

  const pools: SessionPool[] = [];
  const mCases = new Map<string, Case>();
  for (const graph of ["model.onnx", "model-raw.onnx"] as const) {
    for (const batch of [16, 32]) {
      for (const model of MODELS) {
        const pool = await SessionPool.open({
          onnxPath: join(cache, "models", model, graph),
          inputName: "input",
          outputs: ["features"],
          sessions: 1,
          threadsPerSession: 1,
        });
        pools.push(pool);
        const input = inputs(graph, batch);
        const reps = Math.max(1, Math.round(64 / batch));
        mCases.set(`${graph}|${batch}|${model}`, {
          label: `${model} ${graph}, 1 session x 1 thread, batch ${batch}`,
          images: batch * reps,
          run: async () => {
            for (let r = 0; r < reps; r++) await pool.run(input, batch);
          },
        });
      }
    }
  }
  const featurizers: Featurizer[] = [];
  const aCases = new Map<string, Case>();
  // The production path (the raw graph), and for each model its model.onnx after sharp's resize.
  for (const [model, rawMaxSide] of MODELS.flatMap((m) => [[m, 512] as const, [m, 0] as const])) {
    const f = await loadFeaturizer({ model, cacheDir: cache, threads: cores, sessions: cores, rawMaxSide });
    featurizers.push(f);
    aCases.set(`${model}|${rawMaxSide}`, {
      label: `${model}, ${rawMaxSide ? "model-raw.onnx" : "sharp resize + model.onnx"}, ${cores}x1 thread, batch 32`,
      images: images.length,
      run: async () => {
        for (let i = 0; i < images.length; i += 32) await f.featurize(images.slice(i, i + 32));
      },
    });
  }
  await measureInterleaved([...mCases.values(), ...aCases.values()], rounds);

  const fmt = (v: number) => v.toFixed(1).padStart(7);
  const ratios: number[] = [];
  console.log("\n(m) model alone on ready tensors, 1 thread (img/s = img/s per core)");
  for (const [key, c] of mCases) {
    const ratio = key.endsWith(MODELS[1])
      ? (c.best ?? 0) / (mCases.get(key.replace(MODELS[1], MODELS[0]))?.best ?? 1)
      : 0;
    if (ratio) ratios.push(ratio);
    console.log(`  ${c.label.padEnd(68)} ${fmt(c.best ?? 0)} img/s${ratio ? `  INT8/FP32 ${ratio.toFixed(2)}x` : ""}`);
  }
  console.log("\n(a) featurize(bytes) over the sample images");
  for (const c of aCases.values()) {
    console.log(`  ${c.label.padEnd(68)} ${fmt(c.best ?? 0)} img/s (${fmt((c.best ?? 0) / cores)} /core)`);
  }
  for (const rawMaxSide of [512, 0]) {
    const [fp32, int8] = MODELS.map((m) => aCases.get(`${m}|${rawMaxSide}`)?.best ?? 0);
    console.log(`  INT8/FP32 ${rawMaxSide ? "raw graph" : "sharp resize"}: ${((int8 ?? 0) / (fp32 ?? 1)).toFixed(2)}x`);
  }
  const worst = Math.min(...ratios);
  console.log(
    `\nmodel alone INT8/FP32 per core: ${worst.toFixed(2)}x-${Math.max(...ratios).toFixed(2)}x ` +
      `(target >= 2x: ${worst >= 2 ? "met" : "NOT met"} in every case); load average at the end: ${loadavg()[0]?.toFixed(2)}`,
  );
  await Promise.all(featurizers.map((f) => f.close()));
  await Promise.all(pools.map((p) => p.close()));
}

await main();
