import { rmSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { array_to_vector, col, expr, from_json, vector_to_array } from "../../connect/functions.ts";
import type { SparkSession } from "../../connect/spark-session.ts";
import { KMeans } from "../../ml/kmeans.ts";
import { PCA } from "../../ml/pca.ts";

/** Length of the warm-up's feature vectors: enough for PCA's and KMeans's code paths, cheap to make. */
const DIM = 16;

/**
 * Runs, on a Spark Connect server just started, a small job of each kind a run is made of, so that
 * the JVM has loaded and compiled their classes before the first real run: features parsed from
 * JSON text (as the bridge's come back), a PCA fit and projection, a Parquet write and read, a
 * `binaryFile` scan, a KMeans fit (the report's) and an Arrow collect. About 2,000 rows, in
 * `workDir` (removed afterwards). On 2 cores it takes ~8.5 s, and the first run of the sample set on
 * a fresh server then takes 1.07-1.1x a warm run instead of 1.6x (bench/README.md).
 */
export async function warmUpSpark(spark: SparkSession, workDir: string): Promise<void> {
  const dir = join(workDir, "warm-up");
  const uri = pathToFileURL(dir).href;
  const values = Array.from({ length: DIM }, (_, i) => `rand(${i + 1})`).join(", ");
  const rows = spark
    .range(0, 2048, 1, 2)
    .select(col("id"), from_json(expr(`to_json(array(${values}))`), "array<float>").alias("features"))
    .withColumn("vec", array_to_vector(col("features")));
  const pca = await new PCA({ k: 4, inputCol: "vec", outputCol: "projected" }).fit(rows);
  try {
    await pca
      .transform(rows)
      .select(col("id"), vector_to_array(col("projected"), "float32").alias("pca"))
      .write.mode("overwrite")
      .parquet(uri);
    const written = spark.read.parquet(uri).withColumn("vec", array_to_vector(col("pca")));
    await written.count();
    await spark.read
      .format("binaryFile")
      .option("pathGlobFilter", "*.parquet")
      .load(uri)
      .select("path", "length")
      .count();
    const kmeans = await new KMeans({ k: 3, seed: 1, featuresCol: "vec", predictionCol: "cluster" }).fit(written);
    try {
      await kmeans.transform(written).select("id", "cluster").limit(100).toArrow();
    } finally {
      await kmeans.close();
    }
  } finally {
    await pca.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
