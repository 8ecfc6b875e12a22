import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { uploadFolder } from "../../src/cli/local/s3-objects.ts";
import type { LocalSpark } from "../../src/cli/local/spark-server.ts";
import { SparkServerError } from "../../src/connect/errors.ts";
import { array_to_vector, col, vector_to_array } from "../../src/connect/functions.ts";
import { SparkSession } from "../../src/connect/spark-session.ts";
import type { RunSummary } from "../../src/pipeline/run-summary.ts";
import { s3Client } from "../../src/s3.ts";
import { cliEnv } from "./helpers/cli-env.ts";
import { startExtraSpark } from "./helpers/extra-spark.ts";
import { REPO_ROOT, spark40Layout, testLayout } from "./helpers/test-paths.ts";

const run = promisify(execFile);

// EMR's emr-spark-8.0.0 ships Spark 4.0.2, emr-spark-8.1.0 Spark 4.1: the same `orchard run`, on
// the same images, against a real Spark 4.0.2 Connect server and the shared 4.1 server, with the
// shared sidecar and MinIO. Both runs must succeed, record their server's version, and agree.

const s3 = inject("s3");
const client = await s3Client(s3);
const prefix = `server-versions-${Date.now()}`;
const base = `s3a://${s3.bucket}/${prefix}`;
const CLASSES = ["apple_red", "banana", "broccoli"];
const PER_CLASS = 8;
let spark40: LocalSpark | undefined;

async function orchard(remote: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, [join(REPO_ROOT, "bin", "orchard.mjs"), ...args], {
    cwd: REPO_ROOT,
    timeout: 600_000,
    maxBuffer: 16 * 1024 * 1024,
    env: { ...cliEnv(), SPARK_REMOTE: remote },
  });
}

async function runJson(output: string): Promise<RunSummary> {
  const key = `${output.replace(`s3a://${s3.bucket}/`, "")}/run.json`;
  const out = await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
  return JSON.parse(await (out.Body as { transformToString(): Promise<string> }).transformToString()) as RunSummary;
}

beforeAll(async () => {
  const layout = spark40Layout();
  if (layout === undefined) throw new Error("Spark 4.0.2 is not installed: run `bash scripts/setup.sh spark40`");
  // Started while the images are staged.
  const starting = startExtraSpark({
    layout,
    master: "local[2]",
    conf: { "spark.sql.shuffle.partitions": "2" },
    s3,
  });
  const fruits = join(testLayout().cacheRoot, "data", "fruits", "Training");
  const dir = mkdtempSync(join(tmpdir(), "orchard-versions-"));
  for (const label of CLASSES) {
    mkdirSync(join(dir, label));
    for (const name of readdirSync(join(fruits, label)).sort().slice(0, PER_CLASS)) {
      copyFileSync(join(fruits, label, name), join(dir, label, name));
    }
  }
  await uploadFolder(client, { bucket: s3.bucket, prefix: `${prefix}/in`, dir });
  spark40 = await starting;
}, 300_000);

afterAll(async () => {
  await spark40?.stop();
});

describe("array_to_vector on Spark 4.0.2", () => {
  // PySpark 4.0's Connect client sends `array_to_vector` as a plain unresolved function
  // (pyspark/ml/connect/functions.py: `_invoke_function("array_to_vector", col)`), as orchard does;
  // the server resolves it in the internal function registry that spark-mllib's
  // InternalFunctionRegistration extension fills. Only SQL text cannot name it (on 4.1 too).
  it("works as a DataFrame function; SQL text gets UNRESOLVED_ROUTINE", async () => {
    const spark = SparkSession.builder.remote((spark40 as LocalSpark).remote).create();
    try {
      expect(await spark.version()).toBe("4.0.2");
      const df = spark.sql("SELECT array(CAST(1.5 AS FLOAT), 2.0, -3.0) AS a");
      const [row] = await df.select(vector_to_array(array_to_vector(col("a")), "float32").alias("v")).collect();
      expect(Array.from(row?.get("v") as ArrayLike<number>)).toEqual([1.5, 2, -3]);
      const err = await spark
        .sql("SELECT array_to_vector(array(1.0D)) AS v")
        .collect()
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(err).toBeInstanceOf(SparkServerError);
      expect((err as SparkServerError).errorClass).toBe("UNRESOLVED_ROUTINE");
    } finally {
      await spark.stop();
    }
  });
});

describe("Spark 4.0.2 (emr-spark-8.0.0) and 4.1 servers", () => {
  let on40: RunSummary;
  let on41: RunSummary;
  let stdout40 = "";

  beforeAll(async () => {
    const server = spark40 as LocalSpark;
    const args = (out: string) => [
      "run",
      "--input",
      `${base}/in`,
      "--output",
      out,
      "--k",
      "5",
      "--no-start",
      "--quiet",
    ];
    stdout40 = (await orchard(server.remote, args(`${base}/out-40`))).stdout;
    on40 = await runJson(`${base}/out-40`);
    await orchard(inject("sparkRemote"), args(`${base}/out-41`));
    on41 = await runJson(`${base}/out-41`);
  }, 900_000);

  it("runs the whole pipeline on 4.0.2 and records the server's version in run.json", () => {
    const images = CLASSES.length * PER_CLASS;
    expect(stdout40).toMatch(new RegExp(`images: +${images} in, ${images} rows out, 0 failed`));
    expect(stdout40).toMatch(/^spark: +4\.0\.2$/m);
    expect(on40.sparkVersion).toBe("4.0.2");
    expect(on41.sparkVersion).toMatch(/^4\.1\./);
    expect(on40.counts).toEqual({ filesIn: images, rowsOut: images, failed: 0 });
    expect(on40.k).toBe(5);
  });

  it("fits the same PCA on both servers", () => {
    expect(on40.featureDim).toBe(on41.featureDim);
    const ev40 = on40.explainedVariance ?? [];
    const ev41 = on41.explainedVariance ?? [];
    expect(ev40).toHaveLength(5);
    ev40.forEach((v, i) => {
      expect(Math.abs(v - (ev41[i] as number))).toBeLessThan(1e-6);
    });
  });

  it("writes the same projections (up to each component's sign)", async () => {
    const spark = SparkSession.builder.remote(inject("sparkRemote")).create();
    try {
      const read = (out: string) => spark.read.parquet(`${out}/data`).select("path", "pca");
      const rows = await read(`${base}/out-40`)
        .withColumnRenamed("pca", "pca40")
        .join(read(`${base}/out-41`).withColumnRenamed("pca", "pca41"), "path")
        .collect();
      expect(rows.length).toBe(CLASSES.length * PER_CLASS);
      let maxDiff = 0;
      for (const r of rows) {
        const a = Array.from(r.get("pca40") as ArrayLike<number>);
        const b = Array.from(r.get("pca41") as ArrayLike<number>);
        expect(a).toHaveLength(5);
        a.forEach((x, i) => {
          maxDiff = Math.max(maxDiff, Math.abs(Math.abs(x) - Math.abs(b[i] as number)));
        });
      }
      expect(maxDiff).toBeLessThan(1e-3);
    } finally {
      await spark.stop();
    }
  });
});
