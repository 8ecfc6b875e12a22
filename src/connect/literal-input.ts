import { Decimal, Timestamp } from "./spark-values.ts";

/**
 * A JavaScript value that can become a Spark literal (PySpark: the values `lit()` accepts).
 *
 * | JS value | Spark type |
 * | --- | --- |
 * | `null` / `undefined` | NULL (typed `void`) |
 * | `boolean` | boolean |
 * | integer `number` in int32 range | int |
 * | other safe-integer `number` | bigint (long) |
 * | any other `number` (fractions, NaN, ±Infinity, -0, unsafe integers) | double |
 * | `bigint` | bigint (long); beyond int64, decimal(p, 0) up to 38 digits |
 * | `string` | string |
 * | `Date` at exactly 00:00:00.000 UTC | date |
 * | any other `Date` | timestamp (microseconds) |
 * | `Timestamp` | timestamp, or timestamp_ntz when `ntz` |
 * | `Decimal` | decimal(precision, scale) |
 * | `Uint8Array` (and `Buffer`) | binary |
 * | `Float64Array` / `Float32Array` / `Int32Array` | array<double> / array<float> / array<int> |
 * | array | array of the narrowest type that holds every element exactly |
 */
export type LiteralValue =
  | null
  | undefined
  | boolean
  | number
  | bigint
  | string
  | Date
  | Timestamp
  | Decimal
  | Uint8Array
  | Float64Array
  | Float32Array
  | Int32Array
  | readonly LiteralValue[];

/** True when `value` is a {@link LiteralValue} (something `lit()` accepts). */
export function isLiteralValue(value: unknown): value is LiteralValue {
  if (value === null || value === undefined) return true;
  const t = typeof value;
  if (t === "boolean" || t === "number" || t === "bigint" || t === "string") return true;
  if (value instanceof Date || value instanceof Timestamp || value instanceof Decimal) return true;
  if (value instanceof Uint8Array || value instanceof Float64Array || value instanceof Float32Array) return true;
  if (value instanceof Int32Array) return true;
  return Array.isArray(value) && value.every(isLiteralValue);
}
