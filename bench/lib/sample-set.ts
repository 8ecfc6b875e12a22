/**
 * The benches' image sets: the first `n` images of the sample set's Training split (round-robin
 * over classes, deterministic), and folders holding `copies` copies of them under new names (one
 * folder per class), for runs at 1x, 4x, 8x, 16x the sample set.
 */
import { copyFileSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { cacheRoot } from "../../scripts/lib/paths.ts";

/** One image of the base set: its class (folder name) and file. */
export interface BaseImage {
  label: string;
  file: string;
}

/** The first `n` Training images (all of them by default), round-robin over classes so every subset has every class. */
export function baseImages(n = Number.POSITIVE_INFINITY): BaseImage[] {
  const root = join(cacheRoot(), "data", "fruits", "Training");
  const byClass = new Map<string, string[]>();
  for (const label of readdirSync(root).sort()) {
    byClass.set(
      label,
      readdirSync(join(root, label))
        .sort()
        .map((f) => join(root, label, f)),
    );
  }
  const out: BaseImage[] = [];
  for (let i = 0; out.length < n && [...byClass.values()].some((files) => i < files.length); i++) {
    for (const [label, files] of byClass) {
      const file = files[i];
      if (file !== undefined && out.length < n) out.push({ label, file });
    }
  }
  return out;
}

/** `dir` filled with `copies` copies of every image (`c<i>-<name>`, one folder per class); returns `dir`. */
export function copiesDataset(images: readonly BaseImage[], copies: number, dir: string): string {
  for (const { label, file } of images) {
    mkdirSync(join(dir, label), { recursive: true });
    for (let c = 0; c < copies; c++) copyFileSync(file, join(dir, label, `c${c}-${file.split("/").at(-1)}`));
  }
  return dir;
}
