/**
 * The INT8 catalog model (efficientnet-lite0-int8, statically quantized from efficientnet-lite0 by
 * scripts/setup-model.sh) keeps the FP32 model's quality: the same output schema, the same top-1
 * class for >= 90% of the reference photos, and 1-NN accuracy on the whole sample Test split
 * (Training as the reference) within 1 point of FP32. And `orchard run --model
 * efficientnet-lite0-int8` runs the pipeline end to end on a sidecar serving it. On an x86-64 CPU
 * without VNNI, where its int8 arithmetic saturates, it is refused by name; the quality and
 * pipeline tests need a CPU that runs it (they are skipped on one without VNNI, and say so).
 */
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { cacheRoot } from "../../scripts/lib/paths.ts";
import { SparkSession } from "../../src/connect/spark-session.ts";
import type { RunSummary } from "../../src/pipeline/run-summary.ts";
import { SetupError } from "../../udf-server/src/errors.ts";
import { type FeatureResult, type Featurizer, loadFeaturizer } from "../../udf-server/src/featurizer.ts";
import type { SidecarHandle } from "../../udf-server/src/manage/start-sidecar.ts";
import { cpuFacts, x86Vnni } from "../../udf-server/src/model/cpu-support.ts";
import { readManifest } from "../../udf-server/src/model/manifest.ts";
import { referencePhotos, topK } from "../support/reference-photos.ts";
import { cosine } from "../support/vectors.ts";
import { cliEnv } from "./helpers/cli-env.ts";
import { REPO_ROOT } from "./helpers/test-paths.ts";
import { startTestSidecar } from "./sidecar-support.ts";

const INT8 = "efficientnet-lite0-int8";
const FP32 = "efficientnet-lite0";
const cache = cacheRoot();
const fruits = join(cache, "data", "fruits");
const cpu = cpuFacts();
/** Whether this machine runs the INT8 model (x86-64 needs VNNI, see cpu-support.ts). */
const runsInt8 = cpu.arch !== "x64" || x86Vnni(cpu.cpuinfo) !== "no";
if (!runsInt8) console.log(`[${INT8}] this x86-64 CPU has no VNNI: the quality and pipeline tests are skipped here`);

/** Every image of a split of the sample set (all classes), with its class folder as label. */
function split(name: "Training" | "Test"): Array<{ label: string; bytes: Buffer }> {
  return readdirSync(join(fruits, name))
    .sort()
    .flatMap((label) =>
      readdirSync(join(fruits, name, label))
        .sort()
        .map((f) => ({ label, bytes: readFileSync(join(fruits, name, label, f)) })),
    );
}

/** 1-NN accuracy (cosine) of the Test features against the Training features. */
function oneNnAccuracy(
  train: Array<{ label: string }>,
  trainF: FeatureResult[],
  test: Array<{ label: string }>,
  testF: FeatureResult[],
): number {
  let right = 0;
  for (const [i, t] of test.entries()) {
    let best = -2;
    let label = "";
    for (const [j, r] of train.entries()) {
      const s = cosine(testF[i]?.features as Float32Array, trainF[j]?.features as Float32Array);
      if (s > best) [best, label] = [s, r.label];
    }
    if (label === t.label) right++;
  }
  return right / test.length;
}

beforeAll(() => {
  execFileSync("bash", [join(REPO_ROOT, "scripts", "setup-model.sh"), INT8], { stdio: "inherit" });
});

describe(`${INT8} on an x86-64 CPU without VNNI`, () => {
  it(`is refused by name, pointing to ${FP32}, before any session is made`, async () => {
    const avx2Only = "processor\t: 0\nmodel name\t: AMD EPYC 7B12\nflags\t\t: fpu sse2 avx avx2 fma\n";
    const load = loadFeaturizer({ model: INT8, cacheDir: cache, cpu: { arch: "x64", cpuinfo: avx2Only } });
    await expect(load).rejects.toBeInstanceOf(SetupError);
    await expect(load).rejects.toThrow(
      new RegExp(`^${INT8} needs an x86-64 CPU with VNNI .*use ${FP32}, the FP32 model`),
    );
  });
});

describe.runIf(runsInt8)(`${INT8} against ${FP32}`, () => {
  const models: Record<string, Featurizer> = {};

  beforeAll(async () => {
    for (const model of [FP32, INT8]) models[model] = await loadFeaturizer({ model, cacheDir: cache, logits: true });
  });

  afterAll(async () => {
    await Promise.all(Object.values(models).map((f) => f.close()));
  });

  it("is the FP32 model's graph quantized: same input, preprocessing and outputs, another file", async () => {
    const int8 = await readManifest(join(cache, "models", INT8, "manifest.json"));
    const fp32 = await readManifest(join(cache, "models", FP32, "manifest.json"));
    const { x86RequiresVnni, ...rest } = int8;
    expect(x86RequiresVnni).toBe(true);
    expect({ ...rest, name: FP32, sha256: fp32.sha256, raw: fp32.raw, source: fp32.source }).toEqual(fp32);
    expect(int8.sha256).not.toBe(fp32.sha256);
    expect(int8.source).toMatchObject({ quantizedFrom: { name: FP32, sha256: fp32.sha256 } });
    expect(models[INT8]?.info).toMatchObject({ name: INT8, inputSize: [224, 224], featureDim: 1280 });
  });

  it("gives the FP32 model's top-1 class for >= 90% of the reference photos", async () => {
    const photos = referencePhotos(cache).map((p) => readFileSync(p.file));
    const [a, b] = await Promise.all([FP32, INT8].map((m) => models[m]?.featurize(photos) as Promise<FeatureResult[]>));
    let agree = 0;
    for (const [i, r] of (b as FeatureResult[]).entries()) {
      expect(r.error).toBeNull();
      expect(r.features).toHaveLength(1280);
      expect(r.logits).toHaveLength(1000);
      if (topK(r.logits as Float32Array, 1)[0] === topK(a?.[i]?.logits as Float32Array, 1)[0]) agree++;
    }
    console.log(`[${INT8}] top-1 agreement with ${FP32} on the reference photos: ${agree}/${photos.length}`);
    expect(agree / photos.length).toBeGreaterThanOrEqual(0.9);
  });

  it("scores 1-NN on the sample Test split (Training as reference) within 1 point of FP32", async () => {
    const train = split("Training");
    const test = split("Test");
    const acc: Record<string, number> = {};
    const features: Record<string, FeatureResult[]> = {};
    for (const model of [FP32, INT8]) {
      const f = models[model] as Featurizer;
      const trainF = await f.featurize(train.map((t) => t.bytes));
      const testF = await f.featurize(test.map((t) => t.bytes));
      expect([...trainF, ...testF].filter((r) => r.error !== null)).toEqual([]);
      acc[model] = oneNnAccuracy(train, trainF, test, testF);
      features[model] = [...trainF, ...testF];
    }
    const cos = (features[INT8] as FeatureResult[]).map((r, i) =>
      cosine(r.features as Float32Array, features[FP32]?.[i]?.features as Float32Array),
    );
    console.log(
      `[${INT8}] 1-NN on ${test.length} Test images: ${FP32} ${((acc[FP32] ?? 0) * 100).toFixed(2)}%, ` +
        `${INT8} ${((acc[INT8] ?? 0) * 100).toFixed(2)}%; mean cosine to FP32 features over ${cos.length} images ` +
        `${(cos.reduce((s, v) => s + v, 0) / cos.length).toFixed(4)} (min ${Math.min(...cos).toFixed(4)})`,
    );
    expect(acc[INT8] as number).toBeGreaterThanOrEqual((acc[FP32] as number) - 0.01);
  });
});

describe.runIf(runsInt8)(`orchard run --model ${INT8}`, () => {
  let sidecar: SidecarHandle;
  const out = mkdtempSync(join(tmpdir(), "orchard-int8-"));
  const spark = SparkSession.builder.remote(inject("sparkRemote")).getOrCreate();

  beforeAll(async () => {
    sidecar = await startTestSidecar("int8", ["--model", INT8]);
  });

  afterAll(async () => {
    await sidecar?.stop();
    await spark.stop();
    rmSync(out, { recursive: true, force: true });
  });

  it("runs the pipeline on the INT8 model (one image per class), with the usual output schema", async () => {
    const output = join(out, "run");
    await promisify(execFile)(
      process.execPath,
      [
        join(REPO_ROOT, "bin", "orchard.mjs"),
        ...["run", "--input", join(fruits, "Test"), "--output", output, "--model", INT8],
        ...["--sample", "1", "--k", "5", "--keep-features", "--no-start", "--quiet"],
      ],
      {
        cwd: REPO_ROOT,
        timeout: 600_000,
        env: { ...cliEnv(), ORCHARD_SIDECAR: sidecar.address, ORCHARD_SIDECAR_SECRET_FILE: sidecar.secretFile },
      },
    );
    const summary = JSON.parse(readFileSync(join(output, "run.json"), "utf8")) as RunSummary;
    const manifest = await readManifest(join(cache, "models", INT8, "manifest.json"));
    expect(summary.model).toEqual({ name: INT8, sha256: manifest.sha256 });
    const rows = await spark.read.parquet(`file://${output}/data`).collect();
    expect(rows).toHaveLength(readdirSync(join(fruits, "Test")).length); // --sample 1: one image per class
    expect(rows[0]?.layout.names).toEqual(["path", "label", "width", "height", "features", "pca", "error"]);
    for (const r of rows) {
      expect(r.get("error")).toBeNull();
      expect(r.get("features")).toHaveLength(1280);
      expect(r.get("pca")).toHaveLength(5);
    }
  });
});
