import { create } from "@bufbuild/protobuf";
import * as pb from "#connect-proto";
import { PlanError } from "./errors.ts";
import type { LiteralValue } from "./literal-input.ts";
import { Decimal, Timestamp } from "./spark-values.ts";

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const MS_PER_DAY = 86_400_000;

type Kind = NonNullable<pb.DataType["kind"]["case"]>;

function simpleType(kind: Exclude<Kind, "array" | "decimal" | "struct" | "map">): pb.DataType {
  return create(pb.DataTypeSchema, { kind: { case: kind, value: {} } } as pb.DataType);
}

function arrayType(elementType: pb.DataType, containsNull: boolean): pb.DataType {
  return create(pb.DataTypeSchema, {
    kind: { case: "array", value: create(pb.DataType_ArraySchema, { elementType, containsNull }) },
  });
}

function decimalType(precision: number, scale: number): pb.DataType {
  return create(pb.DataTypeSchema, {
    kind: { case: "decimal", value: create(pb.DataType_DecimalSchema, { precision, scale }) },
  });
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  return value.constructor?.name ?? "object";
}

function isUtcMidnight(d: Date): boolean {
  return d.getTime() % MS_PER_DAY === 0;
}

/** The narrowest Spark type that holds `value` exactly (see {@link LiteralValue}). */
function inferLiteralType(value: LiteralValue): pb.DataType {
  if (value === null || value === undefined) return simpleType("null");
  switch (typeof value) {
    case "boolean":
      return simpleType("boolean");
    case "string":
      return simpleType("string");
    case "number":
      if (Number.isInteger(value) && !Object.is(value, -0)) {
        if (value >= INT32_MIN && value <= INT32_MAX) return simpleType("integer");
        if (Number.isSafeInteger(value)) return simpleType("long");
      }
      return simpleType("double");
    case "bigint": {
      if (value >= INT64_MIN && value <= INT64_MAX) return simpleType("long");
      const digits = (value < 0n ? -value : value).toString().length;
      if (digits > 38) {
        throw new PlanError({ message: `lit: bigint ${value} has ${digits} digits; Spark decimals hold at most 38` });
      }
      return decimalType(digits, 0);
    }
    default:
      break;
  }
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new PlanError({ message: "lit: invalid Date" });
    return simpleType(isUtcMidnight(value) ? "date" : "timestamp");
  }
  if (value instanceof Timestamp) return simpleType(value.ntz ? "timestampNtz" : "timestamp");
  if (value instanceof Decimal) {
    if (value.precision > 38) {
      throw new PlanError({
        message: `lit: Decimal ${value} needs precision ${value.precision}; Spark holds at most 38`,
      });
    }
    return decimalType(value.precision, value.scale);
  }
  if (value instanceof Uint8Array) return simpleType("binary");
  if (value instanceof Float64Array) return arrayType(simpleType("double"), false);
  if (value instanceof Float32Array) return arrayType(simpleType("float"), false);
  if (value instanceof Int32Array) return arrayType(simpleType("integer"), false);
  if (Array.isArray(value)) {
    let element = simpleType("null");
    let containsNull = false;
    for (const item of value as readonly LiteralValue[]) {
      if (item === null || item === undefined) containsNull = true;
      element = widen(element, inferLiteralType(item));
    }
    return arrayType(element, containsNull);
  }
  throw new PlanError({ message: `lit: cannot make a Spark literal from a ${describe(value)}` });
}

const NUMERIC_RANK: Partial<Record<Kind, number>> = { integer: 1, long: 2, double: 3 };

/** The common type of two element types, or a PlanError when Spark has none that is exact. */
function widen(a: pb.DataType, b: pb.DataType): pb.DataType {
  const ka = a.kind.case;
  const kb = b.kind.case;
  if (ka === "null") return b;
  if (kb === "null") return a;
  if (ka === "array" && kb === "array") {
    const ea = a.kind.value as pb.DataType_Array;
    const eb = b.kind.value as pb.DataType_Array;
    return arrayType(
      widen(ea.elementType ?? simpleType("null"), eb.elementType ?? simpleType("null")),
      ea.containsNull || eb.containsNull,
    );
  }
  if (ka === "decimal" && kb === "decimal") {
    const da = a.kind.value as pb.DataType_Decimal;
    const db = b.kind.value as pb.DataType_Decimal;
    const scale = Math.max(da.scale ?? 0, db.scale ?? 0);
    const integral = Math.max((da.precision ?? 0) - (da.scale ?? 0), (db.precision ?? 0) - (db.scale ?? 0));
    if (integral + scale > 38) throw new PlanError({ message: "lit: array decimals need more than 38 digits" });
    return decimalType(integral + scale, scale);
  }
  if (ka === kb && ka !== undefined) return a;
  const ra = ka === undefined ? undefined : NUMERIC_RANK[ka];
  const rb = kb === undefined ? undefined : NUMERIC_RANK[kb];
  if (ra !== undefined && rb !== undefined) {
    if (ra === 3 || rb === 3) return simpleType("double");
    return simpleType("long");
  }
  throw new PlanError({ message: `lit: array elements mix ${ka} and ${kb}; Spark arrays hold one element type` });
}

/** Encodes `value` as a literal of the (already inferred or widened) type `type`. */
function encode(value: LiteralValue, type: pb.DataType): pb.Expression_Literal {
  if (value === null || value === undefined) {
    return create(pb.Expression_LiteralSchema, { literalType: { case: "null", value: type } });
  }
  const kind = type.kind.case;
  switch (kind) {
    case "boolean":
      return lit1({ case: "boolean", value: value as boolean });
    case "string":
      return lit1({ case: "string", value: value as string });
    case "integer":
      return lit1({ case: "integer", value: value as number });
    case "long":
      return lit1({ case: "long", value: BigInt(value as number | bigint) });
    case "double":
      return lit1({ case: "double", value: Number(value) });
    case "float":
      return lit1({ case: "float", value: Number(value) });
    case "decimal": {
      const d = type.kind.value as pb.DataType_Decimal;
      return lit1({
        case: "decimal",
        value: create(pb.Expression_Literal_DecimalSchema, {
          value: (value as bigint | Decimal).toString(),
          precision: d.precision,
          scale: d.scale,
        }),
      });
    }
    case "binary":
      return lit1({ case: "binary", value: value as Uint8Array });
    case "date":
      return lit1({ case: "date", value: Math.floor((value as Date).getTime() / MS_PER_DAY) });
    case "timestamp":
      return lit1({ case: "timestamp", value: micros(value as Date | Timestamp) });
    case "timestampNtz":
      return lit1({ case: "timestampNtz", value: micros(value as Timestamp) });
    case "array": {
      const elementType = (type.kind.value as pb.DataType_Array).elementType ?? simpleType("null");
      return lit1({
        case: "array",
        value: create(pb.Expression_Literal_ArraySchema, {
          elementType,
          elements: Array.from(value as ArrayLike<LiteralValue>, (item) => encode(item, elementType)),
        }),
      });
    }
    default:
      throw new PlanError({ message: `lit: cannot encode a ${describe(value)} as ${String(kind)}` });
  }
}

function micros(value: Date | Timestamp): bigint {
  return value instanceof Timestamp ? value.epochMicros : BigInt(value.getTime()) * 1000n;
}

function lit1(literalType: pb.Expression_Literal["literalType"]): pb.Expression_Literal {
  return create(pb.Expression_LiteralSchema, { literalType });
}

/** A Spark literal for `value`, of the narrowest exact type (see {@link LiteralValue}). */
export function toLiteral(value: LiteralValue): pb.Expression_Literal {
  return encode(value, inferLiteralType(value));
}

/** `value` as a literal expression (PySpark: `lit(value)._expr`). */
export function literalExpression(value: LiteralValue): pb.Expression {
  return create(pb.ExpressionSchema, { exprType: { case: "literal", value: toLiteral(value) } });
}

/** A double literal expression, even for integral numbers (PySpark `lit(float(x))`). */
export function doubleLiteralExpression(value: number): pb.Expression {
  return create(pb.ExpressionSchema, { exprType: { case: "literal", value: encode(value, simpleType("double")) } });
}
