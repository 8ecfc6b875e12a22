import { createHash } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import * as arrow from "apache-arrow";
import * as pb from "#connect-proto";
import {
  ArrayType,
  BinaryType,
  BooleanType,
  ByteType,
  CharType,
  type DataType,
  DateType,
  DayTimeIntervalType,
  DecimalType,
  DoubleType,
  FloatType,
  IntegerType,
  LongType,
  MATRIX_UDT_CLASS,
  MapType,
  NullType,
  parseSchemaDDL,
  ShortType,
  StringType,
  StructField,
  StructType,
  TimestampNTZType,
  TimestampType,
  UserDefinedType,
  VarcharType,
  VECTOR_UDT_CLASS,
  vectorUDT,
  YearMonthIntervalType,
} from "./data-types.ts";
import { PlanError } from "./errors.ts";
import { Row } from "./row.ts";
import { Decimal, DenseMatrix, Timestamp } from "./spark-values.ts";

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Rows per Arrow record batch in the IPC stream sent to the server. */
const LOCAL_RELATION_BATCH_ROWS = 8192;

/**
 * Largest Arrow payload sent inline in a `LocalRelation` (inside the ExecutePlan message). The
 * server accepts messages up to 128 MiB by default (`spark.connect.grpc.maxInboundMessageSize`)
 * and caches local relations above 64 MiB (`spark.sql.session.localRelationCacheThreshold`);
 * orchard switches earlier, at 32 MiB.
 */
export const LOCAL_RELATION_INLINE_MAX_BYTES = 32 * 1024 * 1024;

/**
 * Bigger local data is uploaded as session artifacts (`cache/<sha256>`, AddArtifacts RPC) in
 * Arrow IPC chunks of about this size, and referenced by a `ChunkedCachedLocalRelation`.
 */
const LOCAL_RELATION_CHUNK_BYTES = 16 * 1024 * 1024;

/**
 * The narrowest exact Spark type of a JS value (PySpark: `_infer_type`):
 * null -> void; boolean; whole numbers in int32 -> int, other safe whole numbers -> bigint;
 * other numbers -> double; bigint -> bigint (decimal(38,0) beyond int64); string; Uint8Array ->
 * binary; Date -> timestamp; Timestamp -> timestamp / timestamp_ntz; Decimal -> decimal(p,s);
 * Float64Array -> Spark ML vector; arrays -> array of the merged element type; Map -> map;
 * Row or plain object -> struct.
 */
export function inferType(value: unknown): DataType {
  if (value === null || value === undefined) return new NullType();
  switch (typeof value) {
    case "boolean":
      return new BooleanType();
    case "number":
      if (Number.isInteger(value)) {
        if (value >= INT32_MIN && value <= INT32_MAX) return new IntegerType();
        if (Number.isSafeInteger(value)) return new LongType();
      }
      return new DoubleType();
    case "bigint":
      if (value >= INT64_MIN && value <= INT64_MAX) return new LongType();
      if ((value < 0n ? -value : value).toString().length <= 38) return new DecimalType(38, 0);
      throw new PlanError({ message: `integer ${value} has more than 38 digits; no Spark type holds it` });
    case "string":
      return new StringType();
    default:
      break;
  }
  if (value instanceof Decimal) {
    const p = Math.min(38, Math.max(value.precision, 1));
    return new DecimalType(p, Math.min(value.scale, p));
  }
  if (value instanceof Timestamp) return value.ntz ? new TimestampNTZType() : new TimestampType();
  if (value instanceof Date) return new TimestampType();
  if (value instanceof Float64Array) return vectorUDT();
  if (value instanceof Uint8Array) return new BinaryType();
  if (Array.isArray(value)) {
    let t: DataType = new NullType();
    for (const v of value) t = mergeTypes(t, inferType(v), "array element");
    return new ArrayType(t, true);
  }
  if (value instanceof Map) {
    let k: DataType = new NullType();
    let v: DataType = new NullType();
    for (const [key, val] of value) {
      k = mergeTypes(k, inferType(key), "map key");
      v = mergeTypes(v, inferType(val), "map value");
    }
    return new MapType(k, v, true);
  }
  if (value instanceof Row) {
    return new StructType(value.fieldNames.map((n, i) => new StructField(n, inferType(value.values[i]), true)));
  }
  if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    return new StructType(
      Object.entries(value as Record<string, unknown>).map(([n, v]) => new StructField(n, inferType(v), true)),
    );
  }
  throw new PlanError({ message: `cannot infer a Spark type for a value of type ${describe(value)}; pass a schema` });
}

function describe(v: unknown): string {
  if (typeof v !== "object" || v === null) return typeof v;
  return (v as object).constructor?.name ?? "object";
}

/**
 * Merges two inferred types of one column: void yields to anything, int widens to bigint, int
 * to double, decimals to the larger precision/scale; structs merge by field name.
 */
function mergeTypes(a: DataType, b: DataType, where: string): DataType {
  if (a instanceof NullType) return b;
  if (b instanceof NullType) return a;
  if (a.equals(b)) return a;
  if (a instanceof IntegerType && b instanceof LongType) return b;
  if (a instanceof LongType && b instanceof IntegerType) return a;
  if (a instanceof IntegerType && b instanceof DoubleType) return b;
  if (a instanceof DoubleType && b instanceof IntegerType) return a;
  if (a instanceof DecimalType && b instanceof DecimalType) {
    const scale = Math.max(a.scale, b.scale);
    const intDigits = Math.max(a.precision - a.scale, b.precision - b.scale);
    return new DecimalType(Math.min(38, intDigits + scale), Math.min(scale, 38));
  }
  if (a instanceof ArrayType && b instanceof ArrayType)
    return new ArrayType(mergeTypes(a.elementType, b.elementType, where), true);
  if (a instanceof MapType && b instanceof MapType) {
    return new MapType(mergeTypes(a.keyType, b.keyType, where), mergeTypes(a.valueType, b.valueType, where), true);
  }
  if (a instanceof StructType && b instanceof StructType) {
    const fields = a.fields.map((f) => {
      const other = b.field(f.name);
      return other ? new StructField(f.name, mergeTypes(f.dataType, other.dataType, `${where}.${f.name}`), true) : f;
    });
    for (const f of b.fields) if (!a.field(f.name)) fields.push(f);
    return new StructType(fields);
  }
  throw new PlanError({
    message: `cannot merge types ${a.simpleString()} and ${b.simpleString()} in ${where}; pass a schema`,
  });
}

// ---- values -> Arrow ------------------------------------------------------------------------

function arrowTypeOf(t: DataType): arrow.DataType {
  if (t instanceof UserDefinedType) return arrowTypeOf(t.sqlType);
  if (t instanceof NullType) return new arrow.Null();
  if (t instanceof BooleanType) return new arrow.Bool();
  if (t instanceof ByteType) return new arrow.Int8();
  if (t instanceof ShortType) return new arrow.Int16();
  if (t instanceof IntegerType) return new arrow.Int32();
  if (t instanceof LongType) return new arrow.Int64();
  if (t instanceof FloatType) return new arrow.Float32();
  if (t instanceof DoubleType) return new arrow.Float64();
  if (t instanceof DecimalType) return new arrow.Decimal(t.scale, t.precision, 128);
  if (t instanceof StringType || t instanceof CharType || t instanceof VarcharType) return new arrow.Utf8();
  if (t instanceof BinaryType) return new arrow.Binary();
  if (t instanceof DateType) return new arrow.DateDay();
  if (t instanceof TimestampType) return new arrow.TimestampMicrosecond("UTC");
  if (t instanceof TimestampNTZType) return new arrow.TimestampMicrosecond();
  if (t instanceof DayTimeIntervalType) return new arrow.DurationMicrosecond();
  if (t instanceof YearMonthIntervalType) return new arrow.IntervalYearMonth();
  if (t instanceof ArrayType) {
    return new arrow.List(new arrow.Field("element", arrowTypeOf(t.elementType), t.containsNull));
  }
  if (t instanceof MapType) {
    return new arrow.Map_(
      new arrow.Field<arrow.Struct<{ key: arrow.DataType; value: arrow.DataType }>>(
        "entries",
        new arrow.Struct<{ key: arrow.DataType; value: arrow.DataType }>([
          new arrow.Field("key", arrowTypeOf(t.keyType), false),
          new arrow.Field("value", arrowTypeOf(t.valueType), t.valueContainsNull),
        ]),
        false,
      ),
      false,
    );
  }
  if (t instanceof StructType) {
    // Arrow nullability mirrors Spark's: the server reconciles the Arrow schema with the given
    // one and refuses a nullable source for a non-nullable target.
    return new arrow.Struct(t.fields.map((f) => new arrow.Field(f.name, arrowTypeOf(f.dataType), f.nullable)));
  }
  throw new PlanError({ message: `createDataFrame does not support columns of type ${t.simpleString()}` });
}

function validity(values: readonly unknown[]): { bitmap: Uint8Array; nulls: number } {
  const bitmap = new Uint8Array(Math.ceil(values.length / 8));
  let nulls = 0;
  values.forEach((v, i) => {
    if (v === null || v === undefined) nulls++;
    else bitmap[i >> 3] = (bitmap[i >> 3] as number) | (1 << (i & 7));
  });
  return { bitmap, nulls };
}

function bad(t: DataType, v: unknown, path: string, why = ""): never {
  const shown = typeof v === "bigint" ? `${v}n` : typeof v === "object" ? describe(v) : JSON.stringify(v);
  throw new PlanError({
    message: `value ${shown} at ${path} does not fit ${t.simpleString()}${why ? `: ${why}` : ""}`,
  });
}

function toDecimalUnscaled(v: unknown, t: DecimalType, path: string): bigint {
  let d: Decimal;
  if (v instanceof Decimal) d = v;
  else if (typeof v === "string") d = Decimal.parse(v);
  else if (typeof v === "bigint") d = new Decimal(v, 0);
  else if (typeof v === "number" && Number.isFinite(v)) d = Decimal.parse(String(v));
  else bad(t, v, path);
  let unscaled = d.unscaled;
  if (d.scale > t.scale) {
    const f = 10n ** BigInt(d.scale - t.scale);
    if (unscaled % f !== 0n) bad(t, v, path, `more than ${t.scale} fraction digits`);
    unscaled /= f;
  } else unscaled *= 10n ** BigInt(t.scale - d.scale);
  if ((unscaled < 0n ? -unscaled : unscaled).toString().length > t.precision) bad(t, v, path, "too many digits");
  return unscaled;
}

function toMicros(v: unknown, t: DataType, path: string): bigint {
  if (v instanceof Timestamp) return v.epochMicros;
  if (v instanceof Date) return BigInt(v.getTime()) * 1000n;
  if (typeof v === "string") return Timestamp.parse(v).epochMicros;
  if (typeof v === "bigint") return v;
  return bad(t, v, path);
}

function toEpochDay(v: unknown, t: DataType, path: string): number {
  if (v instanceof Date) return Math.floor(v.getTime() / 86400000);
  if (typeof v === "string" && /^\d{4}-\d{2}-\d{2}$/.test(v))
    return Math.floor(Date.parse(`${v}T00:00:00Z`) / 86400000);
  if (v instanceof Timestamp)
    return Number((v.epochMicros - (((v.epochMicros % 86400000000n) + 86400000000n) % 86400000000n)) / 86400000000n);
  return bad(t, v, path);
}

function vectorToStruct(v: unknown, path: string): unknown {
  if (v === null || v === undefined) return null;
  const values = v instanceof Float64Array ? Array.from(v) : Array.isArray(v) ? (v as number[]) : undefined;
  if (values === undefined) return bad(vectorUDT(), v, path, "expected a Float64Array");
  return [1, null, null, values];
}

function matrixToStruct(v: unknown, path: string, t: DataType): unknown {
  if (v === null || v === undefined) return null;
  if (!(v instanceof DenseMatrix)) return bad(t, v, path, "expected a DenseMatrix");
  return [1, v.numRows, v.numCols, null, null, Array.from(v.values), false];
}

function structValues(v: unknown, t: StructType, path: string): readonly unknown[] {
  if (v instanceof Row) return t.fields.map((f, j) => (v.has(f.name) ? v.get(f.name) : v.values[j]));
  if (Array.isArray(v)) return v;
  if (typeof v === "object" && v !== null) return t.fields.map((f) => (v as Record<string, unknown>)[f.name]);
  return bad(t, v, path);
}

/** A non-nullable field must hold a value wherever its parent row exists. */
function requireValues(column: readonly unknown[], parents: readonly unknown[], path: string, offset = 0): void {
  column.forEach((v, i) => {
    if ((v === null || v === undefined) && parents[i] !== null) {
      throw new PlanError({ message: `${path} is not nullable but row ${offset + i} has no value` });
    }
  });
}

/** Encodes one column of JS values as Arrow data of the Arrow form of Spark type `t`. */
function encode(t: DataType, values: readonly unknown[], path: string): arrow.Data {
  if (t instanceof UserDefinedType) {
    if (t.jvmClass === VECTOR_UDT_CLASS)
      return encode(
        t.sqlType,
        values.map((v) => vectorToStruct(v, path)),
        path,
      );
    if (t.jvmClass === MATRIX_UDT_CLASS)
      return encode(
        t.sqlType,
        values.map((v) => matrixToStruct(v, path, t)),
        path,
      );
    return encode(t.sqlType, values, path);
  }
  const type = arrowTypeOf(t);
  const length = values.length;
  if (t instanceof NullType) {
    values.forEach((v, i) => {
      if (v !== null && v !== undefined) bad(t, v, `${path}[${i}]`);
    });
    return arrow.makeData({ type: type as arrow.Null, length, nullCount: length });
  }
  const { bitmap, nulls } = validity(values);
  const nullBitmap = nulls > 0 ? bitmap : undefined;
  const at = (i: number) => `${path}[${i}]`;
  const present = (i: number) => values[i] !== null && values[i] !== undefined;

  if (t instanceof BooleanType) {
    const data = new Uint8Array(Math.ceil(length / 8));
    values.forEach((v, i) => {
      if (!present(i)) return;
      if (typeof v !== "boolean") bad(t, v, at(i));
      if (v) data[i >> 3] = (data[i >> 3] as number) | (1 << (i & 7));
    });
    return arrow.makeData({ type: type as arrow.Bool, length, nullCount: nulls, nullBitmap, data });
  }
  if (t instanceof ByteType || t instanceof ShortType || t instanceof IntegerType) {
    const [lo, hi, Ctor] =
      t instanceof ByteType
        ? [-128, 127, Int8Array]
        : t instanceof ShortType
          ? [-32768, 32767, Int16Array]
          : [INT32_MIN, INT32_MAX, Int32Array];
    const data = new Ctor(length);
    values.forEach((v, i) => {
      if (!present(i)) return;
      const n = typeof v === "bigint" ? Number(v) : v;
      if (typeof n !== "number" || !Number.isInteger(n) || n < lo || n > hi) bad(t, v, at(i));
      data[i] = n;
    });
    return arrow.makeData({
      type: type as arrow.Int32,
      length,
      nullCount: nulls,
      nullBitmap,
      data: data as Int32Array,
    });
  }
  if (t instanceof LongType) {
    const data = new BigInt64Array(length);
    values.forEach((v, i) => {
      if (!present(i)) return;
      let b: bigint;
      if (typeof v === "bigint") b = v;
      else if (typeof v === "number" && Number.isSafeInteger(v)) b = BigInt(v);
      else bad(t, v, at(i), "expected a bigint or a safe whole number");
      if (b < INT64_MIN || b > INT64_MAX) bad(t, v, at(i));
      data[i] = b;
    });
    return arrow.makeData({ type: type as arrow.Int64, length, nullCount: nulls, nullBitmap, data });
  }
  if (t instanceof FloatType || t instanceof DoubleType) {
    const data = t instanceof FloatType ? new Float32Array(length) : new Float64Array(length);
    values.forEach((v, i) => {
      if (!present(i)) return;
      if (typeof v === "number") data[i] = v;
      else if (typeof v === "bigint") data[i] = Number(v);
      else bad(t, v, at(i));
    });
    return arrow.makeData({
      type: type as arrow.Float64,
      length,
      nullCount: nulls,
      nullBitmap,
      data: data as Float64Array,
    });
  }
  if (t instanceof DecimalType) {
    const data = new Uint32Array(length * 4);
    values.forEach((v, i) => {
      if (!present(i)) return;
      let u = BigInt.asUintN(128, toDecimalUnscaled(v, t, at(i)));
      for (let w = 0; w < 4; w++) {
        data[i * 4 + w] = Number(u & 0xffffffffn);
        u >>= 32n;
      }
    });
    return arrow.makeData({ type: type as arrow.Decimal, length, nullCount: nulls, nullBitmap, data });
  }
  if (t instanceof StringType || t instanceof CharType || t instanceof VarcharType || t instanceof BinaryType) {
    const enc = new TextEncoder();
    const parts: Uint8Array[] = [];
    const valueOffsets = new Int32Array(length + 1);
    let total = 0;
    values.forEach((v, i) => {
      if (present(i)) {
        let bytes: Uint8Array;
        if (t instanceof BinaryType) {
          if (!(v instanceof Uint8Array)) bad(t, v, at(i));
          bytes = v;
        } else {
          if (typeof v !== "string") bad(t, v, at(i));
          bytes = enc.encode(v);
        }
        parts.push(bytes);
        total += bytes.length;
        if (total > INT32_MAX) throw new PlanError({ message: `column ${path} has more than 2 GiB of data` });
      }
      valueOffsets[i + 1] = total;
    });
    const data = new Uint8Array(total);
    let off = 0;
    for (const p of parts) {
      data.set(p, off);
      off += p.length;
    }
    return arrow.makeData({ type: type as arrow.Utf8, length, nullCount: nulls, nullBitmap, data, valueOffsets });
  }
  if (t instanceof DateType) {
    const data = new Int32Array(length);
    values.forEach((v, i) => {
      if (present(i)) data[i] = toEpochDay(v, t, at(i));
    });
    return arrow.makeData({ type: type as arrow.DateDay, length, nullCount: nulls, nullBitmap, data });
  }
  if (t instanceof TimestampType || t instanceof TimestampNTZType || t instanceof DayTimeIntervalType) {
    const data = new BigInt64Array(length);
    values.forEach((v, i) => {
      if (!present(i)) return;
      data[i] =
        t instanceof DayTimeIntervalType ? (typeof v === "bigint" ? v : bad(t, v, at(i))) : toMicros(v, t, at(i));
    });
    return arrow.makeData({ type: type as arrow.TimestampMicrosecond, length, nullCount: nulls, nullBitmap, data });
  }
  if (t instanceof YearMonthIntervalType) {
    const data = new Int32Array(length);
    values.forEach((v, i) => {
      if (!present(i)) return;
      if (typeof v !== "number" || !Number.isInteger(v)) bad(t, v, at(i));
      data[i] = v;
    });
    return arrow.makeData({ type: type as arrow.IntervalYearMonth, length, nullCount: nulls, nullBitmap, data });
  }
  if (t instanceof ArrayType) {
    const valueOffsets = new Int32Array(length + 1);
    const flat: unknown[] = [];
    values.forEach((v, i) => {
      if (present(i)) {
        if (!(Array.isArray(v) || ArrayBuffer.isView(v))) bad(t, v, at(i));
        for (const x of v as ArrayLike<unknown> & Iterable<unknown>) flat.push(x);
      }
      valueOffsets[i + 1] = flat.length;
    });
    const child = encode(t.elementType, flat, `${path}[]`);
    return arrow.makeData({ type: type as arrow.List, length, nullCount: nulls, nullBitmap, valueOffsets, child });
  }
  if (t instanceof MapType) {
    const valueOffsets = new Int32Array(length + 1);
    const keys: unknown[] = [];
    const vals: unknown[] = [];
    values.forEach((v, i) => {
      if (present(i)) {
        const entries =
          v instanceof Map
            ? [...v]
            : typeof v === "object"
              ? Object.entries(v as Record<string, unknown>)
              : bad(t, v, at(i));
        for (const [k, x] of entries) {
          if (k === null || k === undefined) bad(t, v, at(i), "map keys cannot be null");
          keys.push(k);
          vals.push(x);
        }
      }
      valueOffsets[i + 1] = keys.length;
    });
    const entriesType = (type as arrow.Map_).children[0] as arrow.Field<arrow.Struct>;
    const child = arrow.makeData({
      type: entriesType.type,
      length: keys.length,
      nullCount: 0,
      children: [encode(t.keyType, keys, `${path}{key}`), encode(t.valueType, vals, `${path}{value}`)],
    });
    return arrow.makeData({ type: type as arrow.Map_, length, nullCount: nulls, nullBitmap, valueOffsets, child });
  }
  if (t instanceof StructType) {
    const rows = values.map((v, i) => (present(i) ? structValues(v, t, at(i)) : null));
    const children = t.fields.map((f, j) => {
      const column = rows.map((r) => (r === null ? null : r[j]));
      if (!f.nullable) requireValues(column, rows, `${path}.${f.name}`);
      return encode(f.dataType, column, `${path}.${f.name}`);
    });
    return arrow.makeData({ type: type as arrow.Struct, length, nullCount: nulls, nullBitmap, children });
  }
  return bad(t, values[0], path, "unsupported type");
}

/** Input accepted by `createDataFrame`: objects, arrays (positional), Rows, or an Arrow table. */
export type LocalData = readonly Record<string, unknown>[] | readonly unknown[][] | readonly Row[] | arrow.Table;

/** `createDataFrame`'s schema argument: a StructType, a DDL string, or column names only (types inferred). */
export type LocalSchema = StructType | string | readonly string[];

function rowValues(row: unknown, names: readonly string[], index: number): readonly unknown[] {
  if (row instanceof Row) return names.map((n, j) => (row.has(n) ? row.get(n) : row.values[j]));
  if (Array.isArray(row)) return row;
  if (typeof row === "object" && row !== null) return names.map((n) => (row as Record<string, unknown>)[n]);
  throw new PlanError({
    message: `createDataFrame row ${index} is a ${typeof row}; expected an object, an array or a Row`,
  });
}

/** Resolves the schema of local rows: given, partly given (names), or inferred from every row. */
export function resolveLocalSchema(data: readonly unknown[], schema?: LocalSchema): StructType {
  if (schema instanceof StructType) return schema;
  if (typeof schema === "string") return parseSchemaDDL(schema);
  let names: string[];
  if (schema !== undefined) names = [...schema];
  else {
    const seen = new Set<string>();
    names = [];
    let width = 0;
    const addName = (n: string) => {
      if (!seen.has(n)) {
        seen.add(n);
        names.push(n);
      }
    };
    for (const row of data) {
      if (row instanceof Row) for (const n of row.fieldNames) addName(n);
      else if (Array.isArray(row)) width = Math.max(width, row.length);
      else if (typeof row === "object" && row !== null) for (const n of Object.keys(row)) addName(n);
    }
    for (let j = names.length; j < width; j++) names.push(`_${j + 1}`);
  }
  const types: DataType[] = names.map(() => new NullType());
  data.forEach((row, i) => {
    const vals = rowValues(row, names, i);
    names.forEach((n, j) => {
      types[j] = mergeTypes(types[j] as DataType, inferType(vals[j]), `column ${n}`);
    });
  });
  return new StructType(names.map((n, j) => new StructField(n, types[j] as DataType, true)));
}

/** Arrow IPC stream bytes + Spark schema of local rows (batches of LOCAL_RELATION_BATCH_ROWS). */
export function encodeLocalRows(data: readonly unknown[], schema: StructType): Uint8Array {
  return arrow.tableToIPC(encodeLocalTable(data, schema), "stream");
}

/** Local rows as an Arrow table of the Arrow form of `schema` (batches of LOCAL_RELATION_BATCH_ROWS). */
function encodeLocalTable(data: readonly unknown[], schema: StructType): arrow.Table {
  const names = schema.names;
  const arrowSchema = new arrow.Schema(
    schema.fields.map((f) => new arrow.Field(f.name, arrowTypeOf(f.dataType), f.nullable)),
  );
  const batches: arrow.RecordBatch[] = [];
  for (
    let start = 0;
    start < data.length || (start === 0 && batches.length === 0);
    start += LOCAL_RELATION_BATCH_ROWS
  ) {
    const slice = data.slice(start, start + LOCAL_RELATION_BATCH_ROWS).map((r, k) => {
      const vals = rowValues(r, names, start + k);
      if (vals.length !== names.length && Array.isArray(r)) {
        throw new PlanError({
          message: `createDataFrame row ${start + k} has ${vals.length} values; the schema has ${names.length} columns`,
        });
      }
      return vals;
    });
    const children = schema.fields.map((f, j) => {
      const column = slice.map((v) => v[j]);
      if (!f.nullable) requireValues(column, slice, f.name, start);
      return encode(f.dataType, column, f.name);
    });
    const struct = arrow.makeData({
      type: new arrow.Struct(arrowSchema.fields),
      length: slice.length,
      nullCount: 0,
      children,
    });
    batches.push(new arrow.RecordBatch(arrowSchema, struct));
    if (data.length === 0) break;
  }
  return new arrow.Table(arrowSchema, batches);
}

/**
 * Spark reads Arrow dictionary columns as their indices, so dictionary-encoded columns (what
 * `tableFromArrays` makes of strings) are expanded to plain columns first.
 */
function withoutDictionaries(table: arrow.Table): arrow.Table {
  if (!table.schema.fields.some((f) => arrow.DataType.isDictionary(f.type))) return table;
  const columns: Record<string, arrow.Vector> = {};
  table.schema.fields.forEach((f, j) => {
    const v = table.getChildAt(j) as arrow.Vector;
    columns[f.name] = arrow.DataType.isDictionary(f.type)
      ? arrow.vectorFromArray([...v], (f.type as arrow.Dictionary).dictionary)
      : v;
  });
  return new arrow.Table(columns);
}

/** A session artifact to upload before the plan that references it runs. */
export interface LocalArtifact {
  /** `cache/<sha256 hex of data>`. */
  name: string;
  data: Uint8Array;
}

/** What `createDataFrame` sends: the relation, plus artifacts to upload first when the data is big. */
export interface LocalRelationPlan {
  relType: pb.Relation["relType"];
  artifacts: LocalArtifact[];
}

function cacheArtifact(data: Uint8Array): LocalArtifact {
  return { name: `cache/${createHash("sha256").update(data).digest("hex")}`, data };
}

function resolveArrowSchema(table: arrow.Table, schema?: LocalSchema): { table: arrow.Table; spark?: StructType } {
  if (schema === undefined) return { table };
  if (schema instanceof StructType) return { table, spark: schema };
  if (typeof schema === "string") return { table, spark: parseSchemaDDL(schema) };
  const names = schema as readonly string[];
  if (names.length !== table.schema.fields.length) {
    throw new PlanError({
      message: `createDataFrame got ${names.length} names for ${table.schema.fields.length} Arrow columns`,
    });
  }
  const renamed = new arrow.Table(
    Object.fromEntries(table.schema.fields.map((_f, j) => [names[j] as string, table.getChildAt(j) as arrow.Vector])),
  );
  return { table: renamed };
}

/**
 * Builds what `createDataFrame` sends. Rows are checked against the schema client-side
 * (PlanError naming the column and row) and encoded as Arrow; an Arrow table is sent as is
 * (dictionary columns expanded). The schema travels in Spark's JSON form, so nullability, UDTs
 * and metadata survive. Up to LOCAL_RELATION_INLINE_MAX_BYTES the Arrow IPC stream goes inline
 * in a `LocalRelation`; above, it is cut into IPC streams of about LOCAL_RELATION_CHUNK_BYTES,
 * each uploaded as a `cache/<sha256>` artifact, and a `ChunkedCachedLocalRelation` refers to them
 * (PySpark does the same above `spark.sql.session.localRelationCacheThreshold`).
 */
export function planLocalRelation(data: LocalData, schema?: LocalSchema): LocalRelationPlan {
  let table: arrow.Table;
  let sparkSchema: StructType | undefined;
  if (data instanceof arrow.Table) {
    ({ table, spark: sparkSchema } = resolveArrowSchema(withoutDictionaries(data), schema));
  } else {
    sparkSchema = resolveLocalSchema(data as readonly unknown[], schema);
    table = encodeLocalTable(data as readonly unknown[], sparkSchema);
  }
  const bytes = arrow.tableToIPC(table, "stream");
  const schemaJson = sparkSchema?.json();
  if (bytes.byteLength <= LOCAL_RELATION_INLINE_MAX_BYTES) {
    return {
      relType: {
        case: "localRelation",
        value: create(pb.LocalRelationSchema, {
          data: bytes,
          ...(schemaJson !== undefined ? { schema: schemaJson } : {}),
        }),
      },
      artifacts: [],
    };
  }
  const rowsPerChunk = Math.max(1, Math.floor((table.numRows * LOCAL_RELATION_CHUNK_BYTES) / bytes.byteLength));
  const artifacts: LocalArtifact[] = [];
  for (let start = 0; start < table.numRows; start += rowsPerChunk) {
    artifacts.push(cacheArtifact(arrow.tableToIPC(table.slice(start, start + rowsPerChunk), "stream")));
  }
  const schemaArtifact = schemaJson === undefined ? undefined : cacheArtifact(new TextEncoder().encode(schemaJson));
  return {
    relType: {
      case: "chunkedCachedLocalRelation",
      value: create(pb.ChunkedCachedLocalRelationSchema, {
        dataHashes: artifacts.map((a) => a.name.slice("cache/".length)),
        ...(schemaArtifact !== undefined ? { schemaHash: schemaArtifact.name.slice("cache/".length) } : {}),
      }),
    },
    artifacts: schemaArtifact === undefined ? artifacts : [...artifacts, schemaArtifact],
  };
}

/** The inline `LocalRelation` of small local data (PlanError when it is too big to go inline). */
export function buildLocalRelation(data: LocalData, schema?: LocalSchema): pb.LocalRelation {
  const plan = planLocalRelation(data, schema);
  if (plan.relType.case !== "localRelation") {
    throw new PlanError({ message: "local data too big for an inline LocalRelation; use planLocalRelation" });
  }
  return plan.relType.value;
}
