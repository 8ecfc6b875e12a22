/**
 * The in-process featurizer with the real model on the bad/odd input corpus: rows in == rows out,
 * order kept, every image gets features or a clear error. And model loading: user models (path +
 * manifest), bad manifests, checksum mismatch.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cacheRoot } from "../../scripts/lib/paths.ts";
import { ConfigError, SetupError } from "../../src/errors.ts";
import { type Featurizer, loadFeaturizer } from "../../udf-server/src/featurizer.ts";
import { imageCorpus } from "../support/image-corpus.ts";

const cache = cacheRoot();
const modelDir = join(cache, "models", "efficientnet-lite0");

describe("featurizer on the bad/odd input corpus", () => {
  let featurizer: Featurizer;

  beforeAll(async () => {
    execFileSync("bash", [join(import.meta.dirname, "..", "..", "scripts", "setup-model.sh")], { stdio: "inherit" });
    execFileSync("bash", [join(import.meta.dirname, "..", "..", "scripts", "setup-sample-data.sh")], {
      stdio: "inherit",
    });
    featurizer = await loadFeaturizer({ model: "efficientnet-lite0", cacheDir: cache, threads: 2 });
  });

  afterAll(async () => {
    await featurizer?.close();
  });

  it("returns one result per input, in order, with features or a clear error", async () => {
    const corpus = await imageCorpus();
    const results = await featurizer.featurize(corpus.map((c) => c.bytes));
    expect(results).toHaveLength(corpus.length);
    for (const [i, c] of corpus.entries()) {
      const r = results[i];
      if (c.expect === "features") {
        expect(r?.error, c.name).toBeNull();
        expect(r?.features, c.name).toHaveLength(1280);
        expect(r?.width, c.name).toBeGreaterThan(0);
      } else {
        expect(r?.features, c.name).toBeNull();
        expect(r?.error, c.name).toMatch(c.expect);
        expect(r?.width, c.name).toBeNull();
      }
    }
    // Order: the same good image at two positions of a reversed batch gives the same features.
    const reversed = await featurizer.featurize(corpus.map((c) => c.bytes).reverse());
    expect(reversed[corpus.length - 1]?.features).toEqual(results[0]?.features);
  });

  it("keeps the event loop free while the model runs (inference happens in worker threads)", async () => {
    const banana = join(cache, "data", "fruits", "Training", "banana");
    const batch = readdirSync(banana)
      .slice(0, 32)
      .map((f) => readFileSync(join(banana, f)));
    await featurizer.featurize(batch.slice(0, 2));
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const results = await featurizer.featurize(batch);
    clearInterval(timer);
    expect(results.every((r) => r.features !== null)).toBe(true);
    expect(ticks).toBeGreaterThan(3);
  });

  it("handles an all-bad batch and an empty batch", async () => {
    expect(await featurizer.featurize([])).toEqual([]);
    const r = await featurizer.featurize([null, new Uint8Array(0)]);
    expect(r.map((x) => x.error)).toEqual(["decode: no image bytes (null)", "decode: empty input (0 bytes)"]);
  });
});

describe("loading models", () => {
  let dir: string;

  beforeAll(() => {
    execFileSync("bash", [join(import.meta.dirname, "..", "..", "scripts", "setup-model.sh")], { stdio: "inherit" });
    dir = mkdtempSync(join(tmpdir(), "orchard-model-"));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("loads a user model from an .onnx path with manifest.json beside it", async () => {
    const user = join(dir, "mine");
    execFileSync("mkdir", ["-p", user]);
    copyFileSync(join(modelDir, "model.onnx"), join(user, "net.onnx"));
    const manifest = JSON.parse(readFileSync(join(modelDir, "manifest.json"), "utf8"));
    writeFileSync(join(user, "manifest.json"), JSON.stringify({ ...manifest, name: "my-net", file: "net.onnx" }));
    const f = await loadFeaturizer({ model: join(user, "net.onnx"), threads: 1 });
    expect(f.info.name).toBe("my-net");
    const [r] = await f.featurize([
      readFileSync(join(cache, "data", "fruits", "Test", "banana", "banana_r30_100.jpg")),
    ]);
    expect(r?.features).toHaveLength(1280);
    await f.close();
  });

  it("refuses a model file that does not match its manifest's sha256", async () => {
    const bad = join(dir, "tampered");
    execFileSync("mkdir", ["-p", bad]);
    const bytes = readFileSync(join(modelDir, "model.onnx"));
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 0xff;
    writeFileSync(join(bad, "model.onnx"), bytes);
    copyFileSync(join(modelDir, "manifest.json"), join(bad, "manifest.json"));
    await expect(loadFeaturizer({ model: join(bad, "model.onnx") })).rejects.toThrow(/checksum mismatch/);
    await expect(loadFeaturizer({ model: join(bad, "model.onnx") })).rejects.toBeInstanceOf(SetupError);
  });

  it("names the bad field of a manifest", async () => {
    const bad = join(dir, "badmanifest");
    execFileSync("mkdir", ["-p", bad]);
    copyFileSync(join(modelDir, "model.onnx"), join(bad, "model.onnx"));
    const manifest = JSON.parse(readFileSync(join(modelDir, "manifest.json"), "utf8"));
    writeFileSync(
      join(bad, "manifest.json"),
      JSON.stringify({ ...manifest, preprocess: { ...manifest.preprocess, std: [1, 0, 1] } }),
    );
    const err = await loadFeaturizer({ model: bad }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).field).toBe("manifest.preprocess.std");
  });

  it("rejects unknown names and URIs with the accepted forms", async () => {
    await expect(loadFeaturizer({ model: "resnet-9000" })).rejects.toThrow(
      /catalog name \(efficientnet-lite0, efficientnet-lite0-int8, mobilenet-v2\)/,
    );
    await expect(loadFeaturizer({ model: "s3://bucket/model.onnx" })).rejects.toBeInstanceOf(ConfigError);
    await expect(loadFeaturizer({ model: "efficientnet-lite0", cacheDir: cache, threads: 0 })).rejects.toThrow(
      /invalid threads: expected a positive integer/,
    );
  });
});
