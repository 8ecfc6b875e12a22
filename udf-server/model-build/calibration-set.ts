/**
 * The calibration set for static INT8 quantization: a fixed choice of sample images, put through
 * exactly the sidecar's own preprocessing (sharp decode + resize, JS normalisation; and, for the
 * raw-input graph, sharp decode only), written as NumPy `.npy` files for the Python converter
 * (`convert.py --format onnx-int8`).
 *
 *   npx tsx udf-server/model-build/calibration-set.ts --images <Training folder> --manifest <FP32 manifest.json>
 *       --per-class N --out <calibration.npy> [--raw-out <calibration-raw.npy>]
 *
 * The images: in every class folder (sorted), `N` files evenly spread over its sorted file list.
 * `--out` holds float32 `[n, 3, h, w]` (model.onnx's input); `--raw-out` uint8 `[n, height, width, 3]`
 * (model-raw.onnx's input, the decoded image at its own size; all chosen images must share it).
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { preprocessSpec, readManifest } from "../src/model/manifest.ts";
import { decodeImage } from "../src/preprocess/decode.ts";
import { writeNchw } from "../src/preprocess/normalise.ts";
import { DEFAULT_LIMITS } from "../src/preprocess/spec.ts";

/** The featurizer's default `rawMaxSide`: images up to this size reach the raw graph undecimated. */
const RAW_MAX_SIDE = 512;

/** A NumPy `.npy` (format 1.0) file: header, then the C-order data. */
function npy(descr: "<f4" | "|u1", shape: number[], data: Uint8Array): Buffer {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(", ")},), }`;
  // Magic (6) + version (2) + header length (2) + header, padded with spaces to a multiple of 64, ending in \n.
  header = header.padEnd(Math.ceil((10 + header.length + 1) / 64) * 64 - 10 - 1, " ") + "\n";
  const prefix = Buffer.alloc(10);
  prefix.write("\x93NUMPY", 0, "latin1");
  prefix[6] = 1;
  prefix[7] = 0;
  prefix.writeUInt16LE(header.length, 8);
  return Buffer.concat([prefix, Buffer.from(header, "latin1"), data]);
}

/** `perClass` files of every class folder under `root`, evenly spread over each sorted list. */
function calibrationFiles(root: string, perClass: number): string[] {
  return readdirSync(root)
    .sort()
    .flatMap((label) => {
      const files = readdirSync(join(root, label)).sort();
      const n = Math.min(perClass, files.length);
      return Array.from({ length: n }, (_, i) =>
        join(root, label, files[Math.floor((i * files.length) / n)] as string),
      );
    });
}

const { values } = parseArgs({
  options: {
    images: { type: "string" },
    manifest: { type: "string" },
    "per-class": { type: "string" },
    out: { type: "string" },
    "raw-out": { type: "string" },
  },
});
const perClass = Number(values["per-class"]);
if (!values.images || !values.manifest || !values.out || !Number.isInteger(perClass) || perClass < 1) {
  console.error(
    "usage: calibration-set.ts --images <folder of class folders> --manifest <manifest.json> --per-class N --out <file.npy> [--raw-out <file.npy>]",
  );
  process.exit(2);
}
const spec = preprocessSpec(await readManifest(values.manifest));
const files = calibrationFiles(values.images, perClass);
const [h, w] = spec.size;
const area = h * w;
const tensors = new Float32Array(files.length * 3 * area);
const raws: Uint8Array[] = [];
let rawSize: { width: number; height: number } | undefined;
for (const [i, file] of files.entries()) {
  const bytes = readFileSync(file);
  const decoded = await decodeImage(bytes, spec, DEFAULT_LIMITS);
  writeNchw(decoded.pixels, tensors, i, area, spec.mean, spec.std);
  if (values["raw-out"]) {
    const raw = await decodeImage(bytes, spec, DEFAULT_LIMITS, RAW_MAX_SIDE);
    const size = raw.raw ?? { width: spec.size[1], height: spec.size[0] };
    rawSize ??= size;
    if (size.width !== rawSize.width || size.height !== rawSize.height) {
      console.error(`${file}: ${size.width}x${size.height}, not ${rawSize.width}x${rawSize.height} like the others`);
      process.exit(1);
    }
    raws.push(raw.pixels);
  }
}
writeFileSync(values.out, npy("<f4", [files.length, 3, h, w], new Uint8Array(tensors.buffer)));
if (values["raw-out"] && rawSize) {
  writeFileSync(
    values["raw-out"],
    npy("|u1", [files.length, rawSize.height, rawSize.width, 3], Buffer.concat(raws.map((r) => Buffer.from(r)))),
  );
}
console.log(`calibration set: ${files.length} images from ${values.images} (${perClass} per class)`);
