import sharp from "sharp";
import { beforeAll, describe, expect, it } from "vitest";
import { decodeImage } from "../../udf-server/src/preprocess/decode.ts";
import { ImageError } from "../../udf-server/src/preprocess/image-error.ts";
import { DEFAULT_LIMITS, type PreprocessSpec } from "../../udf-server/src/preprocess/spec.ts";
import { animatedGif, bombPng, type CorpusCase, imageCorpus, testPicture } from "../support/image-corpus.ts";

const spec: PreprocessSpec = {
  size: [224, 224],
  resize: "center-crop",
  cropFraction: 0.875,
  mean: [127, 127, 127],
  std: [128, 128, 128],
  inputFormat: "float32-nchw",
};

function pixel(p: Uint8Array, x: number, y: number, width = 224): [number, number, number] {
  const i = (y * width + x) * 3;
  return [p[i] as number, p[i + 1] as number, p[i + 2] as number];
}

function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs((a[i] as number) - (b[i] as number));
  return s / a.length;
}

async function errorOf(bytes: Uint8Array | null, limits = DEFAULT_LIMITS): Promise<string> {
  try {
    await decodeImage(bytes, spec, limits);
  } catch (err) {
    expect(err).toBeInstanceOf(ImageError);
    return (err as Error).message;
  }
  throw new ImageError({ message: "expected a decode error" });
}

describe("decodeImage on the bad/odd input corpus", () => {
  let corpus: CorpusCase[];
  beforeAll(async () => {
    corpus = await imageCorpus();
  });

  it("gives 224x224 RGB pixels or a clear error for every case", async () => {
    for (const c of corpus) {
      if (c.expect === "features") {
        const img = await decodeImage(c.bytes, spec, DEFAULT_LIMITS);
        expect(img.pixels.length, c.name).toBe(224 * 224 * 3);
        expect(img.width, c.name).toBeGreaterThan(0);
      } else {
        expect(await errorOf(c.bytes), c.name).toMatch(c.expect);
      }
    }
  });

  it("rejects a 30000x30000 PNG header from its metadata without allocating the image", async () => {
    const before = process.memoryUsage().rss;
    const message = await errorOf(bombPng(30000, 30000));
    expect(message).toBe("image too large: 900000000 pixels > limit 100000000");
    expect(process.memoryUsage().rss - before).toBeLessThan(256 * 1024 * 1024);
  });

  it("applies maxInputBytes and maxPixels", async () => {
    const png = await (await testPicture()).png().toBuffer();
    expect(await errorOf(png, { maxInputBytes: 100, maxPixels: DEFAULT_LIMITS.maxPixels })).toBe(
      `image too large: ${png.length} bytes > limit 100`,
    );
    expect(await errorOf(png, { maxInputBytes: DEFAULT_LIMITS.maxInputBytes, maxPixels: 6000 })).toBe(
      "image too large: 6144 pixels > limit 6000",
    );
  });
});

describe("decodeImage colour handling", () => {
  it("flattens alpha onto white", async () => {
    const raw = Buffer.alloc(64 * 64 * 4);
    for (let i = 0; i < 64 * 64; i++) raw.set([200, 30, 30, i % 64 < 32 ? 255 : 0], i * 4);
    const png = await sharp(raw, { raw: { width: 64, height: 64, channels: 4 } })
      .png()
      .toBuffer();
    const { pixels } = await decodeImage(png, spec, DEFAULT_LIMITS);
    expect(pixel(pixels, 20, 112)).toEqual([200, 30, 30]);
    expect(pixel(pixels, 200, 112)).toEqual([255, 255, 255]);
  });

  it("converts grayscale to equal R, G, B", async () => {
    const jpeg = await (await testPicture()).grayscale().jpeg().toBuffer();
    const { pixels } = await decodeImage(jpeg, spec, DEFAULT_LIMITS);
    for (const [x, y] of [
      [10, 10],
      [112, 112],
      [200, 50],
    ] as const) {
      const [r, g, b] = pixel(pixels, x, y);
      expect(g).toBe(r);
      expect(b).toBe(r);
    }
  });

  it("converts 16-bit and CMYK inputs to the same 8-bit sRGB as the 8-bit RGB original", async () => {
    const pic = await testPicture();
    const reference = (await decodeImage(await pic.clone().png().toBuffer(), spec, DEFAULT_LIMITS)).pixels;
    const png16 = await pic.clone().toColourspace("rgb16").png().toBuffer();
    expect((await sharp(png16).metadata()).depth).toBe("ushort");
    expect(meanAbsDiff((await decodeImage(png16, spec, DEFAULT_LIMITS)).pixels, reference)).toBeLessThan(1.5);
    const cmyk = await pic.clone().toColourspace("cmyk").jpeg({ quality: 95 }).toBuffer();
    expect((await sharp(cmyk).metadata()).space).toBe("cmyk");
    expect(meanAbsDiff((await decodeImage(cmyk, spec, DEFAULT_LIMITS)).pixels, reference)).toBeLessThan(25);
  });

  it("takes the first frame of an animated GIF", async () => {
    const gif = await animatedGif();
    expect((await sharp(gif).metadata()).pages).toBe(3);
    const { pixels, width, height } = await decodeImage(gif, spec, DEFAULT_LIMITS);
    expect([width, height]).toEqual([40, 30]);
    const [r, g, b] = pixel(pixels, 112, 112);
    expect(r).toBeGreaterThan(240);
    expect(g).toBeLessThan(15);
    expect(b).toBeLessThan(15);
  });

  it("applies EXIF orientation before cropping", async () => {
    const pic = await testPicture();
    const tagged = await pic.clone().jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer();
    const rotated = await sharp(await pic.clone().png().toBuffer())
      .rotate(90)
      .jpeg({ quality: 95 })
      .toBuffer();
    const a = await decodeImage(tagged, spec, DEFAULT_LIMITS);
    const b = await decodeImage(rotated, spec, DEFAULT_LIMITS);
    expect([a.width, a.height]).toEqual([64, 96]);
    expect(meanAbsDiff(a.pixels, b.pixels)).toBeLessThan(3);
  });
});

describe("decodeImage resize policy", () => {
  async function stripes(): Promise<Buffer> {
    const width = 400;
    const height = 200;
    const raw = Buffer.alloc(width * height * 3);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        raw.set(x < 100 ? [255, 0, 0] : x < 300 ? [0, 255, 0] : [0, 0, 255], (y * width + x) * 3);
      }
    }
    return sharp(raw, { raw: { width, height, channels: 3 } })
      .png()
      .toBuffer();
  }

  it("center-crop keeps only the centre of the shorter side", async () => {
    const { pixels, width, height } = await decodeImage(await stripes(), spec, DEFAULT_LIMITS);
    expect([width, height]).toEqual([400, 200]);
    for (const x of [0, 112, 223]) expect(pixel(pixels, x, 112)).toEqual([0, 255, 0]);
  });

  it("stretch keeps the whole image", async () => {
    const { pixels } = await decodeImage(await stripes(), { ...spec, resize: "stretch" }, DEFAULT_LIMITS);
    expect(pixel(pixels, 5, 112)).toEqual([255, 0, 0]);
    expect(pixel(pixels, 112, 112)).toEqual([0, 255, 0]);
    expect(pixel(pixels, 218, 112)).toEqual([0, 0, 255]);
  });
});

describe("decodeImage on very elongated images (aspect-ratio bombs)", () => {
  /** A width x height PNG whose colour changes along the long axis, so a wrong window shows. */
  async function strip(width: number, height: number): Promise<Uint8Array> {
    const long = Math.max(width, height);
    const gradient = Buffer.alloc(width * height * 3);
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) {
        const t = Math.floor((255 * (width > height ? x : y)) / (long - 1));
        gradient.set([t, 255 - t, 128], (y * width + x) * 3);
      }
    return sharp(gradient, { raw: { width, height, channels: 3 } })
      .png()
      .toBuffer();
  }

  it.each([
    [1, 2000],
    [2000, 1],
    [1, 40000],
    [40000, 1],
  ])("%ix%i gives the model's input size, and a bounded buffer for the graph's own crop", async (w, h) => {
    const bytes = await strip(w, h);
    const cropped = await decodeImage(bytes, spec, DEFAULT_LIMITS);
    expect(cropped.pixels.length).toBe(224 * 224 * 3);
    expect([cropped.width, cropped.height]).toEqual([w, h]);
    // The centre of the long axis: the gradient's middle value, whatever the length.
    const [r] = pixel(cropped.pixels, 112, 112);
    expect(Math.abs((r as number) - 127)).toBeLessThanOrEqual(2);
    const forGraph = await decodeImage(bytes, spec, DEFAULT_LIMITS, 512);
    expect(forGraph.raw).toBeDefined();
    expect((forGraph.raw?.width ?? 0) * (forGraph.raw?.height ?? 0)).toBeLessThan(256 * 2400);
    expect(Math.min(forGraph.raw?.width ?? 0, forGraph.raw?.height ?? 0)).toBe(256);
  });

  it("reads only a window of a 5:1 photo, with the same pixels as resizing all of it", async () => {
    const bytes = await strip(100, 500);
    const windowed = await decodeImage(bytes, spec, DEFAULT_LIMITS);
    // The whole image resized (shorter side to 256), then its centre 224x224: the unwindowed way.
    const whole = await sharp(bytes)
      .resize(256, 1280, { fit: "fill" })
      .extract({ left: 16, top: 528, width: 224, height: 224 })
      .removeAlpha()
      .raw()
      .toBuffer();
    expect(meanAbsDiff(windowed.pixels, new Uint8Array(whole))).toBeLessThan(1.5);
  });
});
