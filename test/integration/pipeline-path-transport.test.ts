/**
 * The path transport end to end: `orchard run` on a local folder with `--image-transport path`
 * (the sidecar reads each file) and with `--image-transport bytes` (Spark reads them and pipes
 * them), on the real Spark server, sidecar and CNN. Same rows (paths, labels, error rows for the
 * bad files), features with cosine >= 0.999 per image, and a symbolic link out of the input
 * folder read by Spark but refused by the sidecar; and Spark's scan reads no image bytes.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { col } from "../../src/connect/functions.ts";
import { SparkSession } from "../../src/connect/spark-session.ts";
import { featurize } from "../../src/pipeline/featurize.ts";
import { readImages } from "../../src/pipeline/ingest.ts";
import type { RunSummary } from "../../src/pipeline/run-summary.ts";
import { cosine } from "../support/vectors.ts";
import { orchardOk } from "./helpers/orchard-cli.ts";
import { fruitImages } from "./sidecar-support.ts";

interface OutRow {
  path: string;
  label: string | null;
  error: string | null;
  features: number[] | null;
}

describe("orchard run --image-transport path against bytes (real Spark, sidecar, CNN)", () => {
  const work = realpathSync(mkdtempSync(join(tmpdir(), "orchard-path-transport-")));
  const input = join(work, "in");
  const spark = SparkSession.builder.remote(inject("sparkRemote")).getOrCreate();
  const out: Record<"path" | "bytes", { summary: RunSummary; rows: Map<string, OutRow> }> = {} as never;
  const bad = ["apple_red/truncated.jpg", "apple_red/notes.jpg"];
  const outsideLink = "apple_red/link-out.jpg";

  beforeAll(async () => {
    const images = fruitImages(24);
    for (const p of images) {
      const label = basename(dirname(p));
      mkdirSync(join(input, label), { recursive: true });
      copyFileSync(p, join(input, label, basename(p)));
    }
    const jpeg = readFileSync(images[0] as string);
    mkdirSync(join(input, "apple_red"), { recursive: true });
    writeFileSync(join(input, bad[0] as string), jpeg.subarray(0, jpeg.length >> 1));
    writeFileSync(join(input, bad[1] as string), "not an image\n");
    // Spark's paths are not percent-encoded: the sidecar must read this name as it is.
    copyFileSync(images[1] as string, join(input, "apple_red", "a b%20c.jpg"));
    mkdirSync(join(work, "outside"));
    copyFileSync(images[2] as string, join(work, "outside", "elsewhere.jpg"));
    symlinkSync(join(work, "outside", "elsewhere.jpg"), join(input, outsideLink));

    for (const transport of ["path", "bytes"] as const) {
      const output = join(work, `out-${transport}`);
      await orchardOk([
        "run",
        "--input",
        input,
        "--output",
        output,
        "--k",
        "2",
        "--keep-features",
        "--image-transport",
        transport,
        "--no-start",
      ]);
      const rows = await spark.read
        .parquet(pathToFileURL(join(output, "data")).href)
        .select(col("path"), col("label"), col("error"), col("features"))
        .collect();
      out[transport] = {
        summary: JSON.parse(readFileSync(join(output, "run.json"), "utf8")) as RunSummary,
        rows: new Map(
          rows.map((r) => {
            const o = r.toObject() as unknown as OutRow;
            return [o.path.slice(o.path.indexOf(input) + input.length + 1), o];
          }),
        ),
      };
    }
  }, 1_200_000);

  afterAll(async () => {
    await spark.stop();
  });

  it("records the transport asked for in run.json, and one row per input file either way", () => {
    for (const transport of ["path", "bytes"] as const) {
      const { summary, rows } = out[transport];
      expect((summary.config as { imageTransport?: string }).imageTransport).toBe(transport);
      expect(summary.counts.rowsOut).toBe(summary.counts.filesIn);
      expect(rows.size).toBe(summary.counts.filesIn);
    }
    expect([...out.path.rows.keys()].sort()).toEqual([...out.bytes.rows.keys()].sort());
  });

  it("gives the same labels and error rows for the bad files", () => {
    for (const [name, row] of out.bytes.rows) {
      expect(out.path.rows.get(name)?.label, name).toBe(row.label);
    }
    for (const name of bad) {
      const viaBytes = out.bytes.rows.get(name);
      expect(viaBytes?.error, name).toMatch(/decode/);
      // The same error; libvips' detail in parentheses varies from one decode to the next.
      const kind = (e: string | null | undefined) => e?.replace(/ \(.*\)$/, "");
      expect(kind(out.path.rows.get(name)?.error), name).toBe(kind(viaBytes?.error));
      expect(out.path.rows.get(name)?.features, name).toBeNull();
    }
  });

  it("gives the same features, cosine >= 0.999 per image", () => {
    let compared = 0;
    for (const [name, viaBytes] of out.bytes.rows) {
      if (viaBytes.error !== null || name === outsideLink) continue;
      const viaPath = out.path.rows.get(name);
      expect(viaPath?.error, name).toBeNull();
      expect(viaPath?.features?.length, name).toBe(viaBytes.features?.length);
      expect(cosine(viaPath?.features ?? [], viaBytes.features ?? []), name).toBeGreaterThanOrEqual(0.999);
      compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(25);
    expect(out.path.rows.get("apple_red/a b%20c.jpg")?.error).toBeNull();
  });

  it("refuses a symbolic link out of the input folder with the path transport (Spark follows it with bytes)", () => {
    expect(out.bytes.rows.get(outsideLink)?.error).toBeNull();
    expect(out.path.rows.get(outsideLink)?.error).toBe("read: a symbolic link out of the exchange's read roots");
    expect(out.path.rows.get(outsideLink)?.features).toBeNull();
  });

  it("has Spark read no image bytes with the path transport: the scan's ReadSchema has no content", async () => {
    const plan = async (readRoots?: string[]) => {
      const images = readImages(spark, { uri: pathToFileURL(input).href, extensions: ["jpg"] });
      const df = await featurize(spark, images, {
        sidecar: inject("sidecar"),
        view: `orchard_plan_${readRoots ? "path" : "bytes"}`,
        ...(readRoots ? { readRoots } : {}),
      });
      return [...(await df.explainString()).matchAll(/ReadSchema: (struct<[^>]*>)/g)].map((m) => m[1]);
    };
    const viaPath = await plan([`file:${input}`]);
    expect(viaPath.length).toBeGreaterThan(0);
    for (const schema of viaPath) expect(schema).not.toContain("content");
    expect((await plan()).some((schema) => schema?.includes("content:binary"))).toBe(true);
  });
});
