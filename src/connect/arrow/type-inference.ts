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
} from "../data-types.ts";
import { PlanError } from "../errors.ts";
import { Row } from "../row.ts";
import { parseSchemaDDL } from "../schema-ddl.ts";
import { Decimal, Timestamp } from "../spark-values.ts";
import { describeValue, rowValues } from "./local-rows.ts";

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** `createDataFrame`'s schema argument: a StructType, a DDL string, or column names only (types inferred). */
export type LocalSchema = StructType | string | readonly string[];

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
  throw new PlanError({
    message: `cannot infer a Spark type for a value of type ${describeValue(value)}; pass a schema`,
  });
}

/**
 * Merges two inferred types of one column: void yields to anything, int widens to bigint, int
 * to double, decimals to the larger precision/scale; structs merge by field name. PySpark:
 * `pyspark.sql.types._merge_type`.
 */
export function mergeTypes(a: DataType, b: DataType, where: string): DataType {
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

/**
 * Resolves the schema of local rows: given, partly given (names), or inferred from every row.
 * PySpark: `SparkSession._inferSchemaFromList`.
 */
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
