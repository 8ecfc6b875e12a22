/**
 * Both catalog models' features are useful for the Fruits pipeline: a 1-nearest-neighbour
 * classifier on the sample set's Training features labels most Test images right. And the
 * mobilenet-v2 entry (nsfwjs' retrained MobileNetV2) rates ordinary photos "Neutral".
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { cacheRoot } from "../../scripts/lib/paths.ts";
import { loadFeaturizer } from "../../udf-server/src/featurizer.ts";
import { referencePhotoDirs } from "../support/reference-photos.ts";
import { cosine } from "../support/vectors.ts";

const cache = cacheRoot();
const fruits = join(cache, "data", "fruits");
const CLASSES = [
  "apple_red",
  "banana",
  "broccoli",
  "carrot",
  "corn",
  "eggplant",
  "lemon",
  "pineapple",
  "strawberry",
  "tomato",
];
const NSFWJS_NEUTRAL = 2; // nsfwjs classes: 0 Drawing, 1 Hentai, 2 Neutral, 3 Porn, 4 Sexy

function split(name: "Training" | "Test"): Array<{ label: string; bytes: Buffer }> {
  return CLASSES.flatMap((label) =>
    readdirSync(join(fruits, name, label))
      .sort()
      .map((f) => ({ label, bytes: readFileSync(join(fruits, name, label, f)) })),
  );
}

beforeAll(() => {
  const root = join(import.meta.dirname, "..", "..");
  execFileSync("bash", [join(root, "scripts", "setup-model.sh"), "all"], { stdio: "inherit" });
  execFileSync("bash", [join(root, "scripts", "setup-sample-data.sh")], { stdio: "inherit" });
});

describe.each(["efficientnet-lite0", "mobilenet-v2"])("%s features on the sample fruit set", (model) => {
  it("separate the classes: 1-NN on Training features labels >= 85% of Test images", async () => {
    const f = await loadFeaturizer({ model, cacheDir: cache });
    try {
      expect(f.info.featureDim).toBe(1280);
      const train = split("Training");
      const test = split("Test");
      const trainF = await f.featurize(train.map((t) => t.bytes));
      const testF = await f.featurize(test.map((t) => t.bytes));
      let right = 0;
      for (const [i, t] of test.entries()) {
        const q = testF[i]?.features as Float32Array;
        let best = -2;
        let label = "";
        for (const [j, r] of train.entries()) {
          const s = cosine(q, trainF[j]?.features as Float32Array);
          if (s > best) [best, label] = [s, r.label];
        }
        if (label === t.label) right++;
      }
      expect(right / test.length).toBeGreaterThanOrEqual(0.85);
    } finally {
      await f.close();
    }
  });
});

describe("mobilenet-v2 (nsfwjs MobileNetV2)", () => {
  it("rates ordinary photos Neutral", async () => {
    const f = await loadFeaturizer({ model: "mobilenet-v2", cacheDir: cache, logits: true });
    try {
      expect(f.info).toMatchObject({ name: "mobilenet-v2", inputSize: [224, 224], featureDim: 1280 });
      const { skimage, stamps } = referencePhotoDirs(cache);
      const photos = [
        ...["chelsea.png", "coffee.png", "motorcycle_left.png", "astronaut.png"].map((p) => join(skimage, p)),
        ...["Strawberry2.png", "Apricot_whole.png", "orange_seville.png"].map((p) => join(stamps, "fruit", p)),
      ].map((p) => readFileSync(p));
      const results = await f.featurize(photos);
      for (const r of results) {
        const l = r.logits as Float32Array;
        expect(l).toHaveLength(5);
        expect(l.indexOf(Math.max(...l))).toBe(NSFWJS_NEUTRAL);
      }
    } finally {
      await f.close();
    }
  });
});
