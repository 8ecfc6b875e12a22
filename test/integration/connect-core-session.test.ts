import type * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type * as pb from "#connect-proto";
import { decodeArrowBatch } from "../../src/connect/arrow/arrow-batch.ts";
import {
  ArrayType,
  BinaryType,
  BooleanType,
  ByteType,
  DateType,
  DecimalType,
  DoubleType,
  FloatType,
  IntegerType,
  LongType,
  MapType,
  matrixUDT,
  ShortType,
  StringType,
  StructField,
  StructType,
  TimestampNTZType,
  TimestampType,
  vectorUDT,
} from "../../src/connect/data-types.ts";
import { InterruptedError, SparkConnectionError, SparkServerError } from "../../src/connect/errors.ts";
import type { ReattachEvent } from "../../src/connect/execute-options.ts";
import type { ExecuteRpc } from "../../src/connect/execution.ts";
import { clientOf, planOf, relationOf } from "../../src/connect/internal.ts";
import type { ExecutionProgress } from "../../src/connect/progress.ts";
import type { Row } from "../../src/connect/row.ts";
import { SparkSession } from "../../src/connect/spark-session.ts";
import { Decimal, DenseMatrix, Timestamp } from "../../src/connect/spark-values.ts";

const remote = inject("sparkRemote");
let spark: SparkSession;

beforeAll(() => {
  spark = SparkSession.builder.remote(remote).config("spark.sql.session.timeZone", "UTC").create();
});
afterAll(async () => {
  await spark?.stop();
});

async function expectServerError(p: Promise<unknown>): Promise<SparkServerError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(SparkServerError);
    return e as SparkServerError;
  }
  throw new Error("expected a SparkServerError");
}

describe("session basics", () => {
  it("reports the server's Spark version", async () => {
    expect(await spark.version()).toMatch(/^4\.1\.\d+/);
  });

  it("applies builder config before the first RPC", async () => {
    expect(await spark.conf.get("spark.sql.session.timeZone")).toBe("UTC");
  });

  it("conf get/set/unset/getAll round-trip on the server", async () => {
    const key = "spark.sql.shuffle.partitions";
    await spark.conf.set(key, 7);
    expect(await spark.conf.get(key)).toBe("7");
    expect((await spark.conf.getAll("spark.sql.shuffle"))[key]).toBe("7");
    await spark.conf.unset(key);
    expect(await spark.conf.get(key)).not.toBe("7");
    expect(await spark.conf.get("orchard.test.missing", "dflt")).toBe("dflt");
    expect(await spark.conf.get("orchard.test.missing", null)).toBeNull();
    await spark.conf.set("orchard.test.custom", "x");
    expect(await spark.conf.get("orchard.test.custom")).toBe("x");
    expect(await spark.conf.isModifiable(key)).toBe(true);
    const err = await expectServerError(spark.conf.get("orchard.test.never.set"));
    expect(err.errorClass).toBe("SQL_CONF_NOT_FOUND");
  });

  it("stop() releases the server session", async () => {
    const id = crypto.randomUUID();
    const url = `${remote}${remote.includes(";") ? "" : "/"};session_id=${id}`;
    const s = SparkSession.builder.remote(url).create();
    expect(s.sessionId).toBe(id);
    await s.version();
    await s.stop();
    const again = SparkSession.builder.remote(url).create();
    const err = await expectServerError(again.version());
    expect(err.errorClass).toBe("INVALID_HANDLE.SESSION_CLOSED");
    await again.stop().catch(() => undefined);
  });

  it("an unreachable server names the URL and how to start one", async () => {
    const s = SparkSession.builder
      .remote("sc://127.0.0.1:9/;token=NOT-LOGGED;user_id=x")
      .retryPolicy({ maxRetries: 1, initialBackoffMs: 10 })
      .create();
    const err = await s.version().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SparkConnectionError);
    const msg = (err as Error).message;
    expect(msg).toContain("sc://127.0.0.1:9/;token=<redacted>");
    expect(msg).toContain("orchard spark start");
    expect(msg).not.toContain("NOT-LOGGED");
    await s.stop();
  });
});

describe("type round trip: createDataFrame -> Spark -> collect", () => {
  const schema = new StructType([
    new StructField("b", new BooleanType()),
    new StructField("i8", new ByteType()),
    new StructField("i16", new ShortType()),
    new StructField("i32", new IntegerType()),
    new StructField("i64", new LongType()),
    new StructField("f32", new FloatType()),
    new StructField("f64", new DoubleType()),
    new StructField("dec", new DecimalType(38, 18)),
    new StructField("s", new StringType()),
    new StructField("bin", new BinaryType()),
    new StructField("d", new DateType()),
    new StructField("ts", new TimestampType()),
    new StructField("ntz", new TimestampNTZType()),
    new StructField("arr", new ArrayType(new LongType())),
    new StructField("m", new MapType(new StringType(), new IntegerType())),
    new StructField(
      "st",
      new StructType([new StructField("x", new DoubleType()), new StructField("y", new StringType())]),
    ),
  ]);
  const full = {
    b: true,
    i8: -128,
    i16: 32767,
    i32: -(2 ** 31),
    i64: 2n ** 63n - 1n,
    f32: 1.5,
    f64: Math.PI,
    dec: Decimal.parse("12345678901234567890.123456789012345678"),
    s: "grüße ✓",
    bin: new Uint8Array([0, 1, 254, 255]),
    d: new Date(Date.UTC(1999, 11, 31)),
    ts: new Timestamp(1704164645123456n),
    ntz: new Timestamp(-123456789n, true),
    arr: [1n, null, -(2n ** 63n)],
    m: new Map<string, number | null>([
      ["a", 1],
      ["b", null],
    ]),
    st: { x: -0.5, y: "z" },
  };
  const nulls = Object.fromEntries(Object.keys(full).map((k) => [k, null]));

  it("every type comes back value for value", async () => {
    const df = spark.createDataFrame([full, nulls], schema);
    const server = await df.schema();
    expect(server.fields.map((f) => f.dataType.simpleString())).toEqual(
      schema.fields.map((f) => f.dataType.simpleString()),
    );
    const rows = await df.collect();
    expect(rows).toHaveLength(2);
    const [r0, r1] = rows as [Row, Row];
    expect(r0.get("b")).toBe(true);
    expect(r0.get("i8")).toBe(-128);
    expect(r0.get("i16")).toBe(32767);
    expect(r0.get("i32")).toBe(-(2 ** 31));
    expect(r0.get("i64")).toBe(2n ** 63n - 1n);
    expect(r0.get("f32")).toBe(1.5);
    expect(r0.get("f64")).toBe(Math.PI);
    expect((r0.get("dec") as Decimal).toString()).toBe("12345678901234567890.123456789012345678");
    expect(r0.get("s")).toBe("grüße ✓");
    expect(r0.get("bin")).toEqual(new Uint8Array([0, 1, 254, 255]));
    expect((r0.get("d") as Date).toISOString()).toBe("1999-12-31T00:00:00.000Z");
    expect((r0.get("ts") as Timestamp).epochMicros).toBe(1704164645123456n);
    expect((r0.get("ts") as Timestamp).ntz).toBe(false);
    expect((r0.get("ntz") as Timestamp).epochMicros).toBe(-123456789n);
    expect((r0.get("ntz") as Timestamp).ntz).toBe(true);
    expect(r0.get("arr")).toEqual([1n, null, -(2n ** 63n)]);
    expect(r0.get("m")).toEqual(full.m);
    expect((r0.get("st") as Row).toObject()).toEqual({ x: -0.5, y: "z" });
    expect(r1.values.every((v) => v === null)).toBe(true);
  });

  it("Spark computes on the values exactly (server-side arithmetic on decimal, long, timestamp)", async () => {
    await spark.createDataFrame([full], schema).createOrReplaceTempView("orchard_types");
    const [row] = (await spark
      .sql(
        "SELECT cast(dec AS string) AS decs, i64 - 1 AS l, unix_micros(ts) AS us, date_add(d, 1) AS d1, length(bin) AS n, m['a'] AS ma FROM orchard_types",
      )
      .collect()) as [Row];
    expect(row.get("decs")).toBe("12345678901234567890.123456789012345678");
    expect(row.get("l")).toBe(2n ** 63n - 2n);
    expect(row.get("us")).toBe(1704164645123456n);
    expect((row.get("d1") as Date).toISOString()).toBe("2000-01-01T00:00:00.000Z");
    expect(row.get("n")).toBe(4);
    expect(row.get("ma")).toBe(1);
  });

  it("inferred types are the narrowest exact ones", async () => {
    const df = spark.createDataFrame([
      { small: 1, big: 2 ** 31, frac: 0.5, n: null, s: "x", l: 5n },
      { small: 2, big: 3, frac: 1, n: null, s: null, l: null },
    ]);
    expect((await df.schema()).fields.map((f) => `${f.name}:${f.dataType.simpleString()}`)).toEqual([
      "small:int",
      "big:bigint",
      "frac:double",
      "n:void",
      "s:string",
      "l:bigint",
    ]);
    const rows = await df.collect();
    expect(rows.map((r) => r.get("big"))).toEqual([2n ** 31n, 3n]);
  });

  it("big local data goes up as chunked cache artifacts and arrives whole", async () => {
    const pad = "z".repeat(180);
    const n = 200_000;
    const rows = Array.from({ length: n }, (_, i) => [i, `${i}:${pad}`]);
    const df = spark.createDataFrame(rows, "id int, s string");
    expect(relationOf(df).relType.case).toBe("chunkedCachedLocalRelation");
    const [r] = (await df
      .selectExpr("count(*) AS n", "sum(id) AS total", "count(DISTINCT s) AS distinct_s", "min(length(s)) AS minlen")
      .collect()) as [Row];
    expect(r.get("n")).toBe(BigInt(n));
    expect(r.get("total")).toBe(BigInt((n * (n - 1)) / 2));
    expect(r.get("distinct_s")).toBe(BigInt(n));
    expect(r.get("minlen")).toBe(182);
  });

  it("Spark ML vectors and matrices go up and come back (VectorUDT / MatrixUDT)", async () => {
    const schema = new StructType([
      new StructField("id", new IntegerType()),
      new StructField("v", vectorUDT()),
      new StructField("m", matrixUDT()),
    ]);
    const df = spark.createDataFrame(
      [
        { id: 1, v: Float64Array.from([1, 2.5, -3]), m: new DenseMatrix(2, 2, Float64Array.from([1, 2, 3, 4])) },
        { id: 2, v: null, m: null },
      ],
      schema,
    );
    expect((await df.schema()).fields.map((f) => f.dataType.typeName())).toEqual(["integer", "vector", "matrix"]);
    const rows = await df.orderBy("id").collect();
    expect(rows[0]?.get("v")).toEqual(Float64Array.from([1, 2.5, -3]));
    expect(((rows[0] as Row).get("m") as DenseMatrix).toArray()).toEqual([
      [1, 3],
      [2, 4],
    ]);
    expect(rows[1]?.get("v")).toBeNull();
    // Inferred from a Float64Array, too.
    const inferred = await spark.createDataFrame([{ v: Float64Array.from([0, 1]) }]).collect();
    expect(inferred[0]?.get("v")).toEqual(Float64Array.from([0, 1]));
  });

  it("an Arrow table goes up as is", async () => {
    const arrow = await import("apache-arrow");
    const t = arrow.tableFromArrays({ x: Int32Array.from([3, 1, 2]), y: ["a", "b", "c"] });
    const rows = await spark.createDataFrame(t).orderBy("x").collect();
    expect(rows.map((r) => [r.get("x"), r.get("y")])).toEqual([
      [1, "b"],
      [2, "c"],
      [3, "a"],
    ]);
  });
});

describe("errors carry Spark's error class", () => {
  it("bad SQL -> PARSE_SYNTAX_ERROR", async () => {
    const err = await expectServerError(spark.sql("SELEC 1").collect());
    expect(err.errorClass).toBe("PARSE_SYNTAX_ERROR");
    expect(err.sqlState).toBe("42601");
    expect(err.kind).toBe("server");
  });

  it("misspelled column -> UNRESOLVED_COLUMN.WITH_SUGGESTION with the suggestion", async () => {
    const err = await expectServerError(spark.range(3).selectExpr("idd").collect());
    expect(err.errorClass).toBe("UNRESOLVED_COLUMN.WITH_SUGGESTION");
    expect(err.messageParameters.objectName).toBe("`idd`");
    expect(err.messageParameters.proposal).toContain("`id`");
    expect(err.causes.length).toBeGreaterThan(0);
    expect(err.causes[0]?.errorTypeHierarchy[0]).toContain("AnalysisException");
  });

  it("runtime failure inside a job -> its error class", async () => {
    await spark.conf.set("spark.sql.ansi.enabled", "true");
    const err = await expectServerError(spark.sql("SELECT 1 / (id - id) FROM range(1)").collect());
    expect(err.errorClass).toBe("DIVIDE_BY_ZERO");
    await spark.conf.unset("spark.sql.ansi.enabled");
  });
});

describe("execution", () => {
  it("an AbortSignal interrupts a long job promptly and the server operation is gone", async () => {
    const tag = `orchard-interrupt-${Date.now()}`;
    const controller = new AbortController();
    let operationId: string | undefined;
    let abortedAt = 0;
    const job = spark
      .sql("SELECT sum(hash(a.id, b.id)) FROM range(0, 200000) a CROSS JOIN range(0, 200000) b")
      .collect({ signal: controller.signal, tags: [tag], onOperationId: (id) => (operationId = id) });
    setTimeout(() => {
      abortedAt = Date.now();
      controller.abort();
    }, 3000);
    const err = await job.then(
      () => undefined,
      (e: unknown) => e,
    );
    const latency = Date.now() - abortedAt;
    expect(err).toBeInstanceOf(InterruptedError);
    expect((err as InterruptedError).operationId).toBe(operationId);
    expect(abortedAt).toBeGreaterThan(0);
    expect(latency).toBeLessThan(3000);
    expect(await spark.interruptTag(tag)).toEqual([]);
    // The operation was released: reattaching to it is refused by the server.
    const reattach = clientOf(spark).rpc.reattach(operationId as string, undefined);
    const reattachErr = await new Promise<unknown>((resolve) => {
      reattach.on("error", resolve);
      reattach.on("end", () => resolve(undefined));
      reattach.on("data", () => undefined);
    });
    const converted = await clientOf(spark).convertError(reattachErr);
    expect((converted as SparkServerError).errorClass).toMatch(/^INVALID_HANDLE\.OPERATION_(NOT_FOUND|ABANDONED)$/);
    // The session still works afterwards.
    expect((await spark.range(3).collect()).length).toBe(3);
  });

  it("forwards execution progress of a multi-stage job", async () => {
    await spark.conf.set("spark.connect.progress.reportInterval", "100ms");
    const events: ExecutionProgress[] = [];
    const rows = await spark
      .range(0, 3_000_000, 1, 4)
      .repartition(3)
      .selectExpr("id % 10 AS k", "sha2(cast(id AS string), 256) AS h")
      .groupBy("k")
      .count()
      .collect({ onProgress: (p) => events.push(p) });
    await spark.conf.unset("spark.connect.progress.reportInterval");
    expect(rows).toHaveLength(10);
    expect(rows.reduce((a, r) => a + (r.get("count") as bigint), 0n)).toBe(3_000_000n);
    expect(events.length).toBeGreaterThan(0);
    const stageIds = new Set(events.flatMap((e) => e.stages.map((s) => s.stageId)));
    expect(stageIds.size).toBeGreaterThan(1);
    const last = events.at(-1) as ExecutionProgress;
    expect(last.tasksTotal).toBeGreaterThan(0);
    expect(events.some((e) => e.tasksDone > 0)).toBe(true);
  });

  it("stream() hands batches over as they arrive and stops early cleanly", async () => {
    let seen = 0;
    for await (const batch of spark.range(0, 2_000_000, 1, 4).stream()) {
      seen += batch.numRows;
      if (seen > 100_000) break;
    }
    expect(seen).toBeGreaterThan(100_000);
    expect((await spark.range(5).collect()).length).toBe(5);
  });

  it("a stream dropped mid-result (gRPC call cancelled under the client) resumes with no row lost or duplicated", async () => {
    const real = clientOf(spark).rpc;
    let drops = 0;
    // Cancels the real gRPC call after 3 responses, until 4 streams were cut: the client sees a
    // CANCELLED transport error mid-stream, not a server error, and must ReattachExecute. A cancel
    // that comes after the server already finished the stream cuts nothing, so only cancels that
    // did end a stream with an error count as drops.
    const dropAfter3 = (call: grpc.ClientReadableStream<pb.ExecutePlanResponse>) =>
      ({
        cancel: () => call.cancel(),
        async *[Symbol.asyncIterator]() {
          let k = 0;
          let cancelled = false;
          try {
            for await (const r of call as AsyncIterable<pb.ExecutePlanResponse>) {
              yield r;
              if (++k >= 3 && drops < 4 && !cancelled) {
                cancelled = true;
                call.cancel();
              }
            }
          } catch (err) {
            if (cancelled) drops++;
            throw err;
          }
        },
      }) as unknown as grpc.ClientReadableStream<pb.ExecutePlanResponse>;
    const dropping: ExecuteRpc = {
      ...real,
      execute: (req) => dropAfter3(real.execute(req)),
      reattach: (id, last) => dropAfter3(real.reattach(id, last)),
    };
    const n = 400_000;
    const events: ReattachEvent[] = [];
    // ~100 bytes a row: ~40 MB, many more Arrow batches (~4 MB each) than the 4 x 3 responses cut.
    const plan = planOf(spark.range(0, n, 1, 2).selectExpr("id", "repeat(cast(id AS string), 16) AS s"));
    let rows = 0n;
    let next = 0n;
    let bad = 0;
    for await (const resp of clientOf(spark).execute(plan, { onReattach: (e) => events.push(e) }, dropping)) {
      if (resp.responseType.case !== "arrowBatch") continue;
      // decodeArrowBatch also checks the batch's start offset against the rows seen so far.
      for (const b of decodeArrowBatch(resp.responseType.value, rows)) {
        const ids = b.getChild("id")?.toArray() as BigInt64Array;
        for (const id of ids) if (id !== next++) bad++;
      }
      rows += resp.responseType.value.rowCount;
    }
    expect(drops).toBe(4);
    expect(events.filter((e) => e.reason === "CANCELLED")).toHaveLength(4);
    expect(bad).toBe(0);
    expect(rows).toBe(BigInt(n));
  });
});
