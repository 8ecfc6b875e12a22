import * as arrow from "apache-arrow";
import { describe, expect, it } from "vitest";
import { decodeRows } from "../../src/connect/arrow/arrow-decode.ts";
import { encodeLocalRows } from "../../src/connect/arrow/arrow-encode.ts";
import { toProtoDataType } from "../../src/connect/data-type-proto.ts";
import {
  ArrayType,
  DateType,
  DecimalType,
  DoubleType,
  IntegerType,
  LongType,
  MapType,
  matrixUDT,
  StringType,
  StructField,
  StructType,
  TimestampNTZType,
  TimestampType,
  vectorUDT,
} from "../../src/connect/data-types.ts";
import { Row } from "../../src/connect/row.ts";
import { Decimal, DenseMatrix, Timestamp } from "../../src/connect/spark-values.ts";

function single(field: string, vector: arrow.Vector): arrow.Table {
  return new arrow.Table({ [field]: vector });
}

describe("decodeRows: primitive Arrow columns built with apache-arrow", () => {
  const cases: [string, arrow.Vector, unknown[]][] = [
    ["bool", arrow.vectorFromArray([true, false, null], new arrow.Bool()), [true, false, null]],
    ["int8", arrow.vectorFromArray([-128, 127, null], new arrow.Int8()), [-128, 127, null]],
    ["int16", arrow.vectorFromArray([-32768, 32767, null], new arrow.Int16()), [-32768, 32767, null]],
    [
      "int32",
      arrow.vectorFromArray([-(2 ** 31), 2 ** 31 - 1, null], new arrow.Int32()),
      [-(2 ** 31), 2 ** 31 - 1, null],
    ],
    [
      "int64",
      arrow.vectorFromArray([-(2n ** 63n), 2n ** 63n - 1n, 1n, null], new arrow.Int64()),
      [-(2n ** 63n), 2n ** 63n - 1n, 1n, null],
    ],
    ["float32", arrow.vectorFromArray([1.5, -0.25, null], new arrow.Float32()), [1.5, -0.25, null]],
    ["float64", arrow.vectorFromArray([Math.PI, Number.NaN, null], new arrow.Float64()), [Math.PI, Number.NaN, null]],
    [
      "utf8",
      arrow.vectorFromArray(["a", "héllo wörld ✓", "", null], new arrow.Utf8()),
      ["a", "héllo wörld ✓", "", null],
    ],
    [
      "utf8-long",
      arrow.vectorFromArray(["x".repeat(100), `${"é".repeat(60)}!`], new arrow.Utf8()),
      ["x".repeat(100), `${"é".repeat(60)}!`],
    ],
    [
      "binary",
      arrow.vectorFromArray([new Uint8Array([1, 2, 255]), null], new arrow.Binary()),
      [new Uint8Array([1, 2, 255]), null],
    ],
  ];
  it.each(cases)("%s", (name, vector, expected) => {
    const rows = decodeRows(single(name, vector));
    expect(rows.map((r) => r.get(0))).toEqual(expected);
    expect(rows.map((r) => r.get(name))).toEqual(expected);
  });

  it("bigint stays bigint even when small", () => {
    const [row] = decodeRows(single("l", arrow.vectorFromArray([5n], new arrow.Int64())));
    expect(typeof row?.get("l")).toBe("bigint");
  });

  it("decimal128 keeps every digit, including negative values", () => {
    const type = new arrow.Decimal(18, 38, 128);
    const unscaled = [123456789012345678901234567890123456n, -1n, -(10n ** 37n) + 7n];
    const words = new Uint32Array(unscaled.length * 4);
    unscaled.forEach((v, i) => {
      let u = BigInt.asUintN(128, v);
      for (let w = 0; w < 4; w++) {
        words[i * 4 + w] = Number(u & 0xffffffffn);
        u >>= 32n;
      }
    });
    const data = arrow.makeData({ type, length: 3, nullCount: 0, data: words });
    const rows = decodeRows(single("d", arrow.makeVector(data)));
    expect(rows.map((r) => (r.get(0) as Decimal).toString())).toEqual([
      "123456789012345678.901234567890123456",
      "-0.000000000000000001",
      "-9999999999999999999.999999999999999993",
    ]);
  });

  it("timestamps keep microseconds; zone-less timestamps are ntz; dates are UTC midnights", () => {
    const micros = new BigInt64Array([1704164645123456n, -1n]);
    const tz = arrow.makeData({ type: new arrow.TimestampMicrosecond("UTC"), length: 2, nullCount: 0, data: micros });
    const ntz = arrow.makeData({ type: new arrow.TimestampMicrosecond(), length: 2, nullCount: 0, data: micros });
    const days = arrow.makeData({
      type: new arrow.DateDay(),
      length: 2,
      nullCount: 0,
      data: new Int32Array([19756, -1]),
    });
    const table = new arrow.Table({ t: arrow.makeVector(tz), n: arrow.makeVector(ntz), d: arrow.makeVector(days) });
    const [a, b] = decodeRows(table) as [Row, Row];
    const t = a.get("t") as Timestamp;
    expect(t).toBeInstanceOf(Timestamp);
    expect(t.epochMicros).toBe(1704164645123456n);
    expect(t.ntz).toBe(false);
    expect(t.toISOString()).toBe("2024-01-02T03:04:05.123456Z");
    expect(t.toDate().toISOString()).toBe("2024-01-02T03:04:05.123Z");
    expect((a.get("n") as Timestamp).ntz).toBe(true);
    expect((b.get("t") as Timestamp).toISOString()).toBe("1969-12-31T23:59:59.999999Z");
    expect((a.get("d") as Date).toISOString()).toBe("2024-02-03T00:00:00.000Z");
    expect((b.get("d") as Date).toISOString()).toBe("1969-12-31T00:00:00.000Z");
  });
});

describe("decodeRows: nested and UDT values (round trip through the LocalRelation encoder)", () => {
  const schema = new StructType([
    new StructField("id", new LongType()),
    new StructField("arr", new ArrayType(new IntegerType())),
    new StructField("m", new MapType(new StringType(), new DoubleType())),
    new StructField(
      "s",
      new StructType([
        new StructField("x", new IntegerType()),
        new StructField("tags", new ArrayType(new StringType())),
      ]),
    ),
    new StructField("dec", new DecimalType(38, 18)),
    new StructField("ts", new TimestampType()),
    new StructField("ntz", new TimestampNTZType()),
    new StructField("day", new DateType()),
    new StructField("vec", vectorUDT()),
  ]);
  const input = [
    {
      id: 2n ** 40n,
      arr: [1, null, 3],
      m: new Map([
        ["a", 1.5],
        ["b", null],
      ]),
      s: { x: 7, tags: ["p", "q"] },
      dec: Decimal.parse("-12345678901234567890.123456789012345678"),
      ts: new Timestamp(1n),
      ntz: new Timestamp(-86400000001n, true),
      day: new Date(Date.UTC(2000, 1, 29)),
      vec: Float64Array.from([0.5, -1, 2]),
    },
    { id: null, arr: [], m: new Map(), s: null, dec: null, ts: null, ntz: null, day: null, vec: null },
  ];

  it("decodes what was encoded, value for value", () => {
    const table = arrow.tableFromIPC(encodeLocalRows(input, schema));
    const rows = decodeRows(table, toProtoDataType(schema));
    expect(rows).toHaveLength(2);
    const [r0, r1] = rows as [Row, Row];
    expect(r0.get("id")).toBe(2n ** 40n);
    expect(r0.get("arr")).toEqual([1, null, 3]);
    expect(r0.get("m")).toEqual(
      new Map([
        ["a", 1.5],
        ["b", null],
      ]),
    );
    const s = r0.get("s") as Row;
    expect(s).toBeInstanceOf(Row);
    expect(s.get("x")).toBe(7);
    expect(s.get("tags")).toEqual(["p", "q"]);
    expect((r0.get("dec") as Decimal).toString()).toBe("-12345678901234567890.123456789012345678");
    expect((r0.get("ts") as Timestamp).epochMicros).toBe(1n);
    expect((r0.get("ntz") as Timestamp).epochMicros).toBe(-86400000001n);
    expect((r0.get("ntz") as Timestamp).ntz).toBe(true);
    expect((r0.get("day") as Date).toISOString()).toBe("2000-02-29T00:00:00.000Z");
    expect(r0.get("vec")).toEqual(Float64Array.from([0.5, -1, 2]));
    expect(r1.values).toEqual([null, [], new Map(), null, null, null, null, null, null]);
  });

  it("decodes sparse vectors to dense Float64Arrays and matrices to DenseMatrix", () => {
    const vecSchema = new StructType([new StructField("v", vectorUDT()), new StructField("mat", matrixUDT())]);
    const sqlOnly = new StructType([
      new StructField("v", vectorUDT().sqlType),
      new StructField("mat", matrixUDT().sqlType),
    ]);
    const rows = [
      // sparse size 5 {1: 2.0, 4: -1.0}; dense 2x2 matrix column-major [1,2,3,4]
      { v: [0, 5, [1, 4], [2, -1]], mat: [1, 2, 2, null, null, [1, 2, 3, 4], false] },
      // dense vector; sparse CSC 2x3 with (0,0)=9, (1,2)=8
      { v: [1, null, null, [3, 4]], mat: [0, 2, 3, [0, 1, 1, 2], [0, 1], [9, 8], false] },
      // transposed dense: values row-major
      { v: null, mat: [1, 2, 2, null, null, [1, 2, 3, 4], true] },
    ];
    const table = arrow.tableFromIPC(encodeLocalRows(rows, sqlOnly));
    const decoded = decodeRows(table, vecSchema);
    expect(decoded[0]?.get("v")).toEqual(Float64Array.from([0, 2, 0, 0, -1]));
    expect(decoded[1]?.get("v")).toEqual(Float64Array.from([3, 4]));
    expect(decoded[2]?.get("v")).toBeNull();
    const m0 = (decoded[0] as Row).get("mat") as DenseMatrix;
    expect(m0).toBeInstanceOf(DenseMatrix);
    expect(m0.toArray()).toEqual([
      [1, 3],
      [2, 4],
    ]);
    expect(((decoded[1] as Row).get("mat") as DenseMatrix).toArray()).toEqual([
      [9, 0, 0],
      [0, 0, 8],
    ]);
    expect(((decoded[2] as Row).get("mat") as DenseMatrix).toArray()).toEqual([
      [1, 2],
      [3, 4],
    ]);
    // Without the Spark schema the UDT is just its struct.
    expect(decodeRows(table)[1]?.get("v")).toBeInstanceOf(Row);
  });
});

describe("Row", () => {
  it("keeps duplicate names by position and first-wins by name", () => {
    const table = arrow.tableFromIPC(
      encodeLocalRows(
        [[1, "a"]],
        new StructType([new StructField("id", new IntegerType()), new StructField("x", new StringType())]),
      ),
    );
    const schema = new StructType([new StructField("id", new IntegerType()), new StructField("id", new StringType())]);
    const [row] = decodeRows(table, schema);
    expect(row?.fieldNames).toEqual(["id", "id"]);
    expect(row?.get("id")).toBe(1);
    expect(row?.get(1)).toBe("a");
    expect(row?.getAll("id")).toEqual([1, "a"]);
    expect([...(row as Row)]).toEqual([1, "a"]);
    expect(() => row?.get("nope")).toThrow(/no field "nope"/);
    expect(() => row?.get(2)).toThrow(/no position 2/);
  });

  it("toJSON is JSON-safe and lossless for bigint/decimal/timestamp", () => {
    const row = Row.fromObject({
      l: 2n ** 63n - 1n,
      d: Decimal.parse("0.10"),
      t: new Timestamp(1704164645123456n),
      day: new Date(Date.UTC(2024, 0, 2)),
      b: new Uint8Array([1, 2]),
      m: new Map([[1, "x"]]),
      v: Float64Array.from([1, 2]),
      nested: Row.fromObject({ k: 1n }),
    });
    expect(JSON.parse(JSON.stringify(row))).toEqual({
      l: "9223372036854775807",
      d: "0.10",
      t: "2024-01-02T03:04:05.123456Z",
      day: "2024-01-02",
      b: "AQI=",
      m: [[1, "x"]],
      v: [1, 2],
      nested: { k: "1" },
    });
    expect(row.toObject().nested).toEqual({ k: 1n });
  });
});
