/**
 * JS values -> Arrow, following the type contract in [docs/types.md](../../../docs/types.md):
 * each column is checked against its Spark type (PlanError naming the column and row) and
 * encoded as the Arrow form of that type.
 */

import * as arrow from "apache-arrow";
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
  ShortType,
  StringType,
  StructType,
  TimestampNTZType,
  TimestampType,
  UserDefinedType,
  VarcharType,
  VECTOR_UDT_CLASS,
  vectorUDT,
  YearMonthIntervalType,
} from "../data-types.ts";
import { PlanError } from "../errors.ts";
import { Row } from "../row.ts";
import { Decimal, DenseMatrix, Timestamp } from "../spark-values.ts";
import { describeValue, rowValues } from "./local-rows.ts";

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Rows per Arrow record batch in the IPC stream sent to the server. */
export const LOCAL_RELATION_BATCH_ROWS = 8192;

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
  const shown = typeof v === "bigint" ? `${v}n` : typeof v === "object" ? describeValue(v) : JSON.stringify(v);
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

/** Arrow IPC stream bytes + Spark schema of local rows (batches of LOCAL_RELATION_BATCH_ROWS). */
export function encodeLocalRows(data: readonly unknown[], schema: StructType): Uint8Array {
  return arrow.tableToIPC(encodeLocalTable(data, schema), "stream");
}

/** Local rows as an Arrow table of the Arrow form of `schema` (batches of LOCAL_RELATION_BATCH_ROWS). */
export function encodeLocalTable(data: readonly unknown[], schema: StructType): arrow.Table {
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
export function withoutDictionaries(table: arrow.Table): arrow.Table {
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
