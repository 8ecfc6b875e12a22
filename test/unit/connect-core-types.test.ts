import { createHash } from "node:crypto";
import * as arrow from "apache-arrow";
import { describe, expect, it } from "vitest";
import { inferType, resolveLocalSchema } from "../../src/connect/arrow/type-inference.ts";
import { fromProtoDataType, toProtoDataType } from "../../src/connect/data-type-proto.ts";
import {
  ArrayType,
  BinaryType,
  BooleanType,
  type DataType,
  DecimalType,
  DoubleType,
  IntegerType,
  LongType,
  MapType,
  NullType,
  StringType,
  StructField,
  StructType,
  TimestampNTZType,
  TimestampType,
  vectorUDT,
} from "../../src/connect/data-types.ts";
import { PlanError } from "../../src/connect/errors.ts";
import {
  buildLocalRelation,
  LOCAL_RELATION_INLINE_MAX_BYTES,
  planLocalRelation,
} from "../../src/connect/local-relation.ts";
import { Row } from "../../src/connect/row.ts";
import { parseSchemaDDL } from "../../src/connect/schema-ddl.ts";
import { Decimal, Timestamp } from "../../src/connect/spark-values.ts";

describe("inferType: narrowest exact Spark type", () => {
  const cases: [string, unknown, string][] = [
    ["null", null, "void"],
    ["undefined", undefined, "void"],
    ["true", true, "boolean"],
    ["0", 0, "int"],
    ["-2^31", -(2 ** 31), "int"],
    ["2^31-1", 2 ** 31 - 1, "int"],
    ["2^31", 2 ** 31, "bigint"],
    ["-2^31-1", -(2 ** 31) - 1, "bigint"],
    ["2^53-1", Number.MAX_SAFE_INTEGER, "bigint"],
    ["2^53 (unsafe)", 2 ** 53, "double"],
    ["1.5", 1.5, "double"],
    ["NaN", Number.NaN, "double"],
    ["1n", 1n, "bigint"],
    ["2^63 as bigint", 2n ** 63n, "decimal(38,0)"],
    ["string", "x", "string"],
    ["Uint8Array", new Uint8Array([1]), "binary"],
    ["Date", new Date(0), "timestamp"],
    ["Timestamp", new Timestamp(0n), "timestamp"],
    ["Timestamp ntz", new Timestamp(0n, true), "timestamp_ntz"],
    ["Decimal", Decimal.parse("123.450"), "decimal(6,3)"],
    ["Decimal small", Decimal.parse("0.001"), "decimal(3,3)"],
    ["array of int", [1, 2, null], "array<int>"],
    ["array widening", [1, 2 ** 40], "array<bigint>"],
    ["array int+double", [1, 0.5], "array<double>"],
    ["empty array", [], "array<void>"],
    ["Map", new Map([["a", 1]]), "map<string,int>"],
    ["object", { a: 1, b: "x" }, "struct<a:int,b:string>"],
    ["Row", Row.fromObject({ z: 1n }), "struct<z:bigint>"],
    ["Float64Array", Float64Array.from([1]), "vector"],
  ];
  it.each(cases)("%s", (_name, value, expected) => {
    expect(inferType(value).simpleString()).toBe(expected);
  });

  it("refuses what it cannot type", () => {
    expect(() => inferType(() => 1)).toThrow(PlanError);
    expect(() => inferType(10n ** 40n)).toThrow(/38 digits/);
    expect(() => inferType(["a", 1])).toThrow(/cannot merge types string and int/);
  });
});

describe("resolveLocalSchema", () => {
  it("merges across rows: null yields, int widens to bigint, missing keys become nullable columns", () => {
    const s = resolveLocalSchema([{ a: null, b: 1, c: "x" }, { a: 2.5, b: 2 ** 33 }, { d: true }]);
    expect(s.simpleString()).toBe("struct<a:double,b:bigint,c:string,d:boolean>");
    expect(s.fields.every((f) => f.nullable)).toBe(true);
  });
  it("names positional rows _1.. or by given names", () => {
    expect(resolveLocalSchema([[1, "a"]]).names).toEqual(["_1", "_2"]);
    expect(resolveLocalSchema([[1, "a"]], ["id", "name"]).simpleString()).toBe("struct<id:int,name:string>");
  });
  it("a column of only nulls is void", () => {
    expect(resolveLocalSchema([{ a: null }]).simpleString()).toBe("struct<a:void>");
  });
});

describe("buildLocalRelation", () => {
  it("sends Arrow IPC bytes and the JSON schema", () => {
    const rel = buildLocalRelation([{ id: 1n, name: "a" }], "id bigint not null, name string");
    expect(JSON.parse(rel.schema ?? "")).toEqual({
      type: "struct",
      fields: [
        { name: "id", type: "long", nullable: false, metadata: {} },
        { name: "name", type: "string", nullable: true, metadata: {} },
      ],
    });
    const table = arrow.tableFromIPC(rel.data as Uint8Array);
    expect(table.numRows).toBe(1);
    expect(table.getChild("id")?.get(0)).toBe(1n);
  });
  it("rejects values that do not fit, naming the column and row", () => {
    expect(() => buildLocalRelation([{ a: 1 }, { a: 2 ** 31 }], "a int")).toThrow(/a\[1\] does not fit int/);
    expect(() => buildLocalRelation([{ d: "1.234" }], "d decimal(5,2)")).toThrow(/more than 2 fraction digits/);
    expect(() => buildLocalRelation([{ l: 1.5 }], "l bigint")).toThrow(/does not fit bigint/);
    expect(() => buildLocalRelation([{ a: 1 }, { a: null }], "a int not null")).toThrow(/a is not nullable but row 1/);
    expect(() => buildLocalRelation([{ s: { x: null } }], "s struct<x: int not null>")).toThrow(/s\.x is not nullable/);
  });
  it("chunks large inputs into several record batches", () => {
    const rows = Array.from({ length: 20000 }, (_, i) => ({ i }));
    const rel = buildLocalRelation(rows);
    const table = arrow.tableFromIPC(rel.data as Uint8Array);
    expect(table.numRows).toBe(20000);
    expect(table.batches.length).toBeGreaterThan(1);
  });
  it("above the inline limit: chunked cache artifacts whose names are their sha256 and that hold every row", () => {
    const pad = "y".repeat(300);
    const rows = Array.from({ length: 150_000 }, (_, i) => ({ id: i, s: pad }));
    const plan = planLocalRelation(rows);
    expect(plan.relType.case).toBe("chunkedCachedLocalRelation");
    if (plan.relType.case !== "chunkedCachedLocalRelation") return;
    const rel = plan.relType.value;
    const total = plan.artifacts.reduce((a, x) => a + x.data.byteLength, 0);
    expect(total).toBeGreaterThan(LOCAL_RELATION_INLINE_MAX_BYTES);
    expect(rel.dataHashes.length).toBeGreaterThan(1);
    for (const a of plan.artifacts) {
      expect(a.name).toBe(`cache/${createHash("sha256").update(a.data).digest("hex")}`);
    }
    const byName = new Map(plan.artifacts.map((a) => [a.name, a.data]));
    let next = 0;
    for (const h of rel.dataHashes) {
      const t = arrow.tableFromIPC(byName.get(`cache/${h}`) as Uint8Array);
      for (const id of (t.getChild("id") as arrow.Vector).toArray() as Int32Array) expect(id).toBe(next++);
    }
    expect(next).toBe(150_000);
    const schemaText = new TextDecoder().decode(byName.get(`cache/${rel.schemaHash}`));
    expect(JSON.parse(schemaText).fields.map((f: { name: string }) => f.name)).toEqual(["id", "s"]);
  }, 60_000); // encodes and hashes 150,000 rows (~45 MB): seconds, more on a loaded 2-core machine

  it("passes an Arrow table through", () => {
    const t = arrow.tableFromArrays({ x: Int32Array.from([1, 2, 3]) });
    const rel = buildLocalRelation(t);
    expect(
      arrow
        .tableFromIPC(rel.data as Uint8Array)
        .getChild("x")
        ?.toArray(),
    ).toEqual(Int32Array.from([1, 2, 3]));
    expect(rel.schema).toBeUndefined();
  });
});

describe("data types", () => {
  const ddl: [string, string][] = [
    ["a int, b string", "struct<a:int,b:string>"],
    ["a INT NOT NULL, `b c` ARRAY<DECIMAL(10, 2)>", "struct<a:int,b c:array<decimal(10,2)>>"],
    ["m map<string, struct<x: bigint, y: binary>>", "struct<m:map<string,struct<x:bigint,y:binary>>>"],
    [
      "t timestamp, n timestamp_ntz, d date, f float, s smallint, y tinyint",
      "struct<t:timestamp,n:timestamp_ntz,d:date,f:float,s:smallint,y:tinyint>",
    ],
    ["struct<a:int>", "struct<a:int>"],
    ["bigint", "struct<value:bigint>"],
    ["i interval day to second, j interval year to month", "struct<i:interval day to second,j:interval year to month>"],
  ];
  it.each(ddl)("parses %s", (text, simple) => {
    expect(parseSchemaDDL(text).simpleString()).toBe(simple);
  });
  it("rejects bad DDL with the position", () => {
    expect(() => parseSchemaDDL("a int,")).toThrow(PlanError);
    expect(() => parseSchemaDDL("a foo")).toThrow(/data type/);
  });

  const types: DataType[] = [
    new NullType(),
    new BooleanType(),
    new BinaryType(),
    new DecimalType(38, 18),
    new TimestampType(),
    new TimestampNTZType(),
    new ArrayType(new MapType(new StringType(), new LongType(), false), false),
    new StructType([
      new StructField("a", new IntegerType(), false, { comment: "c" }),
      new StructField("b", new DoubleType()),
    ]),
    vectorUDT(),
  ];
  it.each(types.map((t) => [t.simpleString(), t] as const))("round-trips %s through the protocol", (_n, t) => {
    expect(fromProtoDataType(toProtoDataType(t)).json()).toBe(t.json());
  });

  it("renders printSchema's tree", () => {
    const s = new StructType([
      new StructField("id", new LongType(), false),
      new StructField("s", new StructType([new StructField("x", new IntegerType())])),
      new StructField("arr", new ArrayType(new StringType(), false)),
      new StructField("m", new MapType(new StringType(), new DecimalType(10, 2))),
    ]);
    expect(s.treeString()).toBe(
      [
        "root",
        " |-- id: long (nullable = false)",
        " |-- s: struct (nullable = true)",
        " |    |-- x: integer (nullable = true)",
        " |-- arr: array (nullable = true)",
        " |    |-- element: string (containsNull = false)",
        " |-- m: map (nullable = true)",
        " |    |-- key: string",
        " |    |-- value: decimal(10,2) (valueContainsNull = true)",
        "",
      ].join("\n"),
    );
    expect(s.toDDL()).toBe("id BIGINT NOT NULL, s STRUCT<x: INT>, arr ARRAY<STRING>, m MAP<STRING, DECIMAL(10,2)>");
  });
});

describe("value classes", () => {
  it("Decimal parses and prints exactly", () => {
    expect(Decimal.parse("-0.050").toString()).toBe("-0.050");
    expect(Decimal.parse("1e3").toString()).toBe("1000");
    expect(Decimal.parse("1.5e-3").toString()).toBe("0.0015");
    expect(Decimal.parse("12.30").equals(Decimal.parse("12.3"))).toBe(true);
    expect(() => Decimal.parse("abc")).toThrow(PlanError);
  });
  it("Timestamp parses ISO text with micros", () => {
    expect(Timestamp.parse("2024-01-02T03:04:05.123456Z").epochMicros).toBe(1704164645123456n);
    expect(Timestamp.parse("2024-01-02T04:04:05.1+01:00").epochMicros).toBe(1704164645100000n);
  });
});
