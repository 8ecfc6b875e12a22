import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  type Column,
  col,
  type DataFrame,
  Decimal,
  functions as F,
  IntegerType,
  lit,
  SparkSession,
  StringType,
  StructField,
  StructType,
  Timestamp,
  UserDefinedType,
} from "../../src/index.ts";

let spark: SparkSession;
let base: DataFrame;

beforeAll(() => {
  spark = SparkSession.builder.remote(inject("sparkRemote")).create();
  base = spark.sql(`SELECT 7 AS i, -2.5D AS d, '  Hello World  ' AS s, 'a,b,,c' AS csv, array(3, 1, 3, 2) AS arr,
    array(array(1, 2), array(3)) AS nested, DATE'2024-02-28' AS dt, TIMESTAMP'2024-02-28 13:14:15' AS ts,
    CAST(NULL AS DOUBLE) AS nd, CAST('NaN' AS DOUBLE) AS nan, named_struct('x', 1, 'y', 'z') AS st,
    map('k', 5) AS mp, X'68656C6C6F' AS bin, '{"a": 1, "b": "q"}' AS js, 1709126055L AS epoch`);
});

afterAll(async () => {
  await spark.stop();
});

/** Evaluates every column in one select and returns the values by label. */
async function evaluate(cases: Array<[string, Column, unknown]>): Promise<Map<string, unknown>> {
  const row = await base.select(...cases.map(([label, c]) => c.alias(label))).first();
  return new Map(cases.map(([label]) => [label, row?.get(label)]));
}

function check(cases: Array<[string, Column, unknown]>) {
  return async () => {
    const got = await evaluate(cases);
    for (const [label, , expected] of cases) expect(got.get(label), label).toEqual(expected);
  };
}

describe("Column methods evaluate on the server", () => {
  it(
    "arithmetic, comparison, boolean, null, string and extraction methods",
    check([
      ["plus", col("i").plus(1), 8],
      ["minus", col("i").minus(col("i")), 0],
      ["multiply", col("i").multiply(2), 14],
      ["divide", col("i").divide(2), 3.5],
      ["mod", col("i").mod(4), 3],
      ["pow", col("i").pow(2), 49],
      ["negate", col("i").negate(), -7],
      ["eq", col("i").eq(7), true],
      ["ne", col("i").ne(7), false],
      ["lt", col("i").lt(8), true],
      ["le", col("i").le(7), true],
      ["gt", col("i").gt(7), false],
      ["ge", col("i").ge(8), false],
      ["eqNullSafe", col("nd").eqNullSafe(null), true],
      ["eq null is null", col("nd").eq(null), null],
      ["and", col("i").gt(1).and(col("i").lt(10)), true],
      ["or", col("i").gt(10).or(false), false],
      ["not", col("i").gt(10).not(), true],
      ["isNull", col("nd").isNull(), true],
      ["isNotNull", col("i").isNotNull(), true],
      ["isNaN", col("nan").isNaN(), true],
      ["isin", col("i").isin(1, 7), true],
      ["isin list", col("i").isin([1, 2]), false],
      ["between", col("i").between(7, 9), true],
      ["like", col("s").like("%World%"), true],
      ["rlike", col("s").rlike("^\\s+Hel"), true],
      ["startswith", col("s").startswith("  H"), true],
      ["endswith", col("s").endswith("x"), false],
      ["contains", col("s").contains("lo W"), true],
      ["substr", col("s").substr(3, 5), "Hello"],
      ["getItem array", col("arr").getItem(1), 1],
      ["getItem map", col("mp").getItem("k"), 5],
      ["getField", col("st").getField("y"), "z"],
      ["cast string", col("i").cast("string"), "7"],
      ["cast DataType", col("i").cast(new StringType()), "7"],
      ["when", F.when(col("i").lt(5), "small").when(col("i").lt(10), "medium").otherwise("large"), "medium"],
      ["when without otherwise", F.when(col("i").lt(0), "neg"), null],
    ]),
  );
});

describe("functions evaluate on the server", () => {
  it(
    "string functions",
    check([
      ["upper", F.upper("s"), "  HELLO WORLD  "],
      ["lower", F.lower("s"), "  hello world  "],
      ["trim", F.trim("s"), "Hello World"],
      ["ltrim", F.ltrim("s"), "Hello World  "],
      ["rtrim", F.rtrim("s"), "  Hello World"],
      ["length", F.length("s"), 15],
      ["concat", F.concat(F.trim("s"), lit("!")), "Hello World!"],
      ["concat_ws", F.concat_ws("-", lit("a"), lit("b")), "a-b"],
      ["substring", F.substring(F.trim("s"), 1, 5), "Hello"],
      ["regexp_replace", F.regexp_replace("s", "o", "0"), "  Hell0 W0rld  "],
      ["regexp_extract", F.regexp_extract("s", "(W\\w+)", 1), "World"],
      ["split", F.split("csv", ","), ["a", "b", "", "c"]],
      ["split limit", F.split("csv", ",", 2), ["a", "b,,c"]],
      ["lpad", F.lpad(lit("7"), 3, "0"), "007"],
      ["rpad", F.rpad(lit("7"), 3, "x"), "7xx"],
      ["format_string", F.format_string("%d-%s", "i", "csv"), "7-a,b,,c"],
      ["base64", F.base64("bin"), "aGVsbG8="],
      ["unbase64", F.unbase64(lit("aGVsbG8=")), new Uint8Array([104, 101, 108, 108, 111])],
      ["to_json", F.to_json("st"), '{"x":1,"y":"z"}'],
      ["from_json DDL", F.to_json(F.from_json("js", "a INT, b STRING")), '{"a":1,"b":"q"}'],
      [
        "from_json StructType",
        F.from_json("js", new StructType([new StructField("a", new IntegerType(), true)])).getField("a"),
        1,
      ],
    ]),
  );

  it(
    "math functions",
    check([
      ["abs", F.abs("d"), 2.5],
      ["sqrt", F.sqrt(lit(16)), 4],
      ["exp", F.exp(lit(0)), 1],
      ["log", F.log(lit(1)), 0],
      ["log base", F.log(2, lit(8)), 3],
      ["pow", F.pow("i", 2), 49],
      ["round", F.round(lit(2.345), 2), 2.35],
      ["floor", F.floor("d"), -3n],
      ["ceil", F.ceil("d"), -2n],
      ["greatest", F.greatest("i", lit(9)), 9],
      ["least", F.least("i", lit(9)), 7],
      ["isnan", F.isnan("nan"), true],
      ["coalesce", F.coalesce("nd", "d"), -2.5],
      ["rand is in [0,1)", F.rand(42).lt(1).and(F.rand(42).ge(0)), true],
    ]),
  );

  it(
    "date and time functions",
    check([
      ["date_add", F.date_add("dt", 1), new Date(Date.UTC(2024, 1, 29))],
      ["date_sub", F.date_sub("dt", 28), new Date(Date.UTC(2024, 0, 31))],
      ["datediff", F.datediff(lit(new Date(Date.UTC(2024, 2, 1))), "dt"), 2],
      ["year", F.year("dt"), 2024],
      ["month", F.month("dt"), 2],
      ["dayofmonth", F.dayofmonth("dt"), 28],
      ["hour", F.hour("ts"), 13],
      ["to_date", F.to_date(lit("2024-03-01")), new Date(Date.UTC(2024, 2, 1))],
      ["to_date format", F.to_date(lit("01/03/2024"), "dd/MM/yyyy"), new Date(Date.UTC(2024, 2, 1))],
      ["date_format", F.date_format("dt", "yyyy/MM/dd"), "2024/02/28"],
      ["to_timestamp then format", F.date_format(F.to_timestamp(lit("2024-02-28 01:02:03")), "HH:mm:ss"), "01:02:03"],
      ["from_unixtime(unix_timestamp) round trip", F.unix_timestamp(F.from_unixtime("epoch")).eq(col("epoch")), true],
      ["from_unixtime format", F.from_unixtime(lit(0), "yyyy").isin("1969", "1970"), true],
      ["current_date is a date", F.current_date().isNotNull(), true],
      ["current_timestamp is a timestamp", F.current_timestamp().isNotNull(), true],
      ["unix_timestamp() is now", F.unix_timestamp().gt(1_700_000_000), true],
    ]),
  );

  it(
    "array functions",
    check([
      ["array", F.array(lit(1), lit(2)), [1, 2]],
      ["array_contains", F.array_contains("arr", 2), true],
      ["size", F.size("arr"), 4],
      ["sort_array", F.sort_array("arr"), [1, 2, 3, 3]],
      ["sort_array desc", F.sort_array("arr", false), [3, 3, 2, 1]],
      ["array_distinct", F.array_distinct("arr"), [3, 1, 2]],
      ["slice", F.slice("arr", 2, 2), [1, 3]],
      ["flatten", F.flatten("nested"), [1, 2, 3]],
      ["element_at", F.element_at("arr", -1), 2],
      ["struct", F.struct("i", "csv").getField("i"), 7],
      ["transform", F.transform("arr", (x) => x.multiply(10)), [30, 10, 30, 20]],
      ["transform with index", F.transform("arr", (x, i) => x.plus(i)), [3, 2, 5, 5]],
      ["filter", F.filter("arr", (x) => x.gt(1)), [3, 3, 2]],
      ["exists", F.exists("arr", (x) => x.eq(2)), true],
      ["forall", F.forall("arr", (x) => x.gt(1)), false],
      ["aggregate", F.aggregate("arr", 0, (acc, x) => acc.plus(x)), 9],
      [
        "aggregate with finish",
        F.aggregate(
          "arr",
          0,
          (acc, x) => acc.plus(x),
          (acc) => acc.multiply(2),
        ),
        18,
      ],
    ]),
  );

  it(
    "literals of every kind round-trip",
    check([
      ["int", lit(2147483647), 2147483647],
      ["long", lit(2147483648), 2147483648n],
      ["bigint", lit(5n), 5n],
      ["double", lit(1.5), 1.5],
      ["string", lit("x"), "x"],
      ["bool", lit(true), true],
      ["null", lit(null), null],
      ["date", lit(new Date(Date.UTC(2000, 0, 1))), new Date(Date.UTC(2000, 0, 1))],
      ["timestamp", lit(new Timestamp(1_000_000n)), new Timestamp(1_000_000n)],
      ["decimal", lit(Decimal.parse("12.340")), Decimal.parse("12.340")],
      ["binary", lit(new Uint8Array([1, 2])), new Uint8Array([1, 2])],
      ["array", lit([1, null, 3]), [1, null, 3]],
      ["nested array", lit([[1], [2.5]]), [[1], [2.5]]],
    ]),
  );
});

describe("aggregates, generators and row functions", () => {
  it("aggregate functions", async () => {
    const df = spark.sql("SELECT * FROM VALUES (1, 'a'), (2, 'b'), (2, 'b'), (NULL, 'c') AS t(v, k)");
    const r = await df
      .agg(
        F.count("*").alias("n"),
        F.count("v").alias("nv"),
        F.countDistinct("v").alias("dv"),
        F.count_distinct("v", "k").alias("dvk"),
        F.approx_count_distinct("k").alias("ak"),
        F.sum("v").alias("s"),
        F.avg("v").alias("a"),
        F.mean("v").alias("m"),
        F.min("k").alias("mn"),
        F.max("k").alias("mx"),
        F.first("k").alias("f"),
        F.last("v", true).alias("l"),
        F.sort_array(F.collect_list("v")).alias("cl"),
        F.sort_array(F.collect_set("k")).alias("cs"),
        F.round(F.stddev("v"), 4).alias("sd"),
        F.round(F.variance("v"), 4).alias("var"),
      )
      .first();
    expect(r?.toObject()).toMatchObject({
      n: 4n,
      nv: 3n,
      dv: 2n,
      dvk: 2n,
      ak: 3n,
      s: 5n,
      mn: "a",
      mx: "c",
      cl: [1, 2, 2],
      cs: ["a", "b", "c"],
      sd: 0.5774,
      var: 0.3333,
    });
    expect(r?.get("a")).toBeCloseTo(5 / 3);
    expect(r?.get("m")).toBeCloseTo(5 / 3);
  });

  it("explode, posexplode, monotonically_increasing_id, spark_partition_id, input_file_name, expr", async () => {
    const ex = await spark.sql("SELECT array(10, 20) AS a").select(F.explode("a").alias("x")).collect();
    expect(ex.map((r) => r.get("x"))).toEqual([10, 20]);
    const pe = await spark.sql("SELECT array(10, 20) AS a").select(F.posexplode("a").alias("p", "x")).collect();
    expect(pe.map((r) => r.toObject())).toEqual([
      { p: 0, x: 10 },
      { p: 1, x: 20 },
    ]);
    const ids = await spark
      .range(0, 4, 1, 2)
      .select(F.monotonically_increasing_id().alias("m"), F.spark_partition_id().alias("p"))
      .collect();
    expect(new Set(ids.map((r) => r.get("m"))).size).toBe(4);
    expect(new Set(ids.map((r) => r.get("p")))).toEqual(new Set([0, 1]));
    expect((await spark.range(1).select(F.input_file_name().alias("f")).first())?.get("f")).toBe("");
    expect((await spark.range(1).select(F.expr("1 + 2 AS three")).first())?.get("three")).toBe(3);
  });

  it("callFunction calls a built-in by name", async () => {
    const r = await spark
      .range(1)
      .select(F.callFunction("reverse", lit("abc")).alias("r"))
      .first();
    expect(r?.get("r")).toBe("cba");
  });

  it("array_to_vector and vector_to_array (Spark ML functions) round-trip", async () => {
    const df = spark.sql("SELECT array(1.5F, 2.5F) AS feats").select(F.array_to_vector("feats").alias("v"));
    const schema = await df.schema();
    expect(schema.fields[0]?.dataType).toBeInstanceOf(UserDefinedType);
    const back = await df
      .select(F.vector_to_array("v").alias("d"), F.vector_to_array("v", "float32").alias("f"))
      .first();
    expect(back?.get("d")).toEqual([1.5, 2.5]);
    expect(back?.get("f")).toEqual([1.5, 2.5]);
    expect((await df.schema()).fields.length).toBe(1);
    const decoded = (await df.first())?.get("v");
    expect(Array.from(decoded as Float64Array)).toEqual([1.5, 2.5]);
  });
});
