/**
 * Spark SQL functions, PySpark's `pyspark.sql.functions`, re-exported from the package entry as
 * `functions` (usually imported as `F`). Every function builds an unresolved function call with
 * Spark's registered (snake_case) name; camelCase aliases exist where PySpark has them
 * (`countDistinct`). String arguments name columns unless the parameter says otherwise (a
 * pattern, a format, a separator), exactly as in PySpark.
 */
import { create } from "@bufbuild/protobuf";
import * as pb from "#connect-proto";
import { Column, type ColumnOrName, type ColumnOrValue } from "./column.ts";
import { PlanError } from "./errors.ts";
import { columnExpression, functionExpression, sqlExpression, valueExpression } from "./expressions.ts";
import { columnFrom, expressionOf } from "./internal.ts";
import { doubleLiteralExpression, literalExpression } from "./literal.ts";

function call(name: string, ...args: pb.Expression[]): Column {
  return columnFrom(functionExpression(name, args));
}

function overColumns(name: string, ...cols: ColumnOrName[]): Column {
  return call(name, ...cols.map(columnExpression));
}

function litOrCol(v: ColumnOrValue): pb.Expression {
  return valueExpression(v);
}

function randomSeed(): bigint {
  return BigInt(Math.floor(Math.random() * Number.MAX_SAFE_INTEGER));
}

/** A Spark schema for `from_json`: a DDL string, a Column holding one, or a type with a JSON form. */
export type SchemaLike = string | Column | { json(): string };

function schemaExpression(schema: SchemaLike): pb.Expression {
  if (typeof schema === "string") return literalExpression(schema);
  if (schema instanceof Column) return expressionOf(schema);
  if (typeof schema.json === "function") return literalExpression(schema.json());
  throw new PlanError({ message: "from_json: schema must be a DDL string, a Column or a StructType" });
}

function optionsMap(options: Record<string, string | number | boolean>): pb.Expression {
  const args: pb.Expression[] = [];
  for (const [k, v] of Object.entries(options)) {
    args.push(literalExpression(k), literalExpression(String(v)));
  }
  return functionExpression("map", args);
}

// ---- columns and literals ---------------------------------------------------------------

/** A column by name (PySpark `col`); `"*"` is every column, `"t.*"` every column of `t`. */
export function col(name: string): Column {
  return columnFrom(columnExpression(name));
}
/** Alias of {@link col} (PySpark `column`). */
export function column(name: string): Column {
  return col(name);
}
/** A literal column (PySpark `lit`); a Column is returned as is. See `LiteralValue` for the types. */
export function lit(value: ColumnOrValue): Column {
  return value instanceof Column ? value : columnFrom(literalExpression(value));
}
/** A column from a SQL expression string (PySpark `expr`). */
export function expr(sql: string): Column {
  return columnFrom(sqlExpression(sql));
}
/** Calls any function by name, e.g. a SQL built-in without a wrapper here or a registered UDF (PySpark `call_function`). */
export function callFunction(name: string, ...cols: ColumnOrName[]): Column {
  return columnFrom(
    create(pb.ExpressionSchema, {
      exprType: {
        case: "callFunction",
        value: create(pb.CallFunctionSchema, { functionName: name, arguments: cols.map(columnExpression) }),
      },
    }),
  );
}
/** Alias of {@link callFunction} (PySpark `call_function`). */
export const call_function = callFunction;

/** Starts a conditional expression; chain `.when(...)` and close with `.otherwise(...)` (PySpark `when`). */
export function when(condition: Column, value: ColumnOrValue): Column {
  return call("when", expressionOf(condition), litOrCol(value));
}
/** The first non-null argument. */
export function coalesce(...cols: ColumnOrName[]): Column {
  return overColumns("coalesce", ...cols);
}
/** True where the value is NaN. */
export function isnan(c: ColumnOrName): Column {
  return overColumns("isnan", c);
}
/** True where the value is null. */
export function isnull(c: ColumnOrName): Column {
  return overColumns("isnull", c);
}
/** A struct of the given columns. */
export function struct(...cols: ColumnOrName[]): Column {
  return overColumns("struct", ...cols);
}
/** Unique, increasing (not consecutive) 64-bit ids. */
export function monotonically_increasing_id(): Column {
  return call("monotonically_increasing_id");
}
/** The partition id of each row. */
export function spark_partition_id(): Column {
  return call("spark_partition_id");
}
/** The file a row was read from (empty when unknown). */
export function input_file_name(): Column {
  return call("input_file_name");
}
/** Sort key ascending, nulls first (PySpark `asc`). */
export function asc(c: ColumnOrName): Column {
  return col1(c).asc();
}
/** Sort key descending, nulls last (PySpark `desc`). */
export function desc(c: ColumnOrName): Column {
  return col1(c).desc();
}
/** Sort key ascending, nulls first. */
export function asc_nulls_first(c: ColumnOrName): Column {
  return col1(c).asc_nulls_first();
}
/** Sort key descending, nulls last. */
export function desc_nulls_last(c: ColumnOrName): Column {
  return col1(c).desc_nulls_last();
}
/** Sort key ascending, nulls last. */
export function asc_nulls_last(c: ColumnOrName): Column {
  return col1(c).asc_nulls_last();
}
/** Sort key descending, nulls first. */
export function desc_nulls_first(c: ColumnOrName): Column {
  return col1(c).desc_nulls_first();
}

function col1(c: ColumnOrName): Column {
  return c instanceof Column ? c : col(c);
}

// ---- aggregates ---------------------------------------------------------------------------

/** Number of rows (`count("*")`) or of non-null values. */
export function count(c: ColumnOrName): Column {
  const e = columnExpression(c);
  return call("count", e.exprType.case === "unresolvedStar" ? literalExpression(1) : e);
}
/** Number of distinct non-null combinations (PySpark `count_distinct`). */
export function count_distinct(c: ColumnOrName, ...more: ColumnOrName[]): Column {
  return columnFrom(functionExpression("count", [c, ...more].map(columnExpression), true));
}
/** Alias of {@link count_distinct} (PySpark `countDistinct`). */
export const countDistinct = count_distinct;
/** Approximate distinct count (HyperLogLog++), `rsd` the maximum relative standard deviation. */
export function approx_count_distinct(c: ColumnOrName, rsd?: number): Column {
  return rsd === undefined
    ? overColumns("approx_count_distinct", c)
    : call("approx_count_distinct", columnExpression(c), literalExpression(rsd));
}
/** Alias of {@link approx_count_distinct} (PySpark `approxCountDistinct`). */
export const approxCountDistinct = approx_count_distinct;
/** Sum. */
export function sum(c: ColumnOrName): Column {
  return overColumns("sum", c);
}
/** Sum of distinct values. */
export function sum_distinct(c: ColumnOrName): Column {
  return columnFrom(functionExpression("sum", [columnExpression(c)], true));
}
/** Average. */
export function avg(c: ColumnOrName): Column {
  return overColumns("avg", c);
}
/** Alias of {@link avg}. */
export function mean(c: ColumnOrName): Column {
  return avg(c);
}
/** Minimum. */
export function min(c: ColumnOrName): Column {
  return overColumns("min", c);
}
/** Maximum. */
export function max(c: ColumnOrName): Column {
  return overColumns("max", c);
}
/** First value of the group, skipping nulls when `ignoreNulls`. */
export function first(c: ColumnOrName, ignoreNulls = false): Column {
  return call("first", columnExpression(c), literalExpression(ignoreNulls));
}
/** Last value of the group, skipping nulls when `ignoreNulls`. */
export function last(c: ColumnOrName, ignoreNulls = false): Column {
  return call("last", columnExpression(c), literalExpression(ignoreNulls));
}
/** The group's values as an array (duplicates kept). */
export function collect_list(c: ColumnOrName): Column {
  return overColumns("collect_list", c);
}
/** The group's distinct values as an array. */
export function collect_set(c: ColumnOrName): Column {
  return overColumns("collect_set", c);
}
/** Sample standard deviation. */
export function stddev(c: ColumnOrName): Column {
  return overColumns("stddev", c);
}
/** Sample standard deviation. */
export function stddev_samp(c: ColumnOrName): Column {
  return overColumns("stddev_samp", c);
}
/** Population standard deviation. */
export function stddev_pop(c: ColumnOrName): Column {
  return overColumns("stddev_pop", c);
}
/** Sample variance. */
export function variance(c: ColumnOrName): Column {
  return overColumns("variance", c);
}
/** Sample variance. */
export function var_samp(c: ColumnOrName): Column {
  return overColumns("var_samp", c);
}
/** Population variance. */
export function var_pop(c: ColumnOrName): Column {
  return overColumns("var_pop", c);
}

// ---- strings -------------------------------------------------------------------------------

/** Upper case. */
export function upper(c: ColumnOrName): Column {
  return overColumns("upper", c);
}
/** Lower case. */
export function lower(c: ColumnOrName): Column {
  return overColumns("lower", c);
}
/** Strips spaces at both ends. */
export function trim(c: ColumnOrName): Column {
  return overColumns("trim", c);
}
/** Strips leading spaces. */
export function ltrim(c: ColumnOrName): Column {
  return overColumns("ltrim", c);
}
/** Strips trailing spaces. */
export function rtrim(c: ColumnOrName): Column {
  return overColumns("rtrim", c);
}
/** Character length of a string, byte length of a binary. */
export function length(c: ColumnOrName): Column {
  return overColumns("length", c);
}
/** Concatenation of strings, binaries or arrays. */
export function concat(...cols: ColumnOrName[]): Column {
  return overColumns("concat", ...cols);
}
/** Concatenation with a separator, nulls skipped. */
export function concat_ws(sep: string, ...cols: ColumnOrName[]): Column {
  return call("concat_ws", literalExpression(sep), ...cols.map(columnExpression));
}
/** Substring from 1-based `pos`, `len` characters. */
export function substring(c: ColumnOrName, pos: number | Column, len: number | Column): Column {
  return call("substring", columnExpression(c), litOrCol(pos), litOrCol(len));
}
/** Replaces every match of a Java regex. */
export function regexp_replace(c: ColumnOrName, pattern: string | Column, replacement: string | Column): Column {
  return call("regexp_replace", columnExpression(c), litOrCol(pattern), litOrCol(replacement));
}
/** Group `idx` of the first match of a Java regex ("" when none). */
export function regexp_extract(c: ColumnOrName, pattern: string, idx: number): Column {
  return call("regexp_extract", columnExpression(c), literalExpression(pattern), literalExpression(idx));
}
/** Splits around matches of a Java regex; `limit` > 0 caps the array length. */
export function split(c: ColumnOrName, pattern: string, limit: number | Column = -1): Column {
  return call("split", columnExpression(c), literalExpression(pattern), litOrCol(limit));
}
/** Left-pads to `len` characters with `pad`. */
export function lpad(c: ColumnOrName, len: number, pad: string): Column {
  return call("lpad", columnExpression(c), literalExpression(len), literalExpression(pad));
}
/** Right-pads to `len` characters with `pad`. */
export function rpad(c: ColumnOrName, len: number, pad: string): Column {
  return call("rpad", columnExpression(c), literalExpression(len), literalExpression(pad));
}
/** printf-style formatting. */
export function format_string(format: string, ...cols: ColumnOrName[]): Column {
  return call("format_string", literalExpression(format), ...cols.map(columnExpression));
}
/** Array element at 1-based index (negative from the end), or map value by key. */
export function element_at(c: ColumnOrName, extraction: ColumnOrValue): Column {
  return call("element_at", columnExpression(c), litOrCol(extraction));
}
/** Base64 text of a binary. */
export function base64(c: ColumnOrName): Column {
  return overColumns("base64", c);
}
/** Binary from base64 text. */
export function unbase64(c: ColumnOrName): Column {
  return overColumns("unbase64", c);
}
/** Parses a JSON string column with a schema (DDL string or StructType); `options` as in Spark's JSON source. */
export function from_json(
  c: ColumnOrName,
  schema: SchemaLike,
  options?: Record<string, string | number | boolean>,
): Column {
  const args = [columnExpression(c), schemaExpression(schema)];
  if (options !== undefined) args.push(optionsMap(options));
  return call("from_json", ...args);
}
/** JSON text of a struct, map or array column. */
export function to_json(c: ColumnOrName, options?: Record<string, string | number | boolean>): Column {
  const args = [columnExpression(c)];
  if (options !== undefined) args.push(optionsMap(options));
  return call("to_json", ...args);
}

// ---- math ----------------------------------------------------------------------------------

/** Absolute value. */
export function abs(c: ColumnOrName): Column {
  return overColumns("abs", c);
}
/** Square root. */
export function sqrt(c: ColumnOrName): Column {
  return overColumns("sqrt", c);
}
/** e to the power of the value. */
export function exp(c: ColumnOrName): Column {
  return overColumns("exp", c);
}
/** Natural logarithm `log(c)`, or the logarithm in `base`: `log(base, c)` (PySpark argument order). */
export function log(baseOrCol: number | ColumnOrName, c?: ColumnOrName): Column {
  if (c === undefined) {
    if (typeof baseOrCol === "number") throw new PlanError({ message: "log: give a column" });
    return overColumns("ln", baseOrCol);
  }
  if (typeof baseOrCol !== "number") throw new PlanError({ message: "log(base, col): base must be a number" });
  return call("log", doubleLiteralExpression(baseOrCol), columnExpression(c));
}
/** `a ** b`; numbers are literals, strings name columns. */
export function pow(a: ColumnOrName | number, b: ColumnOrName | number): Column {
  const side = (v: ColumnOrName | number) => (typeof v === "number" ? literalExpression(v) : columnExpression(v));
  return call("power", side(a), side(b));
}
/** Rounds half up to `scale` decimal places. */
export function round(c: ColumnOrName, scale?: number | Column): Column {
  return scale === undefined ? overColumns("round", c) : call("round", columnExpression(c), litOrCol(scale));
}
/** Rounds down. */
export function floor(c: ColumnOrName): Column {
  return overColumns("floor", c);
}
/** Rounds up. */
export function ceil(c: ColumnOrName): Column {
  return overColumns("ceil", c);
}
/** Largest of the values, nulls skipped. */
export function greatest(...cols: ColumnOrName[]): Column {
  return overColumns("greatest", ...cols);
}
/** Smallest of the values, nulls skipped. */
export function least(...cols: ColumnOrName[]): Column {
  return overColumns("least", ...cols);
}
/** Uniform random in [0, 1); a random seed is chosen when none is given (PySpark behaviour). */
export function rand(seed?: number | bigint): Column {
  return call("rand", literalExpression(seed ?? randomSeed()));
}
/** Standard normal random; a random seed is chosen when none is given. */
export function randn(seed?: number | bigint): Column {
  return call("randn", literalExpression(seed ?? randomSeed()));
}

// ---- dates and times -----------------------------------------------------------------------

/** Today's date at the start of the query. */
export function current_date(): Column {
  return call("current_date");
}
/** The timestamp at the start of the query. */
export function current_timestamp(): Column {
  return call("current_timestamp");
}
/** `start` plus `days` days. */
export function date_add(start: ColumnOrName, days: number | Column): Column {
  return call("date_add", columnExpression(start), litOrCol(days));
}
/** `start` minus `days` days. */
export function date_sub(start: ColumnOrName, days: number | Column): Column {
  return call("date_sub", columnExpression(start), litOrCol(days));
}
/** Days from `start` to `end`. */
export function datediff(end: ColumnOrName, start: ColumnOrName): Column {
  return overColumns("datediff", end, start);
}
/** Year of a date/timestamp. */
export function year(c: ColumnOrName): Column {
  return overColumns("year", c);
}
/** Month (1-12). */
export function month(c: ColumnOrName): Column {
  return overColumns("month", c);
}
/** Day of the month (1-31). */
export function dayofmonth(c: ColumnOrName): Column {
  return overColumns("dayofmonth", c);
}
/** Hour (0-23). */
export function hour(c: ColumnOrName): Column {
  return overColumns("hour", c);
}
/** Minute (0-59). */
export function minute(c: ColumnOrName): Column {
  return overColumns("minute", c);
}
/** Second (0-59). */
export function second(c: ColumnOrName): Column {
  return overColumns("second", c);
}
/** Converts to a date, optionally with a datetime pattern. */
export function to_date(c: ColumnOrName, format?: string): Column {
  return format === undefined
    ? overColumns("to_date", c)
    : call("to_date", columnExpression(c), literalExpression(format));
}
/** Converts to a timestamp, optionally with a datetime pattern. */
export function to_timestamp(c: ColumnOrName, format?: string): Column {
  return format === undefined
    ? overColumns("to_timestamp", c)
    : call("to_timestamp", columnExpression(c), literalExpression(format));
}
/** Formats a date/timestamp with a datetime pattern. */
export function date_format(c: ColumnOrName, format: string): Column {
  return call("date_format", columnExpression(c), literalExpression(format));
}
/** Seconds since the epoch: of now (no argument) or of `timestamp` parsed with `format`. */
export function unix_timestamp(timestamp?: ColumnOrName, format = "yyyy-MM-dd HH:mm:ss"): Column {
  if (timestamp === undefined) return call("unix_timestamp");
  return call("unix_timestamp", columnExpression(timestamp), literalExpression(format));
}
/** Formats seconds since the epoch as a string in the session time zone. */
export function from_unixtime(timestamp: ColumnOrName, format = "yyyy-MM-dd HH:mm:ss"): Column {
  return call("from_unixtime", columnExpression(timestamp), literalExpression(format));
}

// ---- arrays --------------------------------------------------------------------------------

/** An array of the given columns. */
export function array(...cols: ColumnOrName[]): Column {
  return overColumns("array", ...cols);
}
/** True where the array contains `value`. */
export function array_contains(c: ColumnOrName, value: ColumnOrValue): Column {
  return call("array_contains", columnExpression(c), litOrCol(value));
}
/** Number of elements of an array or map. */
export function size(c: ColumnOrName): Column {
  return overColumns("size", c);
}
/** One row per array element (or map entry). */
export function explode(c: ColumnOrName): Column {
  return overColumns("explode", c);
}
/** Like {@link explode}, nulls and empty arrays kept as a null row. */
export function explode_outer(c: ColumnOrName): Column {
  return overColumns("explode_outer", c);
}
/** One row per array element with its position (`pos`, `col`). */
export function posexplode(c: ColumnOrName): Column {
  return overColumns("posexplode", c);
}
/** Sorts an array; nulls first when ascending, last when descending. */
export function sort_array(c: ColumnOrName, ascending = true): Column {
  return call("sort_array", columnExpression(c), literalExpression(ascending));
}
/** The array without duplicates. */
export function array_distinct(c: ColumnOrName): Column {
  return overColumns("array_distinct", c);
}
/** `length` elements from 1-based `start` (negative from the end). */
export function slice(c: ColumnOrName, start: number | ColumnOrName, len: number | ColumnOrName): Column {
  const side = (v: number | ColumnOrName) => (typeof v === "number" ? literalExpression(v) : columnExpression(v));
  return call("slice", columnExpression(c), side(start), side(len));
}
/** Flattens an array of arrays by one level. */
export function flatten(c: ColumnOrName): Column {
  return overColumns("flatten", c);
}
let lambdaVariableId = 0;

/** A lambda for higher-order functions: fresh variable names (`x_7`), the body built by `f`. */
function lambda(f: (...args: Column[]) => Column): pb.Expression {
  const arity = f.length === 0 ? 1 : f.length;
  if (arity > 3) throw new PlanError({ message: "higher-order functions take lambdas of 1 to 3 arguments" });
  const variables = ["x", "y", "z"]
    .slice(0, arity)
    .map((n) =>
      create(pb.Expression_UnresolvedNamedLambdaVariableSchema, { nameParts: [`${n}_${lambdaVariableId++}`] }),
    );
  const body = f(
    ...variables.map((v) =>
      columnFrom(create(pb.ExpressionSchema, { exprType: { case: "unresolvedNamedLambdaVariable", value: v } })),
    ),
  );
  if (!(body instanceof Column))
    throw new PlanError({ message: "a higher-order function's lambda must return a Column" });
  return create(pb.ExpressionSchema, {
    exprType: {
      case: "lambdaFunction",
      value: create(pb.Expression_LambdaFunctionSchema, { function: expressionOf(body), arguments: variables }),
    },
  });
}

/** Applies `f(element)` or `f(element, index)` to every array element (PySpark `transform`). */
export function transform(c: ColumnOrName, f: (x: Column, i: Column) => Column): Column {
  return call("transform", columnExpression(c), lambda(f as (...args: Column[]) => Column));
}
/** The array elements for which `f(element)` (or `f(element, index)`) holds (PySpark `filter`). */
export function filter(c: ColumnOrName, f: (x: Column, i: Column) => Column): Column {
  return call("filter", columnExpression(c), lambda(f as (...args: Column[]) => Column));
}
/** True if `f` holds for some element (PySpark `exists`). */
export function exists(c: ColumnOrName, f: (x: Column) => Column): Column {
  return call("exists", columnExpression(c), lambda(f));
}
/** True if `f` holds for every element (PySpark `forall`). */
export function forall(c: ColumnOrName, f: (x: Column) => Column): Column {
  return call("forall", columnExpression(c), lambda(f));
}
/** Folds the array from `initial` with `merge(acc, x)`, then `finish(acc)` if given (PySpark `aggregate`). */
export function aggregate(
  c: ColumnOrName,
  initial: ColumnOrValue,
  merge: (acc: Column, x: Column) => Column,
  finish?: (acc: Column) => Column,
): Column {
  const args = [columnExpression(c), litOrCol(initial), lambda(merge)];
  if (finish !== undefined) args.push(lambda(finish));
  return call("aggregate", ...args);
}

/** Map from alternating key and value columns. */
export function create_map(...cols: ColumnOrName[]): Column {
  return overColumns("map", ...cols);
}

// ---- window functions (use with `.over(Window...)`) ---------------------------------------

/** 1-based position of the row in its window partition. */
export function row_number(): Column {
  return call("row_number");
}
/** Rank with gaps after ties. */
export function rank(): Column {
  return call("rank");
}
/** Rank without gaps after ties. */
export function dense_rank(): Column {
  return call("dense_rank");
}
/** Relative rank in [0, 1]. */
export function percent_rank(): Column {
  return call("percent_rank");
}
/** Cumulative distribution in (0, 1]. */
export function cume_dist(): Column {
  return call("cume_dist");
}
/** Bucket number 1..n of the row in its ordered partition. */
export function ntile(n: number): Column {
  return call("ntile", literalExpression(n));
}
/** The value `offset` rows before (or `defaultValue`). */
export function lag(c: ColumnOrName, offset = 1, defaultValue?: ColumnOrValue): Column {
  const args = [columnExpression(c), literalExpression(offset)];
  if (defaultValue !== undefined && defaultValue !== null) args.push(litOrCol(defaultValue));
  return call("lag", ...args);
}
/** The value `offset` rows after (or `defaultValue`). */
export function lead(c: ColumnOrName, offset = 1, defaultValue?: ColumnOrValue): Column {
  const args = [columnExpression(c), literalExpression(offset)];
  if (defaultValue !== undefined && defaultValue !== null) args.push(litOrCol(defaultValue));
  return call("lead", ...args);
}

// ---- Spark ML helpers ----------------------------------------------------------------------

/** ML vector column to `array<double>` (`dtype` "float64") or `array<float>` ("float32") (PySpark `pyspark.ml.functions.vector_to_array`). */
export function vector_to_array(c: ColumnOrName, dtype: "float64" | "float32" = "float64"): Column {
  return call("vector_to_array", columnExpression(c), literalExpression(dtype));
}
/** Numeric array column to a dense ML vector (PySpark `pyspark.ml.functions.array_to_vector`). */
export function array_to_vector(c: ColumnOrName): Column {
  return overColumns("array_to_vector", c);
}
