import * as arrow from "apache-arrow";
import type * as pb from "#connect-proto";
import { toDataType } from "../data-type-proto.ts";
import {
  type DataType,
  MATRIX_UDT_CLASS,
  StructType,
  TimestampNTZType,
  UserDefinedType,
  VECTOR_UDT_CLASS,
} from "../data-types.ts";
import { ProtocolError } from "../errors.ts";
import { Row, RowLayout } from "../row.ts";
import { type CalendarInterval, Decimal, DenseMatrix, Timestamp } from "../spark-values.ts";

/**
 * Arrow -> JS values, following the type contract in
 * [docs/types.md](../../../docs/types.md):
 *
 * | Spark type | JS value |
 * | --- | --- |
 * | boolean | boolean |
 * | tinyint, smallint, int | number |
 * | bigint | bigint (always) |
 * | float, double | number |
 * | decimal(p,s) | `Decimal` (exact unscaled bigint + scale) |
 * | string, char, varchar | string |
 * | binary | Uint8Array |
 * | date | Date at 00:00 UTC of that day |
 * | timestamp, timestamp_ntz | `Timestamp` (bigint epoch micros; `toDate()`, `ntz` flag) |
 * | interval day to second | bigint microseconds |
 * | interval year to month | number of months |
 * | interval (calendar) | `{ months, days, microseconds }` |
 * | time(p) | bigint nanoseconds since midnight |
 * | array | Array |
 * | map | Map |
 * | struct | Row |
 * | Spark ML vector (VectorUDT) | Float64Array (dense; sparse vectors expanded) |
 * | Spark ML matrix (MatrixUDT) | `DenseMatrix` (column-major; sparse expanded) |
 * | null / void | null |
 *
 * The Spark schema (`ExecutePlanResponse.schema`) is needed to recognise UDTs, which travel
 * as their SQL struct type; without it, vectors decode as Rows of their struct fields.
 */
type Reader = (data: arrow.Data, i: number) => unknown;

const utf8 = new TextDecoder();
const bufferCache = new WeakMap<Uint8Array, Buffer>();

function asBuffer(values: Uint8Array): Buffer {
  let b = bufferCache.get(values);
  if (b === undefined) {
    b = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
    bufferCache.set(values, b);
  }
  return b;
}

function withNulls(read: Reader): Reader {
  return (data, i) => (data.nullCount > 0 && !data.getValid(i) ? null : read(data, i));
}

function toMicros(v: bigint, unit: arrow.TimeUnit): bigint {
  switch (unit) {
    case arrow.TimeUnit.SECOND:
      return v * 1000000n;
    case arrow.TimeUnit.MILLISECOND:
      return v * 1000n;
    case arrow.TimeUnit.MICROSECOND:
      return v;
    default:
      return v / 1000n;
  }
}

function toNanos(v: bigint, unit: arrow.TimeUnit): bigint {
  switch (unit) {
    case arrow.TimeUnit.SECOND:
      return v * 1000000000n;
    case arrow.TimeUnit.MILLISECOND:
      return v * 1000000n;
    case arrow.TimeUnit.MICROSECOND:
      return v * 1000n;
    default:
      return v;
  }
}

/** Reads a little-endian two's-complement integer of `words` 32-bit words. */
function wordsToBigInt(values: Uint32Array, start: number, words: number): bigint {
  let v = 0n;
  for (let w = words - 1; w >= 0; w--) v = (v << 32n) | BigInt(values[start + w] as number);
  const bits = BigInt(words * 32);
  return v >= 1n << (bits - 1n) ? v - (1n << bits) : v;
}

function listBounds(data: arrow.Data, i: number): [number, number] {
  const offsets = data.valueOffsets as Int32Array | BigInt64Array;
  return [Number(offsets[i]), Number(offsets[i + 1])];
}

function udtReader(udt: UserDefinedType, arrowType: arrow.DataType): Reader {
  const inner = buildReader(arrowType, udt.sqlType);
  if (udt.jvmClass === VECTOR_UDT_CLASS) {
    return (data, i) => {
      const r = inner(data, i) as Row | null;
      return r === null ? null : vectorFromFields(r.values);
    };
  }
  if (udt.jvmClass === MATRIX_UDT_CLASS) {
    return (data, i) => {
      const r = inner(data, i) as Row | null;
      return r === null ? null : matrixFromFields(r.values);
    };
  }
  return inner;
}

function numbers(v: unknown): number[] {
  return (v as number[] | null) ?? [];
}

/**
 * Spark ML's VectorUDT storage struct `(type: 0 sparse | 1 dense, size, indices, values)`, as field
 * values in order (from an Arrow row or a server literal) -> Float64Array (sparse ones expanded).
 */
export function vectorFromFields(fields: readonly unknown[]): Float64Array {
  const type = fields[0] as number;
  const values = numbers(fields[3]);
  if (type === 1) return Float64Array.from(values);
  const out = new Float64Array(fields[1] as number);
  const indices = numbers(fields[2]);
  indices.forEach((idx, k) => {
    out[idx] = values[k] as number;
  });
  return out;
}

/**
 * Spark ML's MatrixUDT storage struct `(type: 0 sparse CSC | 1 dense column-major, numRows, numCols,
 * colPtrs, rowIndices, values, isTransposed)` as field values in order -> DenseMatrix.
 */
export function matrixFromFields(fields: readonly unknown[]): DenseMatrix {
  const [type, numRows, numCols, colPtrsV, rowIndicesV, valuesV, isTransposed] = fields as [
    number,
    number,
    number,
    unknown,
    unknown,
    unknown,
    boolean,
  ];
  const values = numbers(valuesV);
  const out = new Float64Array(numRows * numCols);
  if (type === 1) {
    for (let i = 0; i < numRows; i++) {
      for (let j = 0; j < numCols; j++) {
        out[j * numRows + i] = values[isTransposed ? i * numCols + j : j * numRows + i] as number;
      }
    }
  } else {
    const ptrs = numbers(colPtrsV);
    const idx = numbers(rowIndicesV);
    const outer = isTransposed ? numRows : numCols;
    for (let o = 0; o < outer; o++) {
      for (let k = ptrs[o] as number; k < (ptrs[o + 1] as number); k++) {
        const inner = idx[k] as number;
        const [i, j] = isTransposed ? [o, inner] : [inner, o];
        out[j * numRows + i] = values[k] as number;
      }
    }
  }
  return new DenseMatrix(numRows, numCols, out);
}

function structReader(type: arrow.Struct, spark: DataType | undefined): Reader {
  const sparkFields = spark instanceof StructType ? spark.fields : undefined;
  const layout = new RowLayout(type.children.map((f, j) => sparkFields?.[j]?.name ?? f.name));
  const readers = type.children.map((f, j) => buildReader(f.type, sparkFields?.[j]?.dataType));
  const n = readers.length;
  return withNulls((data, i) => {
    const values = new Array<unknown>(n);
    for (let j = 0; j < n; j++) values[j] = (readers[j] as Reader)(data.children[j] as arrow.Data, i);
    return new Row(layout, values);
  });
}

/** Builds a value reader for one Arrow type, guided by the Spark type when known. */
function buildReader(type: arrow.DataType, spark: DataType | undefined): Reader {
  if (spark instanceof UserDefinedType) return udtReader(spark, type);
  switch (type.typeId) {
    case arrow.Type.Null:
      return () => null;
    case arrow.Type.Bool:
      return withNulls((data, i) => {
        const bit = data.offset + i;
        return (((data.values as Uint8Array)[bit >> 3] as number) & (1 << (bit & 7))) !== 0;
      });
    case arrow.Type.Int:
    case arrow.Type.Float:
      return withNulls((data, i) => (data.values as Int32Array)[i]);
    case arrow.Type.Decimal: {
      const t = type as arrow.Decimal;
      const words = t.bitWidth / 32;
      return withNulls((data, i) => new Decimal(wordsToBigInt(data.values as Uint32Array, i * words, words), t.scale));
    }
    case arrow.Type.Utf8:
    case arrow.Type.LargeUtf8:
      return withNulls((data, i) => {
        const [s, e] = listBounds(data, i);
        const values = data.values as Uint8Array;
        if (e - s < 48) {
          let ascii = true;
          for (let k = s; k < e; k++) if ((values[k] as number) > 0x7f) ascii = false;
          if (ascii) return String.fromCharCode.apply(null, values.subarray(s, e) as unknown as number[]);
          return utf8.decode(values.subarray(s, e));
        }
        return asBuffer(values).toString("utf8", s, e);
      });
    case arrow.Type.Binary:
    case arrow.Type.LargeBinary:
      return withNulls((data, i) => {
        const [s, e] = listBounds(data, i);
        return (data.values as Uint8Array).slice(s, e);
      });
    case arrow.Type.FixedSizeBinary: {
      const w = (type as arrow.FixedSizeBinary).byteWidth;
      return withNulls((data, i) => (data.values as Uint8Array).slice(i * w, (i + 1) * w));
    }
    case arrow.Type.Date: {
      const t = type as arrow.Date_;
      if (t.unit === arrow.DateUnit.DAY)
        return withNulls((data, i) => new Date(((data.values as Int32Array)[i] as number) * 86400000));
      return withNulls((data, i) => new Date(Number((data.values as BigInt64Array)[i])));
    }
    case arrow.Type.Timestamp: {
      const t = type as arrow.Timestamp;
      const ntz = spark === undefined ? !t.timezone : spark instanceof TimestampNTZType;
      return withNulls((data, i) => new Timestamp(toMicros((data.values as BigInt64Array)[i] as bigint, t.unit), ntz));
    }
    case arrow.Type.Time: {
      const t = type as arrow.Time;
      return withNulls((data, i) =>
        toNanos(BigInt((data.values as BigInt64Array | Int32Array)[i] as bigint | number), t.unit),
      );
    }
    case arrow.Type.Duration: {
      const t = type as arrow.Duration;
      return withNulls((data, i) => toMicros((data.values as BigInt64Array)[i] as bigint, t.unit));
    }
    case arrow.Type.Interval: {
      const t = type as arrow.Interval;
      if (t.unit === arrow.IntervalUnit.YEAR_MONTH) return withNulls((data, i) => (data.values as Int32Array)[i]);
      if (t.unit === arrow.IntervalUnit.MONTH_DAY_NANO) {
        return withNulls((data, i): CalendarInterval => {
          const v = data.values as Int32Array;
          const dv = new DataView(v.buffer, v.byteOffset + i * 16, 16);
          return {
            months: dv.getInt32(0, true),
            days: dv.getInt32(4, true),
            microseconds: dv.getBigInt64(8, true) / 1000n,
          };
        });
      }
      return withNulls((data, i) => {
        const v = data.values as Int32Array;
        return { months: 0, days: v[2 * i] as number, microseconds: BigInt(v[2 * i + 1] as number) * 1000n };
      });
    }
    case arrow.Type.List:
    case arrow.Type.LargeList: {
      const child = (type as arrow.List).children[0] as arrow.Field;
      const sparkElem = spark !== undefined && "elementType" in spark ? (spark.elementType as DataType) : undefined;
      const read = buildReader(child.type, sparkElem);
      return withNulls((data, i) => {
        const [s, e] = listBounds(data, i);
        const c = data.children[0] as arrow.Data;
        const out = new Array<unknown>(e - s);
        for (let k = s; k < e; k++) out[k - s] = read(c, k);
        return out;
      });
    }
    case arrow.Type.FixedSizeList: {
      const t = type as arrow.FixedSizeList;
      const read = buildReader((t.children[0] as arrow.Field).type, undefined);
      return withNulls((data, i) => {
        const c = data.children[0] as arrow.Data;
        const out = new Array<unknown>(t.listSize);
        for (let k = 0; k < t.listSize; k++) out[k] = read(c, i * t.listSize + k);
        return out;
      });
    }
    case arrow.Type.Map: {
      const entries = (type as arrow.Map_).children[0] as arrow.Field<arrow.Struct>;
      const [kf, vf] = entries.type.children as [arrow.Field, arrow.Field];
      const sk = spark !== undefined && "keyType" in spark ? (spark.keyType as DataType) : undefined;
      const sv = spark !== undefined && "valueType" in spark ? (spark.valueType as DataType) : undefined;
      const readKey = buildReader(kf.type, sk);
      const readValue = buildReader(vf.type, sv);
      return withNulls((data, i) => {
        const [s, e] = listBounds(data, i);
        const ent = data.children[0] as arrow.Data;
        const kd = ent.children[0] as arrow.Data;
        const vd = ent.children[1] as arrow.Data;
        const m = new Map<unknown, unknown>();
        for (let k = s; k < e; k++) m.set(readKey(kd, k), readValue(vd, k));
        return m;
      });
    }
    case arrow.Type.Struct:
      return structReader(type as arrow.Struct, spark);
    case arrow.Type.Dictionary: {
      const t = type as arrow.Dictionary;
      const readDict = buildReader(t.dictionary, spark);
      return withNulls((data, i) => {
        const dict = data.dictionary;
        if (dict === undefined) throw new ProtocolError({ message: "dictionary-encoded column without a dictionary" });
        const key = Number((data.values as Int32Array)[i]);
        let k = key;
        for (const d of dict.data) {
          if (k < d.length) return readDict(d as arrow.Data, k);
          k -= d.length;
        }
        throw new ProtocolError({ message: `dictionary key ${key} out of range` });
      });
    }
    default:
      throw new ProtocolError({ message: `unsupported Arrow type ${String(type)} in a Spark result` });
  }
}

/**
 * Decodes Arrow record batches into Rows, reusing the readers for every batch. Create one per
 * result; `decode(batch)` may be called for each batch as it arrives (bounded memory).
 */
export class RowDecoder {
  private readonly sparkSchema: StructType | undefined;
  private reader: { schema: arrow.Schema; read: Reader; layout: RowLayout } | undefined;

  constructor(sparkSchema?: pb.DataType | StructType | DataType) {
    const s = sparkSchema === undefined ? undefined : toDataType(sparkSchema);
    this.sparkSchema = s instanceof StructType ? s : undefined;
  }

  private readerFor(schema: arrow.Schema): { read: Reader; layout: RowLayout } {
    if (this.reader?.schema !== schema) {
      const fields = schema.fields;
      const sparkFields = this.sparkSchema?.fields;
      const readers = fields.map((f, j) => buildReader(f.type, sparkFields?.[j]?.dataType));
      const layout = new RowLayout(fields.map((f, j) => sparkFields?.[j]?.name ?? f.name));
      this.reader = { schema, read: () => null, layout };
      const n = readers.length;
      this.reader.read = (data, i) => {
        const values = new Array<unknown>(n);
        for (let j = 0; j < n; j++) values[j] = (readers[j] as Reader)(data.children[j] as arrow.Data, i);
        return values;
      };
    }
    return this.reader;
  }

  /** Rows of one batch, in order. */
  decode(batch: arrow.RecordBatch): Row[] {
    const { read, layout } = this.readerFor(batch.schema);
    const data = batch.data as arrow.Data;
    const out = new Array<Row>(batch.numRows);
    for (let i = 0; i < batch.numRows; i++) out[i] = new Row(layout, read(data, i) as unknown[]);
    return out;
  }
}

/**
 * Decodes batches (or a whole Arrow table) into Rows. Pass the Spark schema of the result
 * (`ExecutePlanResponse.schema`, or a StructType) so UDTs such as Spark ML vectors decode to
 * their JS form and names match Spark's. Every value follows docs/types.md.
 */
export function decodeRows(
  batches: Iterable<arrow.RecordBatch> | arrow.Table,
  sparkSchema?: pb.DataType | DataType,
): Row[] {
  const decoder = new RowDecoder(sparkSchema);
  const list = batches instanceof arrow.Table ? batches.batches : batches;
  const out: Row[] = [];
  for (const b of list) for (const r of decoder.decode(b)) out.push(r);
  return out;
}
