/**
 * A corpus of awkward and bad image inputs, generated with sharp at test time (nothing is
 * committed): truncated / random / empty / text inputs, a decompression bomb header, odd colour
 * spaces and bit depths, alpha, animation, EXIF orientation, every accepted container format.
 */
import { crc32, deflateSync } from "node:zlib";
import sharp, { type Sharp } from "sharp";

/** One corpus entry: `expect` is "features" or a regular expression the error must match. */
export interface CorpusCase {
  name: string;
  bytes: Uint8Array | null;
  expect: "features" | RegExp;
}

/** A deterministic 96x64 RGB test picture: horizontal red ramp, vertical green ramp, blue block top-left. */
export async function testPicture(width = 96, height = 64): Promise<Sharp> {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      raw[i] = Math.round((255 * x) / (width - 1));
      raw[i + 1] = Math.round((255 * y) / (height - 1));
      raw[i + 2] = x < width / 4 && y < height / 4 ? 255 : 0;
    }
  }
  return sharp(raw, { raw: { width, height, channels: 3 } });
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/**
 * A valid-looking PNG that claims `width` x `height` RGB pixels but carries only a few bytes of
 * image data: a decompression-bomb header that costs nothing to make.
 */
export function bombPng(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(Buffer.alloc(1024))),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** Deterministic pseudo-random bytes (xorshift). */
function randomBytes(n: number, seed = 0x9e3779b9): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = s & 0xff;
  }
  return out;
}

/** A 3-frame animated GIF (red, green, blue frames). */
export async function animatedGif(width = 40, height = 30): Promise<Buffer> {
  const frames = [
    [255, 0, 0],
    [0, 255, 0],
    [0, 0, 255],
  ];
  const raw = Buffer.alloc(width * height * 4 * frames.length);
  frames.forEach(([r, g, b], f) => {
    for (let i = 0; i < width * height; i++) {
      const o = (f * width * height + i) * 4;
      raw[o] = r as number;
      raw[o + 1] = g as number;
      raw[o + 2] = b as number;
      raw[o + 3] = 255;
    }
  });
  return sharp(raw, { raw: { width, height: height * frames.length, channels: 4, pageHeight: height } })
    .gif()
    .toBuffer();
}

/** The whole corpus. */
export async function imageCorpus(): Promise<CorpusCase[]> {
  const pic = await testPicture();
  const jpeg = await pic.clone().jpeg({ quality: 90 }).toBuffer();
  const alphaRaw = Buffer.alloc(32 * 32 * 4);
  for (let i = 0; i < 32 * 32; i++) alphaRaw.set([200, 30, 30, i % 32 < 16 ? 255 : 0], i * 4);
  return [
    { name: "jpeg", bytes: jpeg, expect: "features" },
    { name: "png", bytes: await pic.clone().png().toBuffer(), expect: "features" },
    { name: "webp", bytes: await pic.clone().webp().toBuffer(), expect: "features" },
    { name: "tiff", bytes: await pic.clone().tiff().toBuffer(), expect: "features" },
    { name: "avif", bytes: await pic.clone().avif({ effort: 0 }).toBuffer(), expect: "features" },
    { name: "gif", bytes: await pic.clone().gif().toBuffer(), expect: "features" },
    { name: "animated gif", bytes: await animatedGif(), expect: "features" },
    {
      name: "1x1 png",
      bytes: await sharp({ create: { width: 1, height: 1, channels: 3, background: "#3366cc" } })
        .png()
        .toBuffer(),
      expect: "features",
    },
    { name: "grayscale jpeg", bytes: await pic.clone().grayscale().jpeg().toBuffer(), expect: "features" },
    { name: "cmyk jpeg", bytes: await pic.clone().toColourspace("cmyk").jpeg().toBuffer(), expect: "features" },
    { name: "16-bit png", bytes: await pic.clone().toColourspace("rgb16").png().toBuffer(), expect: "features" },
    {
      name: "alpha png",
      bytes: await sharp(alphaRaw, { raw: { width: 32, height: 32, channels: 4 } })
        .png()
        .toBuffer(),
      expect: "features",
    },
    {
      name: "exif-rotated jpeg",
      bytes: await pic.clone().jpeg().withMetadata({ orientation: 6 }).toBuffer(),
      expect: "features",
    },
    {
      name: "truncated jpeg",
      bytes: jpeg.subarray(0, Math.floor(jpeg.length / 2)),
      expect: /^decode: truncated or corrupt image \(.+\)$/,
    },
    { name: "random bytes", bytes: randomBytes(4096), expect: /^decode: unsupported image format$/ },
    { name: "empty file", bytes: new Uint8Array(0), expect: /^decode: empty input \(0 bytes\)$/ },
    { name: "null", bytes: null, expect: /^decode: no image bytes \(null\)$/ },
    {
      name: "text file",
      bytes: Buffer.from("name,label\napple.jpg,apple\n"),
      expect: /^decode: unsupported image format$/,
    },
    {
      name: "svg",
      bytes: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'),
      expect: /^decode: unsupported image format \(svg\)$/,
    },
    {
      name: "30000x30000 png",
      bytes: bombPng(30000, 30000),
      expect: /^image too large: 900000000 pixels > limit 100000000$/,
    },
  ];
}
