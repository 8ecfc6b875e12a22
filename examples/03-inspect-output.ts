/**
 * # Looking inside an output folder: nearest neighbours in PCA space
 *
 * An orchard output folder is plain Parquet plus a Spark ML model, so any Spark client can use it.
 * Here we load one, check what the run did, and find the images closest to a given one in the
 * PCA space: a first look at whether the features separate the classes.
 *
 * Run it on its own:  npx tsx examples/03-inspect-output.ts [OUTPUT_URI]
 * OUTPUT_URI defaults to ORCHARD_EXAMPLE_OUTPUT, then to the folder `orchard demo` writes.
 * Needs a Spark Connect server (SPARK_REMOTE, default sc://localhost:15002).
 */
import { homedir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { col, expr, functions as F, lit, outputStore, PCAModel, readRunSummary, SparkSession } from "orchard";

const remote = process.env.SPARK_REMOTE ?? "sc://localhost:15002";
const cache = process.env.ORCHARD_CACHE || join(homedir(), ".cache", "orchard");
const output =
  process.argv[2] ?? process.env.ORCHARD_EXAMPLE_OUTPUT ?? pathToFileURL(join(cache, "demo", "output")).href;
const spark = SparkSession.builder.remote(remote).getOrCreate();

// ## 1. What did the run do?
// `orchard run` writes run.json next to the data: counts, timings, k and the variance kept.
// (Example 02 calls the steps itself and writes none; then we go straight to the data.)
const summary = await readRunSummary(outputStore(output), output).catch(() => undefined);
console.log(
  summary
    ? `${output}: ${summary.counts.filesIn} images in, ${summary.counts.failed} failed, k=${summary.k}, ` +
        `${summary.imagesPerSecond.toFixed(1)} images/s`
    : `${output}: no run.json, reading data/ and pca-model/ directly`,
);

// ## 2. The data
const data = spark.read.parquet(`${output}/data`);
await data.printSchema();
const ok = data.where(col("error").isNull());
console.log(`${await ok.count()} rows with a projection`);

// ## 3. The model
// The saved PCA is a regular Spark ML PCAModel: load it and ask how much variance each component keeps.
const model = await PCAModel.load(spark, summary?.pcaModel ?? `${output}/pca-model`);
const explained = Array.from(await model.explainedVariance());
console.log(
  `model: ${explained.length} components; the first three keep ${explained
    .slice(0, 3)
    .map((v) => `${(100 * v).toFixed(1)}%`)
    .join(", ")}`,
);
await model.close();

// ## 4. Nearest neighbours of one image
// Take the first image (by path) as the query and compute, on the server, its squared Euclidean
// distance to every other image: zip the two `pca` arrays, square the differences, sum them.
const query = await ok.orderBy("path").select("path", "label", "pca").first();
if (query === undefined) throw new RangeError(`${output} holds no processed image`);
const queryPca = (query.get("pca") as ArrayLike<number>) ?? [];
console.log(`query: ${query.get("label")}  ${query.get("path")}`);
const withQuery = ok.withColumn("query", F.array(...Array.from(queryPca, (v) => lit(v))));
const neighbours = withQuery
  .where(col("path").notEqual(lit(String(query.get("path")))))
  .withColumn(
    "distance",
    F.sqrt(expr("aggregate(zip_with(pca, query, (a, b) -> (a - b) * (a - b)), 0D, (acc, d) -> acc + d)")),
  )
  .orderBy("distance")
  .limit(5)
  .select("label", F.round(col("distance"), 3).alias("distance"), "path");
await neighbours.show(5, false);
const same = (await neighbours.collect()).filter((r) => r.get("label") === query.get("label")).length;
console.log(`${same} of the 5 nearest neighbours share the query's label (${query.get("label")})`);

await spark.stop();
