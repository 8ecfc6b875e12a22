import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { array_to_vector, col, vector_to_array } from "../../src/connect/functions.ts";
import { SparkSession } from "../../src/connect/spark-session.ts";
import { PCA, PCAModel } from "../../src/ml/pca.ts";
import { withPySpark } from "./helpers/pyspark-client.ts";

// Spark ML's PCA driven through orchard's ML commands on the real server, checked against an
// independent computation (power iteration on the covariance, here in the test) and PySpark.

const rows = [
  [2.5, 2.4, 0.5],
  [0.5, 0.7, 1.5],
  [2.2, 2.9, 0.1],
  [1.9, 2.2, 0.9],
  [3.1, 3.0, 0.3],
  [2.3, 2.7, 0.8],
  [2.0, 1.6, 1.1],
  [1.0, 1.1, 1.9],
  [1.5, 1.6, 1.2],
  [1.1, 0.9, 2.0],
];

/** Eigen-decomposition of the sample covariance by power iteration with deflation. */
function covarianceEigen(x: number[][], k: number): { values: number[]; vectors: number[][] } {
  const n = x.length;
  const d = (x[0] as number[]).length;
  const mean = Array.from({ length: d }, (_, j) => x.reduce((s, r) => s + (r[j] as number), 0) / n);
  const cov = Array.from({ length: d }, (_, i) =>
    Array.from(
      { length: d },
      (_, j) =>
        x.reduce((s, r) => s + ((r[i] as number) - (mean[i] as number)) * ((r[j] as number) - (mean[j] as number)), 0) /
        (n - 1),
    ),
  );
  const total = cov.reduce((s, r, i) => s + (r[i] as number), 0);
  const values: number[] = [];
  const vectors: number[][] = [];
  for (let c = 0; c < k; c++) {
    let v = Array.from({ length: d }, (_, i) => 1 + i);
    let lambda = 0;
    for (let it = 0; it < 5000; it++) {
      const w = cov.map((r) => r.reduce((s, a, j) => s + a * (v[j] as number), 0));
      const norm = Math.hypot(...w);
      v = w.map((a) => a / norm);
      lambda = norm;
    }
    values.push(lambda / total);
    vectors.push(v);
    for (let i = 0; i < d; i++)
      for (let j = 0; j < d; j++)
        (cov[i] as number[])[j] = (cov[i]?.[j] as number) - lambda * (v[i] as number) * (v[j] as number);
  }
  return { values, vectors };
}

describe("Spark ML PCA over Spark Connect", () => {
  const remote = inject("sparkRemote");
  const spark = SparkSession.builder.remote(remote).getOrCreate();
  const df = spark
    .createDataFrame(
      rows.map((f) => ({ f })),
      "f array<double>",
    )
    .select(array_to_vector(col("f")).alias("v"));
  let model: PCAModel;
  const path = `/tmp/orchard-ml-pca-${process.pid}-${Date.now()}`;

  beforeAll(async () => {
    model = await new PCA({ k: 2, inputCol: "v", outputCol: "p" }).fit(df);
  });
  afterAll(async () => {
    await model.close();
    await spark.stop();
  });

  it("fits on the server: explained variance and components match the covariance's eigen-decomposition", async () => {
    const expected = covarianceEigen(rows, 2);
    const ev = await model.explainedVariance();
    expect(ev).toHaveLength(2);
    ev.forEach((v, i) => {
      expect(v).toBeCloseTo(expected.values[i] as number, 9);
    });
    const pc = await model.pc();
    expect([pc.numRows, pc.numCols]).toEqual([3, 2]);
    for (let c = 0; c < 2; c++) {
      const ours = [0, 1, 2].map((i) => pc.get(i, c));
      const ref = expected.vectors[c] as number[];
      const sign = Math.sign(ours.reduce((s, a, i) => s + a * (ref[i] as number), 0));
      ours.forEach((a, i) => {
        expect(a * sign).toBeCloseTo(ref[i] as number, 6);
      });
    }
  });

  it("transforms on the server: each projection is the features times the components", async () => {
    const pc = await model.pc();
    const out = await model
      .transform(df)
      .select(vector_to_array(col("v")).alias("v"), vector_to_array(col("p")).alias("p"))
      .collect();
    expect(out).toHaveLength(rows.length);
    for (const r of out) {
      const v = r.get("v") as number[];
      const p = r.get("p") as number[];
      for (let c = 0; c < 2; c++) {
        expect(p[c] as number).toBeCloseTo(
          v.reduce((s, a, i) => s + a * pc.get(i, c), 0),
          9,
        );
      }
    }
  });

  it("saves in Spark ML's format: PySpark loads it, orchard loads it back with its params", async () => {
    await model.save(`file://${path}`, { overwrite: true });
    const fromPySpark = await withPySpark<{ k: number; ev: number[] }>(
      remote,
      `from pyspark.ml.feature import PCAModel\nm = PCAModel.load(${JSON.stringify(`file://${path}`)})\nprint(json.dumps({'k': m.getK(), 'ev': m.explainedVariance.toArray().tolist()}))`,
    );
    const ev = Array.from(await model.explainedVariance());
    expect(fromPySpark.k).toBe(2);
    fromPySpark.ev.forEach((v, i) => {
      expect(v).toBeCloseTo(ev[i] as number, 12);
    });
    const loaded = await PCAModel.load(spark, `file://${path}`);
    expect(loaded.params).toEqual({ k: 2, inputCol: "v", outputCol: "p" });
    expect(Array.from(await loaded.explainedVariance())).toEqual(ev);
    await loaded.close();
  });

  it("frees the server-side model on close: using it afterwards is a server error", async () => {
    const temp = await new PCA({ k: 1, inputCol: "v", outputCol: "p" }).fit(df);
    await temp.close();
    await expect(temp.explainedVariance()).rejects.toMatchObject({ kind: "server" });
  });
});
