/**
 * Builds the Fruits-360-like sample set from Tux Paint's food stamps (real photos on a transparent
 * background): every photo is flattened onto white, rotated in 10 degree steps with a small
 * deterministic scale jitter, written as a 100x100 JPEG. One folder per class (the item's name,
 * e.g. `apple_granny_smith`); every 4th angle goes to Test/, the rest to Training/.
 * Deterministic: the same input gives the same bytes.
 *
 *   npx tsx scripts/build-sample-data.ts --stamps <tuxpaint stamps/food folder> --out <folder>
 * Run by scripts/setup-sample-data.sh, which fetches the stamps.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { parseArgs } from "node:util";
import sharp from "sharp";

const SOURCE_FOLDERS = ["fruit", "vegetables"];
const ANGLE_STEP = 10;
const TEST_EVERY = 4;
const OUT_SIZE = 100;
const CANVAS = 200;
const MAX_OBJECT = 180;
const MIN_SCALE = 0.85;
const WHITE = { r: 255, g: 255, b: 255, alpha: 1 };

/** The class of a stamp file: its name without extension and trailing digits (`Strawberry2.png` -> `strawberry`). */
function className(file: string): string {
  return basename(file, ".png")
    .toLowerCase()
    .replace(/[0-9]+$/, "")
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_|_$/g, "");
}

/** A deterministic value in [0, 1) for one (photo, angle). */
function unit(key: string): number {
  return createHash("sha256").update(key).digest().readUInt32BE(0) / 2 ** 32;
}

async function variant(photo: string, angle: number): Promise<Buffer> {
  const key = `${basename(photo)}:${angle}`;
  const box = Math.round(MAX_OBJECT * (MIN_SCALE + (1 - MIN_SCALE) * unit(key)));
  const placed = await sharp(photo)
    .flatten({ background: WHITE })
    .resize(box, box, { fit: "contain", background: WHITE })
    .extend({
      top: Math.floor((CANVAS - box) / 2),
      bottom: Math.ceil((CANVAS - box) / 2),
      left: Math.floor((CANVAS - box) / 2),
      right: Math.ceil((CANVAS - box) / 2),
      background: WHITE,
    })
    .rotate(angle, { background: WHITE })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const { width, height, channels } = placed.info;
  return sharp(placed.data, { raw: { width, height, channels } })
    .extract({
      left: Math.floor((width - CANVAS) / 2),
      top: Math.floor((height - CANVAS) / 2),
      width: CANVAS,
      height: CANVAS,
    })
    .resize(OUT_SIZE, OUT_SIZE)
    .jpeg({ quality: 90, chromaSubsampling: "4:4:4" })
    .toBuffer();
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { stamps: { type: "string" }, out: { type: "string" } } });
  if (!values.stamps || !values.out) {
    console.error("usage: build-sample-data.ts --stamps <tuxpaint stamps/food folder> --out <folder>");
    process.exit(2);
  }
  const photos = SOURCE_FOLDERS.flatMap((folder) =>
    readdirSync(join(values.stamps as string, folder), { withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith(".png"))
      .map((e) => join(values.stamps as string, folder, e.name)),
  ).sort();
  const counts = { Training: 0, Test: 0 };
  const classes = new Set<string>();
  sharp.cache(false);
  for (const photo of photos) {
    const cls = className(photo);
    classes.add(cls);
    const stem = basename(photo, ".png").toLowerCase();
    for (let i = 0; i * ANGLE_STEP < 360; i++) {
      const angle = i * ANGLE_STEP;
      const split = i % TEST_EVERY === TEST_EVERY - 1 ? "Test" : "Training";
      const dir = join(values.out, split, cls);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `${stem}_r${angle}_${OUT_SIZE}.jpg`), await variant(photo, angle));
      counts[split]++;
    }
  }
  const summary = `${photos.length} photos, ${classes.size} classes, Training ${counts.Training} images, Test ${counts.Test} images`;
  writeFileSync(join(values.out, ".orchard-counts"), `${summary}\n`);
  console.log(summary);
}

await main();
