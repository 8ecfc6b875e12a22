/**
 * # A driver for `orchard submit`
 *
 * `spark-submit app.py` starts a Spark application with your script as its driver. With Spark
 * Connect the driver is a server and the script a client, so `orchard submit` does both halves:
 * it starts a Spark Connect server as the application's driver on `--master`, on a free loopback
 * port with a fresh token, runs this script with `SPARK_REMOTE` pointing at it (token included),
 * and stops the server when the script ends. The script's exit code is the application's result.
 *
 * Run it:  npx orchard submit --master 'local[2]' examples/05-submit-driver.ts 1000 --partitions 4
 *          (options after the script are the script's own)
 * On a cluster:  npx orchard submit --master spark://host:7077 --conf spark.executor.memory=2g examples/05-submit-driver.ts
 * It also runs on its own against any server:  SPARK_REMOTE=sc://localhost:15002 npx tsx examples/05-submit-driver.ts
 */
import { parseArgs } from "node:util";
import { col, functions as F, SparkSession } from "orchard";

// ## 1. The script's own arguments
// Everything after the script name on `orchard submit`'s command line arrives here untouched.
const { values, positionals } = parseArgs({
  options: { partitions: { type: "string", default: "2" } },
  allowPositionals: true,
});
const n = Number(positionals[0] ?? 1000);
const partitions = Number(values.partitions);
console.log(`driver arguments: n=${n} partitions=${partitions}`);

// ## 2. Connect: no URL in the code
// `getOrCreate()` without `remote()` reads SPARK_REMOTE, which `orchard submit` set. `remoteUrl`
// shows where it points with the token redacted; never print SPARK_REMOTE itself.
const spark = SparkSession.builder.getOrCreate();
console.log(`connected to ${spark.remoteUrl}`);
console.log(
  `Spark ${await spark.version()}, application ${await spark.conf.get("spark.app.name")} on master ${await spark.conf.get("spark.master")}`,
);

// ## 3. A job spread over the executors
// Squares of 1..n in `partitions` tasks, summed per residue mod 3 and in total.
const squares = spark
  .range(1, n + 1)
  .repartition(partitions)
  .withColumn("square", col("id").multiply(col("id")));
await squares
  .groupBy(col("id").mod(3).alias("residue"))
  .agg(F.count("id").alias("n"), F.sum("square").alias("sum_of_squares"))
  .orderBy("residue")
  .show();
const [row] = await squares.agg(F.sum("square").alias("total")).collect();
const total = Number(row?.get("total"));
console.log(`sum of the first ${n} squares: ${total}`);

// ## 4. The exit code is the result
// spark-submit and `orchard submit` both pass on the driver's exit code: a check that fails here
// fails the submission (and a scheduler that runs it sees the failure).
await spark.stop();
const expected = (n * (n + 1) * (2 * n + 1)) / 6;
if (total !== expected) {
  console.error(`wrong sum: expected ${expected}`);
  process.exit(1);
}
