/**
 * Image bytes -> the model's input pixels (8-bit sRGB, HWC, exactly `spec.size`; or uncropped for
 * a model graph that does the centre-crop resize itself, see `rawMaxSide`), with sharp.
 * EXIF orientation is applied, alpha is flattened onto white, grayscale / CMYK / 16-bit inputs are
 * converted to 8-bit sRGB, animated images contribute their first frame.
 */
import sharp, { type Metadata, type OutputInfo } from "sharp";
import { ImageError } from "./image-error.ts";
import type { ImageLimits, PreprocessSpec } from "./spec.ts";

// libvips' operation cache keeps up to 50 MB of results keyed by input; every image here is decoded
// once, so the cache only holds memory.
sharp.cache(false);

/** The decoded, resized pixels of one image, and its original (orientation-applied) size. */
export interface DecodedImage {
  /** RGB interleaved, row-major: `spec.size` pixels, or `width * height` pixels when `raw`. */
  pixels: Uint8Array;
  width: number;
  height: number;
  /**
   * Set when `pixels` is not `spec.size` but an uncropped image of this size, for a model graph
   * that does the centre-crop resize itself (see `rawMaxSide`).
   */
  raw?: { width: number; height: number };
}

const ACCEPTED_FORMATS = new Set(["jpeg", "png", "webp", "gif", "tiff", "heif"]);

/**
 * A centre-crop resize scales the shorter side to `size / cropFraction`; an image more than this
 * many times longer than wide (or the reverse) would become a huge buffer of which the crop keeps
 * a sliver (a 1x2000 PNG: 256x512,000 pixels, 393 MB). Beyond it, only the centre window of the
 * long side that the crop needs (a square on the shorter side, plus a margin for the resampling
 * kernel) is read and resized. Below it nothing changes, so ordinary photos keep their features.
 */
const MAX_ASPECT_BEFORE_WINDOW = 4;

/** Source pixels kept on each side of the window, so the resize kernel sees the same neighbours. */
const WINDOW_MARGIN = 4;

/**
 * The centred source window along the long axis of a very elongated image (see
 * MAX_ASPECT_BEFORE_WINDOW), or undefined when the whole image is resized as usual.
 */
function longAxisWindow(
  width: number,
  height: number,
  scale: number,
  keepScaled: number,
): { left: number; top: number; width: number; height: number } | undefined {
  if (Math.max(width, height) <= MAX_ASPECT_BEFORE_WINDOW * Math.min(width, height)) return undefined;
  const along = (length: number) => Math.min(length, Math.ceil(keepScaled / scale) + 2 * WINDOW_MARGIN);
  if (width > height) {
    const w = along(width);
    return { left: Math.floor((width - w) / 2), top: 0, width: w, height };
  }
  const h = along(height);
  return { left: 0, top: Math.floor((height - h) / 2), width, height: h };
}

/**
 * Decodes and resizes one image. Throws `ImageError` with a one-line reason for a bad image.
 * With `rawMaxSide` (centre-crop specs only), the pixels are for a model graph that does the
 * centre-crop resize itself, and nothing is cropped: an image whose (orientation-applied) width
 * and height are both at most `rawMaxSide` is returned at its own size, not resized; a larger one
 * is resized by sharp exactly as without `rawMaxSide` (shorter side to `size / cropFraction`),
 * so that the graph's own resize is the identity and it only crops. `raw` gives the pixels' size.
 */
export async function decodeImage(
  bytes: Uint8Array | null,
  spec: PreprocessSpec,
  limits: ImageLimits,
  rawMaxSide?: number,
): Promise<DecodedImage> {
  if (bytes === null) throw new ImageError({ message: "decode: no image bytes (null)" });
  if (bytes.byteLength === 0) throw new ImageError({ message: "decode: empty input (0 bytes)" });
  if (bytes.byteLength > limits.maxInputBytes) {
    throw new ImageError({ message: `image too large: ${bytes.byteLength} bytes > limit ${limits.maxInputBytes}` });
  }
  let meta: Metadata;
  try {
    // Header only (no pixels are decoded), so the pixel limit below can name the image's size.
    meta = await sharp(bytes, { limitInputPixels: false, autoOrient: true }).metadata();
  } catch (cause) {
    throw decodeError(cause);
  }
  if (!ACCEPTED_FORMATS.has(meta.format)) {
    throw new ImageError({ message: `decode: unsupported image format (${meta.format})` });
  }
  const pixels = meta.width * meta.height;
  if (pixels > limits.maxPixels) {
    throw new ImageError({ message: `image too large: ${pixels} pixels > limit ${limits.maxPixels}` });
  }
  const width = meta.autoOrient.width;
  const height = meta.autoOrient.height;
  const [outH, outW] = spec.size;
  const input = sharp(bytes, {
    autoOrient: true,
    limitInputPixels: limits.maxPixels,
    failOn: "error",
    sequentialRead: true,
  });
  let pipeline = input.flatten({ background: { r: 255, g: 255, b: 255 } }).toColourspace("srgb");
  const forGraph = rawMaxSide !== undefined && spec.resize === "center-crop";
  let raw: { width: number; height: number } | undefined;
  if (forGraph && width <= rawMaxSide && height <= rawMaxSide) {
    raw = { width, height };
  } else if (spec.resize === "stretch") {
    pipeline = pipeline.resize(outW, outH, { fit: "fill" });
  } else {
    const scale = Math.max(outW / spec.cropFraction / width, outH / spec.cropFraction / height);
    // The scaled shorter side: the crop (and the graph's own crop) needs at most that much of the long side.
    const keep = Math.max(outW, outH, Math.round(Math.min(width, height) * scale));
    const window = longAxisWindow(width, height, scale, keep);
    if (window) pipeline = pipeline.extract(window);
    const srcW = window?.width ?? width;
    const srcH = window?.height ?? height;
    const scaledW = Math.max(outW, Math.round(srcW * scale));
    const scaledH = Math.max(outH, Math.round(srcH * scale));
    pipeline = pipeline.resize(scaledW, scaledH, { fit: "fill" });
    if (forGraph) {
      raw = { width: scaledW, height: scaledH };
    } else {
      pipeline = pipeline.extract({
        left: Math.floor((scaledW - outW) / 2),
        top: Math.floor((scaledH - outH) / 2),
        width: outW,
        height: outH,
      });
    }
  }
  let out: { data: Buffer; info: OutputInfo };
  try {
    out = await pipeline.removeAlpha().raw({ depth: "uchar" }).toBuffer({ resolveWithObject: true });
  } catch (cause) {
    throw decodeError(cause);
  }
  if (raw) {
    if (out.info.width !== raw.width || out.info.height !== raw.height) {
      throw new ImageError({
        message: `decode: got ${out.info.width}x${out.info.height} pixels, expected ${raw.width}x${raw.height}`,
      });
    }
    return { pixels: toRgb(out.data, out.info.channels, raw.width * raw.height), width, height, raw };
  }
  return { pixels: toRgb(out.data, out.info.channels, outW * outH), width, height };
}

function toRgb(data: Buffer, channels: number, count: number): Uint8Array {
  if (channels === 3) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const rgb = new Uint8Array(count * 3);
  for (let i = 0; i < count; i++) {
    const v = data[i * channels] ?? 0;
    rgb[i * 3] = v;
    rgb[i * 3 + 1] = channels >= 3 ? (data[i * channels + 1] ?? 0) : v;
    rgb[i * 3 + 2] = channels >= 3 ? (data[i * channels + 2] ?? 0) : v;
  }
  return rgb;
}

function decodeError(cause: unknown): ImageError {
  const detail = (cause instanceof Error ? cause.message : String(cause)).split("\n")[0]?.trim() ?? "";
  if (/unsupported image format/i.test(detail)) {
    return new ImageError({ message: "decode: unsupported image format", cause });
  }
  if (/pixel limit/i.test(detail)) {
    return new ImageError({ message: `image too large: ${detail}`, cause });
  }
  return new ImageError({ message: `decode: truncated or corrupt image (${detail})`, cause });
}
