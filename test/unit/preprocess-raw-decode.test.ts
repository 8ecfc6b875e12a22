/**
 * decodeImage with `rawMaxSide` (the featurizer's raw-graph path): small images come back whole at
 * their own size, large ones resized by sharp exactly like the classic path but not cropped, and
 * every error and limit behaves as without it.
 */
import sharp from "sharp";
import { beforeAll, describe, expect, it } from "vitest";
import { decodeImage } from "../../udf-server/src/preprocess/decode.ts";
import { ImageError } from "../../udf-server/src/preprocess/image-error.ts";
import { DEFAULT_LIMITS, type PreprocessSpec } from "../../udf-server/src/preprocess/spec.ts";
import { bombPng, type CorpusCase, imageCorpus, testPicture } from "../support/image-corpus.ts";

const spec: PreprocessSpec = {
  size: [224, 224],
  resize: "center-crop",
  cropFraction: 0.875,
  mean: [127, 127, 127],
  std: [128, 128, 128],
  inputFormat: "float32-nchw",
};

async function message(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ImageError);
  return (err as Error).message;
}

describe("decodeImage with rawMaxSide", () => {
  let corpus: CorpusCase[];
  beforeAll(async () => {
    corpus = await imageCorpus();
  });

  it("returns a small image whole, unresized, with the same RGB sharp decodes", async () => {
    const pic = await testPicture(96, 64);
    const png = await pic.clone().png().toBuffer();
    const img = await decodeImage(png, spec, DEFAULT_LIMITS, 512);
    expect(img.raw).toEqual({ width: 96, height: 64 });
    expect([img.width, img.height]).toEqual([96, 64]);
    const direct = await sharp(png).removeAlpha().raw().toBuffer();
    expect(Buffer.from(img.pixels).equals(direct)).toBe(true);
  });

  it("applies EXIF orientation to the raw size", async () => {
    const tagged = await (await testPicture(96, 64)).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const img = await decodeImage(tagged, spec, DEFAULT_LIMITS, 512);
    expect(img.raw).toEqual({ width: 64, height: 96 });
    expect(img.pixels.length).toBe(64 * 96 * 3);
  });

  it("resizes a larger image like the classic path, without the crop", async () => {
    const png = await (await testPicture(900, 600)).png().toBuffer();
    const raw = await decodeImage(png, spec, DEFAULT_LIMITS, 512);
    const classic = await decodeImage(png, spec, DEFAULT_LIMITS);
    // Shorter side 600 -> 256 (224 / 0.875), longer 900 -> 384; the classic path crops the centre 224.
    expect(raw.raw).toEqual({ width: 384, height: 256 });
    expect([raw.width, raw.height]).toEqual([900, 600]);
    const left = (384 - 224) / 2;
    const top = (256 - 224) / 2;
    let same = true;
    for (let y = 0; y < 224 && same; y++) {
      const row = raw.pixels.subarray(((top + y) * 384 + left) * 3, ((top + y) * 384 + left + 224) * 3);
      same = Buffer.from(row).equals(Buffer.from(classic.pixels.subarray(y * 224 * 3, (y + 1) * 224 * 3)));
    }
    expect(same).toBe(true);
  });

  it("uses the bound on both sides: 513 wide is resized, 512x512 is not", async () => {
    // 513x200: within 4:1, so the whole width is resized (a longer one is windowed, see preprocess-decode).
    const a = await decodeImage(await (await testPicture(513, 200)).png().toBuffer(), spec, DEFAULT_LIMITS, 512);
    expect(a.raw).toEqual({ width: Math.round(513 * (256 / 200)), height: 256 });
    const b = await decodeImage(await (await testPicture(512, 512)).png().toBuffer(), spec, DEFAULT_LIMITS, 512);
    expect(b.raw).toEqual({ width: 512, height: 512 });
  });

  it("keeps every corpus error and limit", async () => {
    for (const c of corpus) {
      if (c.expect === "features") {
        const img = await decodeImage(c.bytes, spec, DEFAULT_LIMITS, 512);
        const size = img.raw ?? { width: 0, height: 0 };
        expect(img.pixels.length, c.name).toBe(size.width * size.height * 3);
      } else {
        expect(await message(decodeImage(c.bytes, spec, DEFAULT_LIMITS, 512)), c.name).toMatch(c.expect);
      }
    }
    expect(await message(decodeImage(bombPng(30000, 30000), spec, DEFAULT_LIMITS, 512))).toBe(
      "image too large: 900000000 pixels > limit 100000000",
    );
  });

  it("is ignored for stretch specs", async () => {
    const png = await (await testPicture(96, 64)).png().toBuffer();
    const img = await decodeImage(png, { ...spec, resize: "stretch" }, DEFAULT_LIMITS, 512);
    expect(img.raw).toBeUndefined();
    expect(img.pixels.length).toBe(224 * 224 * 3);
  });
});
