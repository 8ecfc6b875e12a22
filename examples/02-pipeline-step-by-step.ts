/**
 * # The pipeline, one step at a time
 *
 * `orchard run` does four things: list the images, compute CNN features on the executors (through
 * the sidecar), fit a PCA, write Parquet. Here we call the same functions ourselves and look at
 * each intermediate result, on a small sample so it takes about a minute.
 *
 * Run it on its own:  npx tsx examples/02-pipeline-step-by-step.ts
 * Needs a Spark Connect server (SPARK_REMOTE, default sc://localhost:15002) and the sidecar on the
 * same machine (ORCHARD_SIDECAR, default 127.0.0.1:8815; `orchard sidecar start` starts one).
 * Writes to ORCHARD_EXAMPLE_OUTPUT (default file:///tmp/orchard-example/pipeline).
 */
import { homedir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import {
  col,
  DEFAULT_EXTENSIONS,
  functions as F,
  featurize,
  fitReduction,
  outputStore,
  project,
  readImages,
  SparkSession,
  sampledPaths,
  writeOutput,
} from "orchard";

const remote = process.env.SPARK_REMOTE ?? "sc://localhost:15002";
const sidecar = process.env.ORCHARD_SIDECAR ?? "127.0.0.1:8815";
const cache = process.env.ORCHARD_CACHE || join(homedir(), ".cache", "orchard");
const input = pathToFileURL(join(cache, "data", "fruits", "Training")).href;
const output = process.env.ORCHARD_EXAMPLE_OUTPUT ?? "file:///tmp/orchard-example/pipeline";

const spark = SparkSession.builder.remote(remote).getOrCreate();
const ingest = { uri: input, extensions: [...DEFAULT_EXTENSIONS] };

// ## 1. Ingest: choose the images
// Two images from each of six classes, picked by a hash of the path, so every run takes the same
// ones. Listing reads no image bytes.
const chosen = (await sampledPaths(spark, ingest, 2).collect())
  .map((r) => ({ path: String(r.get("path")), label: String(r.get("label")) }))
  .filter((r) => ["apple_red", "banana", "broccoli", "carrot", "lemon", "strawberry"].includes(r.label));
console.log(`1. ingest: ${chosen.length} images, e.g. ${chosen[0]?.path}`);
const images = readImages(
  spark,
  ingest,
  chosen.map((c) => c.path),
);
await images.select("label", "length").groupBy("label").count().orderBy("label").show();

// ## 2. Features: the CNN runs next to the executors
// `featurize` is lazy: it plans a SQL TRANSFORM that pipes each partition through orchard's
// bridge, which Spark starts once per partition on the executor and which streams the rows to the
// sidecar on that node. Persisting keeps the features on the cluster, so the steps below do not
// run the CNN again.
const featurized = await featurize(spark, images.repartition(2), { sidecar }).then((df) => df.persist());
const rows = await featurized.count();
const failed = await featurized.where(col("error").isNotNull()).count();
const dim = Number((await featurized.select(F.size(col("features"))).first())?.get(0));
console.log(`2. features: ${rows} rows, ${failed} failed, ${dim} numbers per image`);
await featurized
  .select("label", "width", "height", F.slice(col("features"), 1, 3).alias("first_3_features"))
  .show(3, false);

// ## 3. PCA: fitted on the server with Spark ML
// Three components are enough to see the structure of a dozen images; `explainedVariance` says
// how much of the spread each one keeps.
const reduction = await fitReduction(featurized, { k: 3 }, { featureDim: dim, fitRows: rows - failed });
const shares = reduction.explainedVariance.map((v) => `${(100 * v).toFixed(1)}%`);
console.log(`3. pca: k=${reduction.k}, explained variance per component ${shares.join(", ")}`);
const projected = project(featurized, reduction.model, reduction.k);
await projected.select("label", "pca").orderBy("label").show(4, false);

// ## 4. Write: Parquet plus the model in Spark ML's format
const written = await writeOutput(spark, projected, {
  output,
  mode: "overwrite",
  keepFeatures: false,
  model: { model: reduction.model, metadata: { k: reduction.k, featureDimension: dim, model: null } },
  store: outputStore(output),
  fitOnly: false,
});
console.log(`4. write: ${written} rows in ${output}/data, model in ${output}/pca-model`);
await spark.read.parquet(`${output}/data`).printSchema();

await featurized.unpersist();
await reduction.model.close();
await spark.stop();
