import { create } from "@bufbuild/protobuf";
import * as pb from "#connect-proto";
import { DataType, toProtoDataType } from "./data-types.ts";
import { PlanError } from "./errors.ts";
import { isLiteralValue, type LiteralValue, literalExpression } from "./literal.ts";
import type { WindowSpec } from "./window.ts";

/** A column given by name (`"a"`, `"t.a"`, `"*"`) or as a {@link Column}: PySpark's `ColumnOrName`. */
export type ColumnOrName = Column | string;

/** A column, or a plain value taken as a literal: what PySpark's operators accept on their right side. */
export type ColumnOrValue = Column | LiteralValue;

/** A Spark type for `cast`: a DDL type string (`"int"`, `"array<float>"`) or a {@link DataType}. */
export type CastType = string | DataType;

const SortDirection = pb.Expression_SortOrder_SortDirection;
const NullOrdering = pb.Expression_SortOrder_NullOrdering;

function expression(exprType: pb.Expression["exprType"]): pb.Expression {
  return create(pb.ExpressionSchema, { exprType });
}

/** An unresolved function call expression (the server looks `name` up in its function registry). */
export function functionExpression(name: string, args: readonly pb.Expression[], isDistinct = false): pb.Expression {
  return expression({
    case: "unresolvedFunction",
    value: create(pb.Expression_UnresolvedFunctionSchema, { functionName: name, arguments: [...args], isDistinct }),
  });
}

/** A reference to a column by name; `planId` ties it to one DataFrame (self-joins, `df.col(...)`). */
export function attributeExpression(name: string, planId?: bigint): pb.Expression {
  if (name === "*") {
    return expression({ case: "unresolvedStar", value: create(pb.Expression_UnresolvedStarSchema, { planId }) });
  }
  if (name.endsWith(".*")) {
    return expression({
      case: "unresolvedStar",
      value: create(pb.Expression_UnresolvedStarSchema, { unparsedTarget: name, planId }),
    });
  }
  return expression({
    case: "unresolvedAttribute",
    value: create(pb.Expression_UnresolvedAttributeSchema, { unparsedIdentifier: name, planId }),
  });
}

/** A SQL expression string parsed by the server (PySpark: `expr("a + 1")`). */
export function sqlExpression(sql: string): pb.Expression {
  return expression({
    case: "expressionString",
    value: create(pb.Expression_ExpressionStringSchema, { expression: sql }),
  });
}

/** The expression of a column given by name or as a Column. */
export function columnExpression(c: ColumnOrName): pb.Expression {
  if (c instanceof Column) return c.expr;
  if (typeof c === "string") return attributeExpression(c);
  throw new PlanError({ message: `expected a Column or a column name, got ${typeof c}` });
}

/** A sort-order expression: Columns that already are sort orders stay; others sort asc (nulls first) or desc (nulls last). */
export function sortOrderExpression(c: ColumnOrName, ascending: boolean): pb.Expression {
  const e = columnExpression(c);
  if (e.exprType.case === "sortOrder") return e;
  return create(pb.ExpressionSchema, {
    exprType: {
      case: "sortOrder",
      value: create(pb.Expression_SortOrderSchema, {
        child: e,
        direction: ascending ? SortDirection.ASCENDING : SortDirection.DESCENDING,
        nullOrdering: ascending ? NullOrdering.SORT_NULLS_FIRST : NullOrdering.SORT_NULLS_LAST,
      }),
    },
  });
}

/** The expression of a Column, or of a plain value as a literal. */
export function valueExpression(v: ColumnOrValue): pb.Expression {
  if (v instanceof Column) return v.expr;
  if (isLiteralValue(v)) return literalExpression(v);
  throw new PlanError({ message: `expected a Column or a literal value, got ${typeof v}` });
}

function castTypeProto(t: CastType): pb.Expression_Cast["castToType"] {
  if (typeof t === "string") return { case: "typeStr", value: t };
  if (t instanceof DataType) return { case: "type", value: toProtoDataType(t) };
  throw new PlanError({ message: "cast: expected a DDL type string or a DataType" });
}

/**
 * A column expression (PySpark: `pyspark.sql.Column`). Immutable: every method returns a new
 * Column. Plain values on the right side of an operator become literals (`col("a").plus(1)`).
 */
export class Column {
  /** The protocol expression this column stands for. */
  readonly expr: pb.Expression;

  constructor(expr: pb.Expression) {
    this.expr = expr;
  }

  private bin(name: string, other: ColumnOrValue): Column {
    return new Column(functionExpression(name, [this.expr, valueExpression(other)]));
  }

  private unary(name: string): Column {
    return new Column(functionExpression(name, [this.expr]));
  }

  /** `this + other` (PySpark `a + b`). */
  plus(other: ColumnOrValue): Column {
    return this.bin("+", other);
  }
  /** `this - other` (PySpark `a - b`). */
  minus(other: ColumnOrValue): Column {
    return this.bin("-", other);
  }
  /** `this * other` (PySpark `a * b`). */
  multiply(other: ColumnOrValue): Column {
    return this.bin("*", other);
  }
  /** `this / other`, always fractional (PySpark `a / b`). */
  divide(other: ColumnOrValue): Column {
    return this.bin("/", other);
  }
  /** `this % other` (PySpark `a % b`). */
  mod(other: ColumnOrValue): Column {
    return this.bin("%", other);
  }
  /** `this ** other` (PySpark `a ** b`). */
  pow(other: ColumnOrValue): Column {
    return this.bin("power", other);
  }
  /** `-this` (PySpark `-a`). */
  negate(): Column {
    return this.unary("negative");
  }

  /** `this == other` (PySpark `a == b`). */
  eq(other: ColumnOrValue): Column {
    return this.bin("==", other);
  }
  /** `this != other` (PySpark `a != b`). */
  ne(other: ColumnOrValue): Column {
    return new Column(functionExpression("not", [this.bin("==", other).expr]));
  }
  /** Alias of {@link ne} (Spark's `notEqual`). */
  notEqual(other: ColumnOrValue): Column {
    return this.ne(other);
  }
  /** `this < other`. */
  lt(other: ColumnOrValue): Column {
    return this.bin("<", other);
  }
  /** `this <= other`. */
  le(other: ColumnOrValue): Column {
    return this.bin("<=", other);
  }
  /** `this > other`. */
  gt(other: ColumnOrValue): Column {
    return this.bin(">", other);
  }
  /** `this >= other`. */
  ge(other: ColumnOrValue): Column {
    return this.bin(">=", other);
  }
  /** Null-safe equality `this <=> other` (PySpark `eqNullSafe`). */
  eqNullSafe(other: ColumnOrValue): Column {
    return this.bin("<=>", other);
  }

  /** Boolean AND (PySpark `a & b`). */
  and(other: ColumnOrValue): Column {
    return this.bin("and", other);
  }
  /** Boolean OR (PySpark `a | b`). */
  or(other: ColumnOrValue): Column {
    return this.bin("or", other);
  }
  /** Boolean NOT (PySpark `~a`). */
  not(): Column {
    return this.unary("not");
  }

  /** Bitwise AND (PySpark `bitwiseAND`). */
  bitwiseAND(other: ColumnOrValue): Column {
    return this.bin("&", other);
  }
  /** Bitwise OR (PySpark `bitwiseOR`). */
  bitwiseOR(other: ColumnOrValue): Column {
    return this.bin("|", other);
  }
  /** Bitwise XOR (PySpark `bitwiseXOR`). */
  bitwiseXOR(other: ColumnOrValue): Column {
    return this.bin("^", other);
  }

  /** Names the column (PySpark `alias`); several names for multi-column generators such as `posexplode`. */
  alias(...names: string[]): Column {
    if (names.length === 0) throw new PlanError({ message: "alias: give at least one name" });
    return new Column(
      expression({ case: "alias", value: create(pb.Expression_AliasSchema, { expr: this.expr, name: names }) }),
    );
  }
  /** Alias of {@link alias} (PySpark `name`). */
  name(...names: string[]): Column {
    return this.alias(...names);
  }

  /** Converts to another type (PySpark `cast`): a DDL string (`"int"`) or a DataType. */
  cast(dataType: CastType): Column {
    return new Column(
      expression({
        case: "cast",
        value: create(pb.Expression_CastSchema, { expr: this.expr, castToType: castTypeProto(dataType) }),
      }),
    );
  }
  /** Alias of {@link cast} (PySpark `astype`). */
  astype(dataType: CastType): Column {
    return this.cast(dataType);
  }
  /** Like {@link cast} but yields null instead of failing (PySpark `try_cast`). */
  tryCast(dataType: CastType): Column {
    return new Column(
      expression({
        case: "cast",
        value: create(pb.Expression_CastSchema, {
          expr: this.expr,
          castToType: castTypeProto(dataType),
          evalMode: pb.Expression_Cast_EvalMode.TRY,
        }),
      }),
    );
  }

  /** True where the value is null. */
  isNull(): Column {
    return this.unary("isNull");
  }
  /** True where the value is not null. */
  isNotNull(): Column {
    return this.unary("isNotNull");
  }
  /** True where the value is NaN. */
  isNaN(): Column {
    return this.unary("isNaN");
  }
  /** True where the value equals one of `values` (PySpark `isin`); accepts values or one array. */
  isin(...values: ColumnOrValue[] | [readonly LiteralValue[]]): Column {
    const list: ColumnOrValue[] =
      values.length === 1 && Array.isArray(values[0])
        ? [...(values[0] as LiteralValue[])]
        : (values as ColumnOrValue[]);
    return new Column(functionExpression("in", [this.expr, ...list.map(valueExpression)]));
  }
  /** `lower <= this AND this <= upper` (PySpark `between`). */
  between(lower: ColumnOrValue, upper: ColumnOrValue): Column {
    return this.ge(lower).and(this.le(upper));
  }

  /** SQL LIKE pattern match. */
  like(pattern: string): Column {
    return this.bin("like", pattern);
  }
  /** Case-insensitive LIKE. */
  ilike(pattern: string): Column {
    return this.bin("ilike", pattern);
  }
  /** Java regular-expression match. */
  rlike(regex: string): Column {
    return this.bin("rlike", regex);
  }
  /** True where the string starts with `other`. */
  startswith(other: ColumnOrValue): Column {
    return this.bin("startsWith", other);
  }
  /** True where the string ends with `other`. */
  endswith(other: ColumnOrValue): Column {
    return this.bin("endsWith", other);
  }
  /** True where the string contains `other`. */
  contains(other: ColumnOrValue): Column {
    return this.bin("contains", other);
  }
  /** Substring from 1-based `start`, `length` characters (PySpark `substr`). */
  substr(start: number | Column, length: number | Column): Column {
    if (typeof start !== typeof length) {
      throw new PlanError({ message: "substr: start and length must both be numbers or both be Columns" });
    }
    return new Column(functionExpression("substr", [this.expr, valueExpression(start), valueExpression(length)]));
  }

  /** An array element by 0-based index or a map value by key (PySpark `getItem`, `col[key]`). */
  getItem(key: ColumnOrValue): Column {
    return new Column(
      expression({
        case: "unresolvedExtractValue",
        value: create(pb.Expression_UnresolvedExtractValueSchema, {
          child: this.expr,
          extraction: valueExpression(key),
        }),
      }),
    );
  }
  /** A struct field by name (PySpark `getField`, `col.field`). */
  getField(name: string): Column {
    return this.getItem(name);
  }

  /**
   * Adds a branch to a `when` chain started by `functions.when` (PySpark `Column.when`).
   * Throws a PlanError on a column that is not an open `when` chain.
   */
  when(condition: Column, value: ColumnOrValue): Column {
    const args = this.openWhenArgs("when");
    return new Column(functionExpression("when", [...args, condition.expr, valueExpression(value)]));
  }
  /** Closes a `when` chain with the value for rows no branch matched (PySpark `otherwise`). */
  otherwise(value: ColumnOrValue): Column {
    const args = this.openWhenArgs("otherwise");
    return new Column(functionExpression("when", [...args, valueExpression(value)]));
  }

  private openWhenArgs(method: string): pb.Expression[] {
    const e = this.expr.exprType;
    if (e.case !== "unresolvedFunction" || e.value.functionName !== "when") {
      throw new PlanError({ message: `${method}() can only be applied on a Column made by functions.when()` });
    }
    if (e.value.arguments.length % 2 === 1) {
      throw new PlanError({ message: `${method}() cannot be applied once otherwise() has been applied` });
    }
    return e.value.arguments;
  }

  /** This window function or aggregate evaluated over a window (PySpark `over`). */
  over(window: WindowSpec): Column {
    return new Column(window.windowExpression(this.expr));
  }

  /** A readable SQL-like form, as PySpark's repr: `Column<'(a + 1) AS b'>`. */
  toString(): string {
    return `Column<'${describeExpression(this.expr)}'>`;
  }

  private sortOrder(direction: pb.Expression_SortOrder_SortDirection, nulls: pb.Expression_SortOrder_NullOrdering) {
    return new Column(
      expression({
        case: "sortOrder",
        value: create(pb.Expression_SortOrderSchema, { child: this.expr, direction, nullOrdering: nulls }),
      }),
    );
  }
  /** Ascending sort order, nulls first (Spark's default for ascending). */
  asc(): Column {
    return this.asc_nulls_first();
  }
  /** Ascending, nulls first. */
  asc_nulls_first(): Column {
    return this.sortOrder(SortDirection.ASCENDING, NullOrdering.SORT_NULLS_FIRST);
  }
  /** Ascending, nulls last. */
  asc_nulls_last(): Column {
    return this.sortOrder(SortDirection.ASCENDING, NullOrdering.SORT_NULLS_LAST);
  }
  /** Descending sort order, nulls last (Spark's default for descending). */
  desc(): Column {
    return this.desc_nulls_last();
  }
  /** Descending, nulls first. */
  desc_nulls_first(): Column {
    return this.sortOrder(SortDirection.DESCENDING, NullOrdering.SORT_NULLS_FIRST);
  }
  /** Descending, nulls last. */
  desc_nulls_last(): Column {
    return this.sortOrder(SortDirection.DESCENDING, NullOrdering.SORT_NULLS_LAST);
  }
}

const INFIX = new Set(["+", "-", "*", "/", "%", "==", "<", "<=", ">", ">=", "<=>", "and", "or", "&", "|", "^"]);

function describeLiteral(l: pb.Expression_Literal): string {
  const t = l.literalType;
  switch (t.case) {
    case undefined:
    case "null":
      return "NULL";
    case "string":
      return `'${t.value}'`;
    case "binary":
      return `X'${Buffer.from(t.value).toString("hex").toUpperCase()}'`;
    case "array":
      return `array(${t.value.elements.map(describeLiteral).join(", ")})`;
    case "decimal":
      return t.value.value;
    default:
      return String(t.value);
  }
}

/** SQL-like text of an expression, for messages and `Column.toString()`. */
function describeExpression(e: pb.Expression | undefined): string {
  if (e === undefined) return "?";
  const x = e.exprType;
  switch (x.case) {
    case "unresolvedAttribute":
      return x.value.unparsedIdentifier;
    case "unresolvedStar":
      return x.value.unparsedTarget ?? "*";
    case "literal":
      return describeLiteral(x.value);
    case "expressionString":
      return x.value.expression;
    case "unresolvedFunction": {
      const args = x.value.arguments.map(describeExpression);
      const name = x.value.functionName;
      if (INFIX.has(name) && args.length === 2)
        return `(${args[0]} ${name === "and" || name === "or" ? name.toUpperCase() : name} ${args[1]})`;
      if (name === "not" && args.length === 1) return `(NOT ${args[0]})`;
      return `${name}(${x.value.isDistinct ? "DISTINCT " : ""}${args.join(", ")})`;
    }
    case "callFunction":
      return `${x.value.functionName}(${x.value.arguments.map(describeExpression).join(", ")})`;
    case "alias":
      return `${describeExpression(x.value.expr)} AS ${x.value.name.join(", ")}`;
    case "cast": {
      const c = x.value.castToType;
      const type = c.case === "typeStr" ? c.value : c.case === "type" ? (c.value.kind.case ?? "?") : "?";
      return `CAST(${describeExpression(x.value.expr)} AS ${type.toUpperCase()})`;
    }
    case "sortOrder": {
      const dir = x.value.direction === SortDirection.DESCENDING ? "DESC" : "ASC";
      const nulls = x.value.nullOrdering === NullOrdering.SORT_NULLS_LAST ? "NULLS LAST" : "NULLS FIRST";
      return `${describeExpression(x.value.child)} ${dir} ${nulls}`;
    }
    case "unresolvedExtractValue":
      return `${describeExpression(x.value.child)}[${describeExpression(x.value.extraction)}]`;
    case "window":
      return `${describeExpression(x.value.windowFunction)} OVER (...)`;
    default:
      return x.case ?? "?";
  }
}
