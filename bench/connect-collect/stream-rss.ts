/**
 * Child process of bench/connect-collect: streams N rows with `df.stream()`, decodes every
 * batch to Rows and drops them, then prints peak RSS (MiB) and throughput as one JSON line.
 * Usage: tsx stream-rss.ts <remote> <rows>
 */
import { RowDecoder } from "../../src/connect/arrow/arrow-decode.ts";
import type { DataType } from "../../src/connect/data-types.ts";
import { SparkSession } from "../../src/connect/spark-session.ts";

const [remote, n] = [process.argv[2] ?? "sc://127.0.0.1:15002", Number(process.argv[3] ?? 1_000_000)];
const spark = SparkSession.builder.remote(remote).create();
// Small partitions (250k rows) keep each task result small on the server: the driver side of
// the measurement is what matters here, not the server's memory.
const df = spark
  .range(0, n, 1, Math.max(4, Math.ceil(n / 250_000)))
  .selectExpr("id", "cast(id * 2 AS double) AS twice", "cast(id AS string) AS s", "id % 7 = 0 AS b");
let schema: DataType | undefined;
let decoder: RowDecoder | undefined;
let rows = 0;
let check = 0n;
const rssBefore = process.memoryUsage().rss;
const t0 = performance.now();
for await (const batch of df.stream({ onSchema: (s) => (schema = s) })) {
  decoder ??= new RowDecoder(schema);
  for (const row of decoder.decode(batch)) {
    check += row.get(0) as bigint;
    rows++;
  }
}
const seconds = (performance.now() - t0) / 1000;
const expected = (BigInt(n) * BigInt(n - 1)) / 2n;
if (rows !== n || check !== expected) throw new Error(`stream returned ${rows} rows, checksum ${check} != ${expected}`);
await spark.stop();
console.log(
  JSON.stringify({
    rows,
    seconds,
    rowsPerSecond: rows / seconds,
    rssBeforeMiB: rssBefore / 2 ** 20,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
  }),
);
