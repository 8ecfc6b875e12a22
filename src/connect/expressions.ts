/**
 * Builders of the protocol's `spark.connect.Expression` (function calls, column references, SQL
 * strings, sort orders) and their SQL-like text, for Column and the rest of the Spark Connect
 * layer. Internal: the package entry exports none of it.
 */
import { create } from "@bufbuild/protobuf";
import * as pb from "#connect-proto";
import { Column, type ColumnOrName, type ColumnOrValue } from "./column.ts";
import { PlanError } from "./errors.ts";
import { expressionOf } from "./internal.ts";
import { literalExpression } from "./literal.ts";
import { isLiteralValue } from "./literal-input.ts";

const SortDirection = pb.Expression_SortOrder_SortDirection;
const NullOrdering = pb.Expression_SortOrder_NullOrdering;

/** An expression of the given kind. */
export function expression(exprType: pb.Expression["exprType"]): pb.Expression {
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
  if (c instanceof Column) return expressionOf(c);
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
  if (v instanceof Column) return expressionOf(v);
  if (isLiteralValue(v)) return literalExpression(v);
  throw new PlanError({ message: `expected a Column or a literal value, got ${typeof v}` });
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
export function describeExpression(e: pb.Expression | undefined): string {
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
