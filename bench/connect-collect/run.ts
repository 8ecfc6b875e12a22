/**
 * bench/connect-collect: how fast orchard's Spark Connect client collects a several-column
 * `spark.range(N)` compared with PySpark's Connect client against the same server in the same
 * run, and whether `stream()` keeps the driver's memory flat (peak RSS at 1M vs 10M rows).
 *
 *   npx tsx bench/connect-collect/run.ts [--remote sc://...] [--rows 1000000] [--reps 5]
 *
 * Without `--remote` (or SPARK_REMOTE) it starts its own Spark Connect server (local[2], 3 GiB
 * driver) on a free loopback port and stops it at the end, so the figures do not depend on what
 * else a shared server is doing. Not part of `npm test`.
 * The machine and server may be shared: rounds interleave orchard and PySpark so both see the
 * same load, and the best round of each is reported.
 */
import { execFileSync } from "node:child_process";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { pythonVenv } from "../../scripts/lib/paths.ts";
import { freePort } from "../../src/cli/local/ports.ts";
import { type LocalSpark, startLocalSpark } from "../../src/cli/local/spark-server.ts";
import { readTokenFile } from "../../src/cli/local/token-file.ts";
import { decodeArrowBatch } from "../../src/connect/arrow/arrow-batch.ts";
import { RowDecoder } from "../../src/connect/arrow/arrow-decode.ts";
import type { DataType } from "../../src/connect/data-types.ts";
import { clientOf, planOf } from "../../src/connect/internal.ts";
import { SparkSession } from "../../src/connect/spark-session.ts";

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    remote: { type: "string", default: process.env.SPARK_REMOTE },
    rows: { type: "string", default: "1000000" },
    reps: { type: "string", default: "5" },
    "stream-rows": { type: "string", default: "1000000,10000000" },
  },
});
let server: LocalSpark | undefined;
if (values.remote === undefined) {
  server = await startLocalSpark({
    port: await freePort(),
    master: "local[2]",
    conf: { "spark.driver.memory": "3g", "spark.sql.shuffle.partitions": "4" },
    logDir: join(here, "..", "..", "test-artifacts", "logs"),
  });
  console.log(`started ${server.remote} for the bench (pid ${server.pid}, ${(server.startupMs / 1000).toFixed(1)} s)`);
  // It requires the random token it got: this process and the children (orchard's client and
  // PySpark both read Spark's variable) send it from the environment, never from argv.
  process.env.SPARK_CONNECT_AUTHENTICATE_TOKEN = readTokenFile(
    server.tokenFile as string,
    "the bench server's token file",
  );
}
try {
  const remote = values.remote ?? (server as LocalSpark).remote;
  const n = Number(values.rows);
  const reps = Number(values.reps);
  const python = join(pythonVenv(), "bin", "python");

  const spark = SparkSession.builder.remote(remote).create();
  const df = spark
    .range(0, n, 1, 4)
    .selectExpr(
      "id",
      "cast(id * 2 AS double) AS twice",
      "cast(id AS string) AS s",
      "id % 7 = 0 AS b",
      "cast(id % 1000 AS int) AS small",
    );
  await df.limit(10).collect();

  // Arrow bytes on the wire for this result (one raw pass).
  let arrowBytes = 0;
  let rowsSoFar = 0n;
  for await (const resp of clientOf(spark).execute(planOf(df))) {
    if (resp.responseType.case === "arrowBatch") {
      arrowBytes += resp.responseType.value.data.byteLength;
      decodeArrowBatch(resp.responseType.value, rowsSoFar);
      rowsSoFar += resp.responseType.value.rowCount;
    }
  }

  async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
    const t = performance.now();
    const out = await fn();
    return [(performance.now() - t) / 1000, out];
  }

  async function streamDecoded(): Promise<number> {
    let schema: DataType | undefined;
    let decoder: RowDecoder | undefined;
    let count = 0;
    for await (const b of df.stream({ onSchema: (s) => (schema = s) })) {
      decoder ??= new RowDecoder(schema);
      count += decoder.decode(b).length;
    }
    return count;
  }

  const best = {
    collect: Number.POSITIVE_INFINITY,
    stream: Number.POSITIVE_INFINITY,
    arrow: Number.POSITIVE_INFINITY,
    pyCollect: Number.POSITIVE_INFINITY,
    pyArrow: Number.POSITIVE_INFINITY,
  };
  for (let round = 0; round < reps; round++) {
    const [collectS, rows] = await timed(() => df.collect());
    if (rows.length !== n || rows[n - 1]?.get("id") !== BigInt(n - 1)) throw new Error("collect returned wrong rows");
    const [streamS, count] = await timed(streamDecoded);
    if (count !== n) throw new Error("stream returned a wrong row count");
    const [arrowS, table] = await timed(() => df.toArrow());
    if (table.numRows !== n) throw new Error("toArrow returned a wrong row count");
    // PySpark sends a token without TLS only to the host name localhost.
    const pyRemote = server ? remote.replace(/^sc:\/\/127\.0\.0\.1/, "sc://localhost") : remote;
    const out = execFileSync(python, [join(here, "pyspark_collect.py"), pyRemote, String(n), "1"], {
      encoding: "utf8",
      maxBuffer: 1 << 26,
    });
    const py = JSON.parse(out.trim().split("\n").at(-1) as string) as { collect_s: number; to_arrow_s: number };
    best.collect = Math.min(best.collect, collectS);
    best.stream = Math.min(best.stream, streamS);
    best.arrow = Math.min(best.arrow, arrowS);
    best.pyCollect = Math.min(best.pyCollect, py.collect_s);
    best.pyArrow = Math.min(best.pyArrow, py.to_arrow_s);
  }
  await spark.stop();

  const mb = arrowBytes / 1e6;
  const fmt = (label: string, s: number) =>
    `${label.padEnd(34)} ${s.toFixed(3).padStart(7)} s  ${(n / s / 1e6).toFixed(2).padStart(6)} M rows/s  ${(mb / s).toFixed(1).padStart(7)} MB/s`;
  console.log(
    `connect-collect: ${n.toLocaleString("en")} rows x 5 columns, ${mb.toFixed(1)} MB of Arrow, best of ${reps} interleaved rounds, load average ${loadavg()[0]?.toFixed(1)}`,
  );
  console.log(fmt("orchard collect() -> Row[]", best.collect));
  console.log(fmt("orchard stream() + RowDecoder", best.stream));
  console.log(fmt("orchard toArrow() -> Table", best.arrow));
  console.log(fmt("PySpark collect() -> list[Row]", best.pyCollect));
  console.log(fmt("PySpark toArrow() -> pa.Table", best.pyArrow));
  console.log(`ratio collect (PySpark time / orchard time): ${(best.pyCollect / best.collect).toFixed(2)}x`);
  console.log(`ratio toArrow (PySpark time / orchard time): ${(best.pyArrow / best.arrow).toFixed(2)}x`);

  console.log("\nstream() peak driver RSS (fresh process per size; rows decoded and dropped):");
  for (const size of String(values["stream-rows"]).split(",").map(Number)) {
    const out = execFileSync(process.execPath, ["--import", "tsx", join(here, "stream-rss.ts"), remote, String(size)], {
      encoding: "utf8",
    });
    const r = JSON.parse(out.trim().split("\n").at(-1) as string) as {
      rows: number;
      rowsPerSecond: number;
      rssBeforeMiB: number;
      peakRssMiB: number;
    };
    console.log(
      `  ${r.rows.toLocaleString("en").padStart(11)} rows: peak RSS ${r.peakRssMiB.toFixed(0)} MiB (${r.rssBeforeMiB.toFixed(0)} MiB at start), ${(r.rowsPerSecond / 1e6).toFixed(2)} M rows/s`,
    );
  }
} finally {
  await server?.stop();
}
