/**
 * The bridge inside real Spark: `SELECT TRANSFORM(path, base64(content)) ... USING
 * 'orchard-bridge --sidecar host:port'` over a binaryFile read, several partitions (so several
 * bridges share the sidecar), run by PySpark's own Connect client against the shared Spark
 * server. Spark 4's default chunked base64 is used as is.
 */
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type Featurizer, loadFeaturizer } from "../../udf-server/src/featurizer.ts";
import type { SidecarHandle } from "../../udf-server/src/manage/start-sidecar.ts";
import { withPySpark } from "./helpers/pyspark-client.ts";
import { REPO_ROOT, TEST_LOG_DIR } from "./helpers/test-paths.ts";
import { fruitImages, maxAbsDiff, startTestSidecar } from "./sidecar-support.ts";

interface SparkRow {
  path: string;
  features: string | null;
  error: string | null;
  width: number | null;
  height: number | null;
}

describe("orchard-bridge in Spark's script transformation", () => {
  let sidecar: SidecarHandle;
  let featurizer: Featurizer;
  const dir = join(TEST_LOG_DIR, `bridge-spark-images-${process.pid}`);

  beforeAll(async () => {
    sidecar = await startTestSidecar("bridge-spark");
    featurizer = await loadFeaturizer({ model: "efficientnet-lite0", threads: 2 });
    mkdirSync(dir, { recursive: true });
  });

  afterAll(async () => {
    await featurizer?.close();
    await sidecar?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("returns one row per file with the in-process features, or a clear error", async () => {
    const images = fruitImages(30);
    for (const p of images) copyFileSync(p, join(dir, basename(p)));
    const jpeg = readFileSync(images[0] as string);
    writeFileSync(join(dir, "truncated.jpg"), jpeg.subarray(0, jpeg.length >> 1));
    writeFileSync(join(dir, "notes.jpg"), "not an image at all\n");
    writeFileSync(join(dir, "empty.jpg"), "");

    const bridge = join(REPO_ROOT, "udf-server", "bin", "orchard-bridge");
    const { input, rows } = await withPySpark<{ input: string[]; rows: SparkRow[] }>(
      inject("sparkRemote"),
      `
df = spark.read.format("binaryFile").load(${JSON.stringify(dir)}).repartition(3)
df.createOrReplaceTempView("orchard_bridge_images")
q = r"""
SELECT TRANSFORM(path, base64(content))
  ROW FORMAT DELIMITED FIELDS TERMINATED BY '\\t' LINES TERMINATED BY '\\n' NULL DEFINED AS '\\\\N'
  USING '${bridge} --sidecar ${sidecar.address} --secret-file ${sidecar.secretFile}'
  AS (path string, features string, error string, width int, height int)
  ROW FORMAT DELIMITED FIELDS TERMINATED BY '\\t' LINES TERMINATED BY '\\n' NULL DEFINED AS '\\\\N'
FROM orchard_bridge_images
"""
print(json.dumps({
    "input": [r.path for r in df.select("path").collect()],
    "rows": [r.asDict() for r in spark.sql(q).collect()],
}))
`,
    );
    // Spark's file scan skips zero-byte files: empty.jpg never reaches the bridge.
    const files = [...images.map((p) => basename(p)), "truncated.jpg", "notes.jpg"];
    expect(input.map((p) => basename(p)).sort()).toEqual([...files].sort());
    expect(rows).toHaveLength(input.length);
    const byName = new Map(rows.map((r) => [basename(r.path), r]));
    expect([...byName.keys()].sort()).toEqual([...files].sort());

    const local = await featurizer.featurize(images.map((p) => readFileSync(p)));
    let worst = 0;
    for (const [i, p] of images.entries()) {
      const row = byName.get(basename(p)) as SparkRow;
      expect(row.error, p).toBeNull();
      expect([row.width, row.height], p).toEqual([local[i]?.width, local[i]?.height]);
      const features = (JSON.parse(row.features ?? "[]") as number[]).map(Math.fround);
      worst = Math.max(worst, maxAbsDiff(features, local[i]?.features ?? []));
    }
    expect(worst).toBeLessThanOrEqual(1e-5);
    expect(byName.get("truncated.jpg")?.error).toMatch(/^decode: truncated or corrupt image/);
    expect(byName.get("notes.jpg")?.error).toMatch(/^decode: unsupported image format/);
    for (const name of ["truncated.jpg", "notes.jpg"]) {
      expect(byName.get(name)?.features).toBeNull();
      expect(byName.get(name)?.width).toBeNull();
    }
  });
});
