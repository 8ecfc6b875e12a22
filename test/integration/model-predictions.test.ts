/**
 * The default catalog model is a real ImageNet classifier: through the featurizer's own decode and
 * preprocessing, it puts the right ImageNet class in its top 5 for real photos shipped in Debian
 * packages (scikit-image's sample photos, Tux Paint's fruit and vegetable photos).
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cacheRoot } from "../../scripts/lib/paths.ts";
import { type Featurizer, loadFeaturizer } from "../../udf-server/src/featurizer.ts";
import { referencePhotos, topK } from "../support/reference-photos.ts";

const cache = cacheRoot();
const skimage = join(cache, "data", "skimage");
const PHOTOS = referencePhotos(cache);

describe("efficientnet-lite0 (default catalog model)", () => {
  let featurizer: Featurizer;

  beforeAll(async () => {
    const root = join(import.meta.dirname, "..", "..");
    execFileSync("bash", [join(root, "scripts", "setup-model.sh")], { stdio: "inherit" });
    execFileSync("bash", [join(root, "scripts", "setup-sample-data.sh")], { stdio: "inherit" });
    featurizer = await loadFeaturizer({ model: "efficientnet-lite0", cacheDir: cache, logits: true });
  });

  afterAll(async () => {
    await featurizer?.close();
  });

  it("describes itself", () => {
    expect(featurizer.info).toMatchObject({ name: "efficientnet-lite0", inputSize: [224, 224], featureDim: 1280 });
    expect(featurizer.info.threads).toBeGreaterThan(0);
  });

  it("puts the right ImageNet class in the top 5 for real photos", async () => {
    const results = await featurizer.featurize(PHOTOS.map((p) => readFileSync(p.file)));
    expect(results).toHaveLength(PHOTOS.length);
    let top1 = 0;
    for (const [i, photo] of PHOTOS.entries()) {
      const r = results[i];
      expect(r?.error, photo.file).toBeNull();
      const top5 = topK(r?.logits as Float32Array, 5);
      expect(
        top5.some((c) => photo.classes.includes(c)),
        `${photo.file} (${photo.what}): top-5 ${top5}`,
      ).toBe(true);
      if (photo.classes.includes(top5[0] as number)) top1++;
    }
    expect(top1).toBeGreaterThanOrEqual(12);
  });

  it("returns 1280 non-negative pooled features, the same for an image alone or in a batch", async () => {
    const cat = readFileSync(join(skimage, "chelsea.png"));
    const coffee = readFileSync(join(skimage, "coffee.png"));
    const [alone] = await featurizer.featurize([cat]);
    const [b0, b1] = await featurizer.featurize([coffee, cat]);
    const f = alone?.features as Float32Array;
    expect(f).toHaveLength(1280);
    expect(f.every((v) => Number.isFinite(v) && v >= 0 && v <= 6)).toBe(true);
    expect(f.some((v) => v > 0.5)).toBe(true);
    const other = b1?.features as Float32Array;
    let maxDiff = 0;
    for (let i = 0; i < f.length; i++) maxDiff = Math.max(maxDiff, Math.abs((f[i] as number) - (other[i] as number)));
    expect(maxDiff).toBeLessThan(1e-3);
    expect([alone?.width, alone?.height]).toEqual([451, 300]);
    expect([b0?.width, b0?.height]).toEqual([600, 400]);
  });
});
