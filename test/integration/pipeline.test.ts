import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { crc32, deflateSync } from "node:zlib";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import sharp from "sharp";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { listObjects, uploadFolder } from "../../src/cli/local/s3-objects.ts";
import type { RunSummary } from "../../src/pipeline/run-summary.ts";
import { s3Client } from "../../src/s3.ts";
import { orchardOk } from "./helpers/orchard-cli.ts";
import { withPySpark } from "./helpers/pyspark-client.ts";
import { REPO_ROOT, testLayout } from "./helpers/test-paths.ts";

const orchard = (args: string[]) => orchardOk(args, { timeout: 1_200_000 });

const run = promisify(execFile);

// The whole pipeline as a user runs it: the sample set on S3 (MinIO), `orchard run` from s3a:// to
// s3a:// on the real Spark Connect server with the real sidecar and CNN, bad files mixed in; then
// `orchard transform` with the saved model; every result checked by independent readers.

const s3 = inject("s3");
const remote = inject("sparkRemote");
const prefix = `pipeline-${Date.now()}`;
const base = `s3a://${s3.bucket}/${prefix}`;
const client = await s3Client(s3);

/**
 * A decompression bomb: a valid 30000x30000 PNG (1-bit grayscale, all black) whose 112 MB of raw
 * scanlines deflate to about 100 KB.
 */
function bombPng(): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), 8 + data.length);
    return out;
  };
  const side = 30000;
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0);
  ihdr.writeUInt32BE(side, 4);
  ihdr.set([1, 0, 0, 0, 0], 8);
  const scanlines = Buffer.alloc(side * (1 + Math.ceil(side / 8)));
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(scanlines, { level: 9 })),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** Files that must each become a row with an error (name -> bytes), and odd ones that must work. */
async function oddFiles(sampleJpeg: Buffer): Promise<{ bad: Record<string, Buffer>; good: Record<string, Buffer> }> {
  return {
    bad: {
      "bad-empty.jpg": Buffer.alloc(0),
      "bad-truncated.jpg": sampleJpeg.subarray(0, Math.floor(sampleJpeg.length / 3)),
      "bad-text.jpg": Buffer.from("this is not an image\n".repeat(20)),
      "bad-random.png": Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 251)),
      "bad-bomb.png": bombPng(),
    },
    good: {
      "odd-gray.png": await sharp(sampleJpeg).grayscale().png().toBuffer(),
      "odd-cmyk.jpg": await sharp(sampleJpeg).toColourspace("cmyk").jpeg().toBuffer(),
      "odd-alpha.png": await sharp(sampleJpeg).ensureAlpha(0.5).png().toBuffer(),
      // Extensions match in any case, in Spark's glob and in the driver's listing alike.
      "odd-case.Jpg": sampleJpeg,
    },
  };
}

async function runJson(uri: string): Promise<RunSummary> {
  const key = `${uri.replace(`s3a://${s3.bucket}/`, "")}/run.json`;
  const out = await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
  return JSON.parse(await (out.Body as { transformToString(): Promise<string> }).transformToString()) as RunSummary;
}

interface Check {
  schema: string[];
  test_schema: string[];
  train_rows: number;
  test_rows: number;
  errors: Record<string, string>;
  failed_have_null_pca: boolean;
  k: number;
  numpy_explained_variance: number[];
  projection_rel_diff_first10: number[];
  knn_accuracy: number;
  test_classified: number;
}

describe("orchard run on S3 (real Spark, MinIO, sidecar, CNN)", () => {
  const fruits = join(testLayout().cacheRoot, "data", "fruits");
  let trainFiles = 0;
  let testFiles = 0;
  let bad: string[] = [];
  let runOut = { stdout: "", stderr: "" };
  let trainSummary: RunSummary;
  let testSummary: RunSummary;
  let check: Check;

  beforeAll(async () => {
    const appleDir = join(fruits, "Training", "apple_red");
    const sample = readFileSync(join(appleDir, readdirSync(appleDir).sort()[0] as string));
    const odd = await oddFiles(sample);
    const oddDir = mkdtempSync(join(tmpdir(), "orchard-odd-"));
    for (const [name, bytes] of Object.entries({ ...odd.bad, ...odd.good })) writeFileSync(join(oddDir, name), bytes);
    bad = Object.keys(odd.bad);
    trainFiles = (
      await uploadFolder(client, {
        bucket: s3.bucket,
        prefix: `${prefix}/fruits/Training`,
        dir: join(fruits, "Training"),
      })
    ).length;
    trainFiles += (
      await uploadFolder(client, { bucket: s3.bucket, prefix: `${prefix}/fruits/Training/apple_red`, dir: oddDir })
    ).length;
    testFiles = (
      await uploadFolder(client, { bucket: s3.bucket, prefix: `${prefix}/fruits/Test`, dir: join(fruits, "Test") })
    ).length;

    runOut = await orchard([
      "run",
      "--input",
      `${base}/fruits/Training`,
      "--output",
      `${base}/out/train`,
      "--k",
      "50",
      "--keep-features",
      "--no-start",
    ]);
    await orchard([
      "transform",
      "--pca-model",
      `${base}/out/train/pca-model`,
      "--input",
      `${base}/fruits/Test`,
      "--output",
      `${base}/out/test`,
      "--no-start",
    ]);
    trainSummary = await runJson(`${base}/out/train`);
    testSummary = await runJson(`${base}/out/test`);

    const python = join(testLayout().pythonVenv, "bin", "python");
    const { stdout } = await run(
      python,
      [
        join(REPO_ROOT, "test/integration/python/check_pipeline_output.py"),
        s3.endpoint,
        s3.accessKeyId,
        s3.secretAccessKey,
        `${base}/out/train`,
        `${base}/out/test`,
      ],
      { maxBuffer: 256 * 1024 * 1024, timeout: 600_000 },
    );
    check = JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as Check;
  }, 1_800_000);

  it("prints a summary and one line per step", () => {
    expect(runOut.stderr).toMatch(/\[1\/\d\] listing images: done/);
    expect(runOut.stderr).toMatch(/\[\d\/\d\] writing Parquet and the model: done/);
    expect(runOut.stdout).toMatch(
      new RegExp(`images: +${trainFiles} in, ${trainFiles} rows out, ${bad.length} failed`),
    );
  });

  it("shows a moving image count from the sidecar inside the features step, within 5 s of its start", () => {
    const lines = runOut.stderr.split("\n");
    const start = lines.findIndex((l) => /^\[2\/\d\] CNN features on the executors \.\.\.$/.test(l));
    const done = lines.findIndex((l) => /^\[2\/\d\] CNN features on the executors: done/.test(l));
    expect(start).toBeGreaterThanOrEqual(0);
    expect(done).toBeGreaterThan(start);
    const counted = lines
      .slice(start + 1, done)
      .map((l) => /: images (\d+)\/(\d+), [\d.]+ images\/s.*?([\d.]+) s elapsed$/.exec(l))
      .filter((m) => m !== null);
    expect(counted.length).toBeGreaterThan(0);
    const [, first, total, elapsed] = counted[0] as RegExpExecArray;
    expect(Number(total)).toBe(trainFiles);
    expect(Number(first)).toBeGreaterThan(0);
    expect(Number(first)).toBeLessThan(trainFiles);
    expect(Number(elapsed)).toBeLessThanOrEqual(5);
  });

  it("keeps one row per input file, the bad ones with an error (run.json and the Parquet agree)", () => {
    expect(trainSummary.counts).toEqual({ filesIn: trainFiles, rowsOut: trainFiles, failed: bad.length });
    expect(check.train_rows).toBe(trainFiles);
    expect(Object.keys(check.errors).sort()).toEqual([...bad].sort());
    for (const message of Object.values(check.errors)) expect(message.length).toBeGreaterThan(5);
    expect(check.errors["bad-bomb.png"]).toMatch(/pixels|too large/i);
    expect(check.failed_have_null_pca).toBe(true);
    expect(testSummary.counts).toEqual({ filesIn: testFiles, rowsOut: testFiles, failed: 0 });
    expect(check.test_rows).toBe(testFiles);
  });

  it("writes files/ (the per-file state) in no more Parquet parts than featurize tasks, not one per scan partition", async () => {
    const parts = (await listObjects(client, s3.bucket, `${prefix}/out/train/files/`)).filter((o) =>
      o.key.endsWith(".parquet"),
    );
    expect(parts.length).toBeGreaterThan(0);
    expect(parts.length).toBeLessThanOrEqual(trainSummary.partitions);
  });

  it("writes DESIGN.md's schema, read back by pyarrow", () => {
    expect(check.schema).toEqual([
      "path:string",
      "label:string",
      "width:int32",
      "height:int32",
      "features:list<element: float>",
      "pca:list<element: float>",
      "error:string",
    ]);
    expect(check.test_schema).not.toContain("features:list<element: float>");
  });

  it("computes the same PCA as numpy (explained variance within 1e-3, projections up to sign)", () => {
    expect(check.k).toBe(50);
    expect(trainSummary.k).toBe(50);
    const ours = trainSummary.explainedVariance ?? [];
    expect(ours).toHaveLength(50);
    ours.forEach((v, i) => {
      expect(Math.abs(v - (check.numpy_explained_variance[i] as number))).toBeLessThan(1e-3);
    });
    for (const d of check.projection_rel_diff_first10) expect(d).toBeLessThan(1e-3);
  });

  it("separates the fruit: 1-NN on the PCA features scores >= 85% on Test/", () => {
    expect(check.test_classified).toBe(testFiles);
    expect(check.knn_accuracy).toBeGreaterThanOrEqual(0.85);
  });

  it("saves a model PySpark's PCAModel.load reads, with the same explained variance", async () => {
    const loaded = await withPySpark<{ k: number; ev: number[]; rows: number; cols: number }>(
      remote,
      [
        "from pyspark.ml.feature import PCAModel",
        `m = PCAModel.load(${JSON.stringify(`${base}/out/train/pca-model`)})`,
        "print(json.dumps({'k': m.getK(), 'ev': m.explainedVariance.toArray().tolist(), 'rows': m.pc.numRows, 'cols': m.pc.numCols}))",
      ].join("\n"),
    );
    expect(loaded.k).toBe(50);
    expect(loaded.rows).toBe(trainSummary.featureDim);
    expect(loaded.cols).toBe(50);
    loaded.ev.forEach((v, i) => {
      expect(v).toBeCloseTo((trainSummary.explainedVariance ?? [])[i] as number, 9);
    });
  });

  it("reproduces the fit-time projections with orchard transform", async () => {
    await orchard([
      "transform",
      "--pca-model",
      `${base}/out/train/pca-model`,
      "--input",
      `${base}/fruits/Training`,
      "--sample",
      "2",
      "--output",
      `${base}/out/again`,
      "--no-start",
    ]);
    const compared = await withPySpark<{ rows: number; maxDiff: number }>(
      remote,
      [
        `a = spark.read.parquet(${JSON.stringify(`${base}/out/train/data`)}).select('path', 'pca')`,
        `b = spark.read.parquet(${JSON.stringify(`${base}/out/again/data`)}).selectExpr('path', 'pca as pca2')`,
        "rows = a.join(b, 'path').where('pca is not null').collect()",
        "diff = max(abs(x - y) for r in rows for x, y in zip(r.pca, r.pca2))",
        "print(json.dumps({'rows': len(rows), 'maxDiff': diff}))",
      ].join("\n"),
    );
    expect(compared.rows).toBeGreaterThanOrEqual(80);
    expect(compared.maxDiff).toBeLessThan(1e-4);
    expect((await listObjects(client, s3.bucket, `${prefix}/out/again/pca-model`)).length).toBe(0);
  });
});
