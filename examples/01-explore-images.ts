/**
 * # Exploring the images with the DataFrame API
 *
 * Before running a batch job on a bucket of images, look at what is in it: how many images per
 * class, how big they are, and whether anything looks odd. Spark's `binaryFile` source lists the
 * files (and could read their bytes); we only ask for metadata, so nothing large leaves the server.
 *
 * Run it on its own:  npx tsx examples/01-explore-images.ts
 * Settings (environment): SPARK_REMOTE (default sc://localhost:15002), ORCHARD_CACHE (where
 * `npm run demo` / `scripts/setup.sh data` built the sample set; default ~/.cache/orchard).
 */
import { homedir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { col, functions as F, SparkSession } from "orchard";

const remote = process.env.SPARK_REMOTE ?? "sc://localhost:15002";
const fruits = join(process.env.ORCHARD_CACHE || join(homedir(), ".cache", "orchard"), "data", "fruits");
const spark = SparkSession.builder.remote(remote).getOrCreate();
console.log(`Spark ${await spark.version()}; images under ${fruits}`);

// ## 1. List the files
// `recursiveFileLookup` walks the class folders; the label is the parent folder's name and the
// split (Training / Test) the one above it. Only `path` and `length` are selected, so Spark never
// reads the image bytes.
const files = spark.read
  .format("binaryFile")
  .option("pathGlobFilter", "*.{jpg,jpeg,png}")
  .option("recursiveFileLookup", "true")
  .load(pathToFileURL(fruits).href)
  .select(
    col("path"),
    col("length"),
    F.element_at(F.split(col("path"), "/"), -2).alias("label"),
    F.element_at(F.split(col("path"), "/"), -3).alias("split"),
  );
await files.printSchema();
const total = await files.count();
console.log(`${total} image files`);

// ## 2. Images per split and per class
// A balanced set has the same count in every class; a class with far fewer images would be worth
// a look before training anything on it.
await files.groupBy("split").count().orderBy("split").show();
const perLabel = files
  .groupBy("label")
  .agg(F.count("path").alias("images"))
  .orderBy(col("images").desc(), col("label"));
await perLabel.show(10);
const labels = await perLabel.count();
console.log(`${labels} classes`);

// ## 3. File sizes
// Sizes per class: the photos are 100x100 JPEGs, so they should all be small; an outlier here is
// often a file that is not what its extension says.
await files
  .groupBy("label")
  .agg(
    F.min("length").alias("min_bytes"),
    F.round(F.avg("length"), 0).alias("avg_bytes"),
    F.max("length").alias("max_bytes"),
  )
  .orderBy(col("avg_bytes").desc())
  .show(5);

// ## 4. The largest files overall
const largest = await files.orderBy(col("length").desc()).limit(3).select("label", "length", "path").collect();
for (const r of largest) console.log(`${r.get("label")}: ${r.get("length")} bytes  ${r.get("path")}`);

await spark.stop();
