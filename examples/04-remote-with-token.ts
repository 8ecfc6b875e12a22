/**
 * # Connecting to a remote Spark Connect server with a token
 *
 * A shared or managed Spark Connect endpoint (EMR, a team cluster behind a proxy) asks every client
 * for a bearer token. The Spark Connect URL carries it, PySpark-style:
 *
 *     sc://host:15002/;token=SECRET;use_ssl=true
 *
 * orchard sends it as `authorization: Bearer ...` on every call and never prints it: URLs in
 * messages and errors show `token=<redacted>`. A token needs TLS (`use_ssl=true`) unless the host
 * is loopback (e.g. an SSH tunnel to the cluster).
 *
 * Run it on its own:  SPARK_CONNECT_TOKEN=... npx tsx examples/04-remote-with-token.ts
 * Settings (environment): SPARK_CONNECT_HOST (default localhost), SPARK_CONNECT_PORT (15002),
 * SPARK_CONNECT_TOKEN (required), SPARK_CONNECT_TLS (`true` for use_ssl=true).
 * To try it locally, start a server (orchard gives it a random token, in a 0600 file):
 *     orchard spark start --port 15003
 *     SPARK_CONNECT_PORT=15003 SPARK_CONNECT_TOKEN=$(cat ~/.cache/orchard/run/spark-15003.token) npx tsx examples/04-remote-with-token.ts
 */
import { col, functions as F, SparkAuthenticationError, SparkSession } from "orchard";

const host = process.env.SPARK_CONNECT_HOST ?? "localhost";
const port = process.env.SPARK_CONNECT_PORT ?? "15002";
const token = process.env.SPARK_CONNECT_TOKEN;
if (!token) {
  console.error("set SPARK_CONNECT_TOKEN (and SPARK_CONNECT_HOST / SPARK_CONNECT_PORT) to the server's token");
  process.exit(2);
}
const tls = process.env.SPARK_CONNECT_TLS === "true" ? ";use_ssl=true" : "";

// ## 1. Build the URL from its parts
// Keep the token out of shell history and source code: take it from the environment (or a secret
// store) and put the URL together here.
const url = `sc://${host}:${port}/;token=${encodeURIComponent(token)}${tls};user_id=example`;
const spark = SparkSession.builder.remote(url).getOrCreate();
// `remoteUrl` is safe to print: the token is redacted.
console.log(`connecting to ${spark.remoteUrl}`);

// ## 2. Use it like any session
console.log(`Spark ${await spark.version()}, session ${spark.sessionId}`);
const df = spark.range(1, 1001).withColumn("square", col("id").multiply(col("id")));
const [row] = await df.agg(F.sum("square").alias("sum_of_squares"), F.count("id").alias("n")).collect();
console.log(`sum of the first ${row?.get("n")} squares: ${row?.get("sum_of_squares")}`);

// ## 3. A wrong token is refused, and the error does not leak either token
const wrong = SparkSession.builder.remote(`sc://${host}:${port}/;token=not-the-token${tls}`).create();
try {
  await wrong.version();
  console.log("unexpected: the server accepted a wrong token (does it require one?)");
} catch (err) {
  if (!(err instanceof SparkAuthenticationError)) throw err;
  console.log(`wrong token refused: ${err.message}`);
} finally {
  await wrong.stop();
}

await spark.stop();
