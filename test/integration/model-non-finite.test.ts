/**
 * A model whose features come out NaN for some images (a user model, built here with the onnx
 * package of the project's Python venv): those images get an error row instead of features that
 * would poison the PCA, and the others in the same batch keep theirs.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, describe, expect, it } from "vitest";
import { pythonVenv } from "../../scripts/lib/paths.ts";
import { loadFeaturizer, NON_FINITE_FEATURES } from "../../udf-server/src/featurizer.ts";

const dir = mkdtempSync(join(tmpdir(), "orchard-nan-model-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const square = (v: number) =>
  sharp({ create: { width: 32, height: 32, channels: 3, background: { r: v, g: v, b: v } } })
    .png()
    .toBuffer();

describe("non-finite features", () => {
  it("become an error row; finite ones in the same batch are kept", async () => {
    execFileSync(join(pythonVenv(), "bin", "python"), [join(import.meta.dirname, "python", "nan_model.py"), dir]);
    const f = await loadFeaturizer({ model: join(dir, "model.onnx"), threads: 1 });
    try {
      const [bright, dark] = await f.featurize([await square(228), await square(28)]);
      expect(bright?.error).toBeNull();
      expect(Array.from(bright?.features ?? [])).toEqual([10, 10, 10]); // sqrt(228 - 128)
      expect(dark).toMatchObject({ features: null, error: NON_FINITE_FEATURES, width: null, height: null });
    } finally {
      await f.close();
    }
  });
});
