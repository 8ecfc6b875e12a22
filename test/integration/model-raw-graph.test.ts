/**
 * The featurizer's raw-graph path (model-raw.onnx: any-size uint8 input, centre-crop resize in
 * ONNX Runtime) with the real EfficientNet-Lite0: an image's features do not depend on the batch it
 * is in, the raw path agrees with the classic sharp path (cosine > 0.98; larger images, which sharp
 * still resizes, agree almost exactly), and a tampered raw graph is refused.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cacheRoot } from "../../scripts/lib/paths.ts";
import { SetupError } from "../../src/errors.ts";
import { type Featurizer, loadFeaturizer } from "../../udf-server/src/featurizer.ts";
import { readManifest } from "../../udf-server/src/model/manifest.ts";
import { cosine } from "../support/vectors.ts";

const cache = cacheRoot();
const modelDir = join(cache, "models", "efficientnet-lite0");
const skimage = join(cache, "data", "skimage");
const fruits = join(cache, "data", "fruits", "Test");

/** Real photos <= 512x512 (raw path) and > 512 (sharp-resized), plus 100x100 fruit images. */
function photos(): { small: Uint8Array[]; large: Uint8Array[] } {
  const small = ["chelsea.png", "astronaut.png", "horse.png", "coins.png", "page.png"].map((f) =>
    readFileSync(join(skimage, f)),
  );
  for (const c of readdirSync(fruits).sort().slice(0, 6)) {
    const first = readdirSync(join(fruits, c)).sort()[0] as string;
    small.push(readFileSync(join(fruits, c, first)));
  }
  const large = ["coffee.png", "rocket.jpg", "motorcycle_left.png"].map((f) => readFileSync(join(skimage, f)));
  return { small, large };
}

describe("raw-graph featurizer path", () => {
  let raw: Featurizer;
  let classic: Featurizer;

  beforeAll(async () => {
    const root = join(import.meta.dirname, "..", "..");
    execFileSync("bash", [join(root, "scripts", "setup-model.sh")], { stdio: "inherit" });
    execFileSync("bash", [join(root, "scripts", "setup-sample-data.sh")], { stdio: "inherit" });
    raw = await loadFeaturizer({ model: "efficientnet-lite0", cacheDir: cache, threads: 2 });
    classic = await loadFeaturizer({ model: "efficientnet-lite0", cacheDir: cache, threads: 2, rawMaxSide: 0 });
  });

  afterAll(async () => {
    await raw?.close();
    await classic?.close();
  });

  it("the catalog manifest declares the raw graph", async () => {
    const manifest = await readManifest(join(modelDir, "manifest.json"));
    expect(manifest.raw).toMatchObject({ file: "model-raw.onnx", format: "uint8-nhwc-any" });
    expect(manifest.raw?.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it("gives an image the same features alone as in a batch with images of other sizes", async () => {
    const { small, large } = photos();
    const extra = await sharp(readFileSync(join(skimage, "chelsea.png")))
      .resize(300, 200)
      .png()
      .toBuffer();
    const batch = [...small, ...large, extra, small[0] as Uint8Array, null];
    const together = await raw.featurize(batch);
    expect(together).toHaveLength(batch.length);
    expect(together.at(-1)?.error).toBe("decode: no image bytes (null)");
    for (const [i, bytes] of batch.entries()) {
      if (bytes === null) continue;
      const [alone] = await raw.featurize([bytes]);
      const t = together[i];
      expect(t?.error, `image ${i}`).toBeNull();
      expect(alone?.features, `image ${i}`).toEqual(t?.features);
      expect([alone?.width, alone?.height]).toEqual([t?.width, t?.height]);
    }
  });

  it("agrees with the sharp-resize path (cosine > 0.98; sharp-resized large images ~ exactly)", async () => {
    const { small, large } = photos();
    const [a, b] = await Promise.all([raw.featurize([...small, ...large]), classic.featurize([...small, ...large])]);
    const cos = a.map((r, i) => cosine(r.features as Float32Array, b[i]?.features as Float32Array));
    const smallCos = cos.slice(0, small.length);
    const largeCos = cos.slice(small.length);
    console.log(
      `raw vs sharp path cosine: small images min ${Math.min(...smallCos).toFixed(4)} ` +
        `mean ${(smallCos.reduce((s, v) => s + v, 0) / smallCos.length).toFixed(4)}; ` +
        `large images min ${Math.min(...largeCos).toFixed(6)}`,
    );
    for (const [i, c] of smallCos.entries()) expect(c, `small image ${i}`).toBeGreaterThan(0.98);
    for (const [i, c] of largeCos.entries()) expect(c, `large image ${i}`).toBeGreaterThan(0.9999);
    expect(a.map((r) => [r.width, r.height])).toEqual(b.map((r) => [r.width, r.height]));
  });

  it("refuses a raw graph that does not match its manifest's sha256", async () => {
    const dir = mkdtempSync(join(tmpdir(), "orchard-raw-"));
    try {
      copyFileSync(join(modelDir, "model.onnx"), join(dir, "model.onnx"));
      copyFileSync(join(modelDir, "manifest.json"), join(dir, "manifest.json"));
      const bytes = readFileSync(join(modelDir, "model-raw.onnx"));
      bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 0xff;
      writeFileSync(join(dir, "model-raw.onnx"), bytes);
      const err = await loadFeaturizer({ model: dir, threads: 1 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SetupError);
      expect(String((err as Error).message)).toMatch(/checksum mismatch for .*model-raw\.onnx/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
