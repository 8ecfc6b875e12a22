import { toJson } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import * as pb from "#connect-proto";
import type { Column } from "../../src/connect/column.ts";
import { ArrayType, FloatType } from "../../src/connect/data-types.ts";
import { PlanError } from "../../src/connect/errors.ts";
import * as F from "../../src/connect/functions.ts";
import { expressionOf } from "../../src/connect/internal.ts";

const json = (c: Column) => toJson(pb.ExpressionSchema, expressionOf(c));
const attr = (name: string) => ({ unresolvedAttribute: { unparsedIdentifier: name } });
const fn = (functionName: string, ...args: unknown[]) => ({
  unresolvedFunction: args.length === 0 ? { functionName } : { functionName, arguments: args },
});
const int = (n: number) => ({ literal: { integer: n } });
const str = (s: string) => ({ literal: { string: s } });
const bool = (b: boolean) => ({ literal: { boolean: b } });
const a = F.col("a");

describe("Column operators build Spark's operator functions", () => {
  const cases: Array<[string, Column, unknown]> = [
    ["plus", a.plus(1), fn("+", attr("a"), int(1))],
    ["minus column", a.minus(F.col("b")), fn("-", attr("a"), attr("b"))],
    ["multiply", a.multiply(2.5), fn("*", attr("a"), { literal: { double: 2.5 } })],
    ["divide", a.divide(2), fn("/", attr("a"), int(2))],
    ["mod", a.mod(3), fn("%", attr("a"), int(3))],
    ["pow", a.pow(2), fn("power", attr("a"), int(2))],
    ["negate", a.negate(), fn("negative", attr("a"))],
    ["eq with a string is a literal", a.eq("x"), fn("==", attr("a"), str("x"))],
    ["ne is not(==)", a.ne(1), fn("not", fn("==", attr("a"), int(1)))],
    ["notEqual", a.notEqual(1), fn("not", fn("==", attr("a"), int(1)))],
    ["lt", a.lt(1), fn("<", attr("a"), int(1))],
    ["le", a.le(1), fn("<=", attr("a"), int(1))],
    ["gt", a.gt(1), fn(">", attr("a"), int(1))],
    ["ge", a.ge(1), fn(">=", attr("a"), int(1))],
    ["eqNullSafe with null", a.eqNullSafe(null), fn("<=>", attr("a"), { literal: { null: { null: {} } } })],
    ["and", a.and(F.col("b")), fn("and", attr("a"), attr("b"))],
    ["or", a.or(true), fn("or", attr("a"), bool(true))],
    ["not", a.not(), fn("not", attr("a"))],
    ["isNull", a.isNull(), fn("isNull", attr("a"))],
    ["isNotNull", a.isNotNull(), fn("isNotNull", attr("a"))],
    ["isin values", a.isin(1, 2), fn("in", attr("a"), int(1), int(2))],
    ["isin one array", a.isin([1, 2]), fn("in", attr("a"), int(1), int(2))],
    ["between", a.between(1, 5), fn("and", fn(">=", attr("a"), int(1)), fn("<=", attr("a"), int(5)))],
    ["like", a.like("x%"), fn("like", attr("a"), str("x%"))],
    ["rlike", a.rlike("^x"), fn("rlike", attr("a"), str("^x"))],
    ["startswith", a.startswith("x"), fn("startsWith", attr("a"), str("x"))],
    ["endswith", a.endswith("x"), fn("endsWith", attr("a"), str("x"))],
    ["contains", a.contains("x"), fn("contains", attr("a"), str("x"))],
    ["substr", a.substr(1, 3), fn("substr", attr("a"), int(1), int(3))],
    ["getItem", a.getItem(0), { unresolvedExtractValue: { child: attr("a"), extraction: int(0) } }],
    ["getField", a.getField("f"), { unresolvedExtractValue: { child: attr("a"), extraction: str("f") } }],
    ["alias", a.alias("b"), { alias: { expr: attr("a"), name: ["b"] } }],
    ["name", a.name("b"), { alias: { expr: attr("a"), name: ["b"] } }],
    ["cast to DDL string", a.cast("int"), { cast: { expr: attr("a"), typeStr: "int" } }],
    [
      "cast to DataType",
      a.cast(new ArrayType(new FloatType(), true)),
      { cast: { expr: attr("a"), type: { array: { elementType: { float: {} }, containsNull: true } } } },
    ],
    ["tryCast", a.tryCast("int"), { cast: { expr: attr("a"), typeStr: "int", evalMode: "EVAL_MODE_TRY" } }],
  ];
  it.each(cases)("%s", (_name, column, expected) => {
    expect(json(column)).toEqual(expected);
  });
});

describe("sort orders follow Spark's null defaults", () => {
  const so = (direction: string, nullOrdering: string) => ({
    sortOrder: { child: attr("a"), direction: `SORT_DIRECTION_${direction}`, nullOrdering },
  });
  const cases: Array<[string, Column, unknown]> = [
    ["asc puts nulls first", a.asc(), so("ASCENDING", "SORT_NULLS_FIRST")],
    ["desc puts nulls last", a.desc(), so("DESCENDING", "SORT_NULLS_LAST")],
    ["asc_nulls_last", a.asc_nulls_last(), so("ASCENDING", "SORT_NULLS_LAST")],
    ["desc_nulls_first", a.desc_nulls_first(), so("DESCENDING", "SORT_NULLS_FIRST")],
    ["F.desc", F.desc("a"), so("DESCENDING", "SORT_NULLS_LAST")],
    ["F.asc", F.asc("a"), so("ASCENDING", "SORT_NULLS_FIRST")],
  ];
  it.each(cases)("%s", (_name, column, expected) => {
    expect(json(column)).toEqual(expected);
  });
});

describe("when / otherwise", () => {
  it("chains into one when() call", () => {
    const c = F.when(a.eq(1), "one").when(a.eq(2), "two").otherwise("many");
    expect(json(c)).toEqual(
      fn("when", fn("==", attr("a"), int(1)), str("one"), fn("==", attr("a"), int(2)), str("two"), str("many")),
    );
  });
  it("refuses when() after otherwise() and on a non-when column", () => {
    const closed = F.when(a.eq(1), 1).otherwise(0);
    expect(() => closed.when(a.eq(2), 2)).toThrow(PlanError);
    expect(() => closed.otherwise(3)).toThrow(PlanError);
    expect(() => a.otherwise(3)).toThrow(PlanError);
  });
});

describe("functions build unresolved functions with Spark's names", () => {
  const cases: Array<[string, Column, unknown]> = [
    ["col star", F.col("*"), { unresolvedStar: {} }],
    ["col qualified star", F.col("t.*"), { unresolvedStar: { unparsedTarget: "t.*" } }],
    ["lit", F.lit(5), int(5)],
    ["lit of a Column is that Column", F.lit(a), attr("a")],
    ["expr", F.expr("a + 1"), { expressionString: { expression: "a + 1" } }],
    ["count(*) counts lit(1)", F.count("*"), fn("count", int(1))],
    ["count(col)", F.count("a"), fn("count", attr("a"))],
    [
      "countDistinct",
      F.countDistinct("a", "b"),
      { unresolvedFunction: { functionName: "count", arguments: [attr("a"), attr("b")], isDistinct: true } },
    ],
    ["sum", F.sum("a"), fn("sum", attr("a"))],
    ["avg", F.avg("a"), fn("avg", attr("a"))],
    ["mean is avg", F.mean("a"), fn("avg", attr("a"))],
    ["min", F.min("a"), fn("min", attr("a"))],
    ["max", F.max(a), fn("max", attr("a"))],
    ["first", F.first("a"), fn("first", attr("a"), bool(false))],
    ["last ignoring nulls", F.last("a", true), fn("last", attr("a"), bool(true))],
    ["collect_list", F.collect_list("a"), fn("collect_list", attr("a"))],
    ["collect_set", F.collect_set("a"), fn("collect_set", attr("a"))],
    ["stddev", F.stddev("a"), fn("stddev", attr("a"))],
    ["variance", F.variance("a"), fn("variance", attr("a"))],
    ["approx_count_distinct", F.approx_count_distinct("a"), fn("approx_count_distinct", attr("a"))],
    [
      "approx_count_distinct rsd",
      F.approx_count_distinct("a", 0.1),
      fn("approx_count_distinct", attr("a"), { literal: { double: 0.1 } }),
    ],
    ["upper", F.upper("a"), fn("upper", attr("a"))],
    ["lower", F.lower("a"), fn("lower", attr("a"))],
    ["trim", F.trim("a"), fn("trim", attr("a"))],
    ["ltrim", F.ltrim("a"), fn("ltrim", attr("a"))],
    ["rtrim", F.rtrim("a"), fn("rtrim", attr("a"))],
    ["length", F.length("a"), fn("length", attr("a"))],
    ["concat", F.concat("a", "b"), fn("concat", attr("a"), attr("b"))],
    ["concat_ws separator is a literal", F.concat_ws("-", "a", "b"), fn("concat_ws", str("-"), attr("a"), attr("b"))],
    ["substring", F.substring("a", 2, 3), fn("substring", attr("a"), int(2), int(3))],
    ["regexp_replace", F.regexp_replace("a", "x+", "y"), fn("regexp_replace", attr("a"), str("x+"), str("y"))],
    ["regexp_extract", F.regexp_extract("a", "(\\d+)", 1), fn("regexp_extract", attr("a"), str("(\\d+)"), int(1))],
    ["split default limit -1", F.split("a", ","), fn("split", attr("a"), str(","), int(-1))],
    ["lpad", F.lpad("a", 5, "0"), fn("lpad", attr("a"), int(5), str("0"))],
    ["rpad", F.rpad("a", 5, "0"), fn("rpad", attr("a"), int(5), str("0"))],
    ["format_string", F.format_string("%d-%s", "a", "b"), fn("format_string", str("%d-%s"), attr("a"), attr("b"))],
    ["element_at", F.element_at("a", 1), fn("element_at", attr("a"), int(1))],
    ["base64", F.base64("a"), fn("base64", attr("a"))],
    ["unbase64", F.unbase64("a"), fn("unbase64", attr("a"))],
    ["from_json DDL", F.from_json("a", "x INT"), fn("from_json", attr("a"), str("x INT"))],
    [
      "from_json with options",
      F.from_json("a", "x INT", { mode: "PERMISSIVE" }),
      fn("from_json", attr("a"), str("x INT"), fn("map", str("mode"), str("PERMISSIVE"))),
    ],
    ["to_json", F.to_json("a"), fn("to_json", attr("a"))],
    ["abs", F.abs("a"), fn("abs", attr("a"))],
    ["sqrt", F.sqrt("a"), fn("sqrt", attr("a"))],
    ["exp", F.exp("a"), fn("exp", attr("a"))],
    ["log(col) is ln", F.log("a"), fn("ln", attr("a"))],
    ["log(base, col) base is a double", F.log(2, "a"), fn("log", { literal: { double: 2 } }, attr("a"))],
    ["pow", F.pow("a", 2), fn("power", attr("a"), int(2))],
    ["round", F.round("a", 2), fn("round", attr("a"), int(2))],
    ["floor", F.floor("a"), fn("floor", attr("a"))],
    ["ceil", F.ceil("a"), fn("ceil", attr("a"))],
    ["greatest", F.greatest("a", "b"), fn("greatest", attr("a"), attr("b"))],
    ["least", F.least("a", "b"), fn("least", attr("a"), attr("b"))],
    ["rand with seed", F.rand(42), fn("rand", int(42))],
    ["current_date", F.current_date(), fn("current_date")],
    ["current_timestamp", F.current_timestamp(), fn("current_timestamp")],
    ["date_add", F.date_add("a", 3), fn("date_add", attr("a"), int(3))],
    ["date_sub", F.date_sub("a", 3), fn("date_sub", attr("a"), int(3))],
    ["datediff", F.datediff("a", "b"), fn("datediff", attr("a"), attr("b"))],
    ["year", F.year("a"), fn("year", attr("a"))],
    ["month", F.month("a"), fn("month", attr("a"))],
    ["dayofmonth", F.dayofmonth("a"), fn("dayofmonth", attr("a"))],
    ["hour", F.hour("a"), fn("hour", attr("a"))],
    ["to_date", F.to_date("a"), fn("to_date", attr("a"))],
    ["to_date format", F.to_date("a", "yyyy-MM-dd"), fn("to_date", attr("a"), str("yyyy-MM-dd"))],
    ["to_timestamp", F.to_timestamp("a"), fn("to_timestamp", attr("a"))],
    ["date_format", F.date_format("a", "yyyy"), fn("date_format", attr("a"), str("yyyy"))],
    ["unix_timestamp()", F.unix_timestamp(), fn("unix_timestamp")],
    ["unix_timestamp(col)", F.unix_timestamp("a"), fn("unix_timestamp", attr("a"), str("yyyy-MM-dd HH:mm:ss"))],
    ["from_unixtime", F.from_unixtime("a"), fn("from_unixtime", attr("a"), str("yyyy-MM-dd HH:mm:ss"))],
    ["array", F.array("a", "b"), fn("array", attr("a"), attr("b"))],
    ["array_contains value is a literal", F.array_contains("a", "x"), fn("array_contains", attr("a"), str("x"))],
    ["size", F.size("a"), fn("size", attr("a"))],
    ["explode", F.explode("a"), fn("explode", attr("a"))],
    ["posexplode", F.posexplode("a"), fn("posexplode", attr("a"))],
    ["sort_array", F.sort_array("a", false), fn("sort_array", attr("a"), bool(false))],
    ["array_distinct", F.array_distinct("a"), fn("array_distinct", attr("a"))],
    ["slice", F.slice("a", 1, 2), fn("slice", attr("a"), int(1), int(2))],
    ["flatten", F.flatten("a"), fn("flatten", attr("a"))],
    ["coalesce", F.coalesce("a", "b"), fn("coalesce", attr("a"), attr("b"))],
    ["isnan", F.isnan("a"), fn("isnan", attr("a"))],
    ["monotonically_increasing_id", F.monotonically_increasing_id(), fn("monotonically_increasing_id")],
    ["spark_partition_id", F.spark_partition_id(), fn("spark_partition_id")],
    ["input_file_name", F.input_file_name(), fn("input_file_name")],
    ["struct", F.struct("a", "b"), fn("struct", attr("a"), attr("b"))],
    ["vector_to_array", F.vector_to_array("v"), fn("vector_to_array", attr("v"), str("float64"))],
    ["vector_to_array float32", F.vector_to_array("v", "float32"), fn("vector_to_array", attr("v"), str("float32"))],
    ["array_to_vector", F.array_to_vector("a"), fn("array_to_vector", attr("a"))],
    [
      "callFunction",
      F.callFunction("my_udf", "a", F.lit(1)),
      { callFunction: { functionName: "my_udf", arguments: [attr("a"), int(1)] } },
    ],
  ];
  it.each(cases)("%s", (_name, column, expected) => {
    expect(json(column)).toEqual(expected);
  });

  it("rand without a seed picks one (a long literal), as PySpark does", () => {
    const e = expressionOf(F.rand()).exprType;
    expect(e.case).toBe("unresolvedFunction");
    const arg = (e.value as pb.Expression_UnresolvedFunction).arguments[0]?.exprType;
    expect(arg?.case).toBe("literal");
  });
});

describe("immutability", () => {
  it("operators never change the receiver", () => {
    const before = json(a);
    a.plus(1).alias("x").desc();
    expect(json(a)).toEqual(before);
  });
});

describe("Column.toString", () => {
  const cases: Array<[Column, string]> = [
    [a.plus(1).alias("b"), "Column<'(a + 1) AS b'>"],
    [a.gt(1).and(a.ne("x")), "Column<'((a > 1) AND (NOT (a == 'x')))'>"],
    [F.countDistinct("a"), "Column<'count(DISTINCT a)'>"],
    [a.cast("int").desc(), "Column<'CAST(a AS INT) DESC NULLS LAST'>"],
    [F.col("m").getItem("k"), "Column<'m['k']'>"],
    [F.lit(null), "Column<'NULL'>"],
  ];
  it.each(cases)("%s", (column, expected) => {
    expect(String(column)).toBe(expected);
  });
});

describe("higher-order functions build lambdas with fresh variables", () => {
  it("transform(x => x + 1)", () => {
    const e = toJson(pb.ExpressionSchema, expressionOf(F.transform("arr", (x) => x.plus(1)))) as {
      unresolvedFunction: {
        functionName: string;
        arguments: [unknown, { lambdaFunction: { function: unknown; arguments: Array<{ nameParts: string[] }> } }];
      };
    };
    expect(e.unresolvedFunction.functionName).toBe("transform");
    expect(e.unresolvedFunction.arguments[0]).toEqual(attr("arr"));
    const lam = e.unresolvedFunction.arguments[1].lambdaFunction;
    expect(lam.arguments).toHaveLength(1);
    const name = lam.arguments[0]?.nameParts;
    expect(name?.[0]).toMatch(/^x_\d+$/);
    expect(lam.function).toEqual(fn("+", { unresolvedNamedLambdaVariable: { nameParts: name } }, int(1)));
  });
  it("two-argument lambdas get x and y, and names never repeat", () => {
    const names = (c: Column) =>
      (
        toJson(pb.ExpressionSchema, expressionOf(c)) as {
          unresolvedFunction: { arguments: Array<{ lambdaFunction?: { arguments: Array<{ nameParts: string[] }> } }> };
        }
      ).unresolvedFunction.arguments.flatMap((a) => a.lambdaFunction?.arguments.map((v) => v.nameParts[0]) ?? []);
    const one = names(F.filter("arr", (x, i) => x.gt(i)));
    const two = names(F.aggregate("arr", 0, (acc, x) => acc.plus(x)));
    expect(one.map((n) => n?.[0])).toEqual(["x", "y"]);
    expect(new Set([...one, ...two]).size).toBe(4);
  });
  it("a lambda that returns no Column is a PlanError", () => {
    expect(() => F.exists("arr", () => 1 as unknown as Column)).toThrow(PlanError);
  });
});
