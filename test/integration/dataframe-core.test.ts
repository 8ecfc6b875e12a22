import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  col,
  type DataFrame,
  functions as F,
  InterruptedError,
  lit,
  PlanError,
  type Row,
  SparkServerError,
  SparkSession,
  StructType,
} from "../../src/index.ts";

let spark: SparkSession;
let people: DataFrame;

beforeAll(() => {
  spark = SparkSession.builder.remote(inject("sparkRemote")).create();
  people = spark.sql(
    "SELECT * FROM VALUES (1, 'ann', 30, 'x'), (2, 'bob', NULL, 'y'), (3, 'cy', 25, 'x'), (4, NULL, 41, 'y') AS t(id, name, age, grp)",
  );
});

afterAll(async () => {
  await spark.stop();
});

const objs = (rows: Row[]) => rows.map((r) => r.toObject());
const ids = (rows: Row[]) => rows.map((r) => Number(r.get("id")));

describe("transformations", () => {
  it("select with names, Columns and expressions; selectExpr", async () => {
    const rows = await people
      .select("id", col("age").plus(1).alias("next"), F.upper("name").alias("u"))
      .orderBy("id")
      .collect();
    expect(objs(rows)).toEqual([
      { id: 1, next: 31, u: "ANN" },
      { id: 2, next: null, u: "BOB" },
      { id: 3, next: 26, u: "CY" },
      { id: 4, next: 42, u: null },
    ]);
    const e = await people.selectExpr("id * 10 AS tens").orderBy("tens").collect();
    expect(e.map((r) => r.get("tens"))).toEqual([10, 20, 30, 40]);
  });

  it("filter/where with a Column and with SQL", async () => {
    expect(ids(await people.filter(col("age").gt(26)).orderBy("id").collect())).toEqual([1, 4]);
    expect(ids(await people.where("grp = 'y'").orderBy("id").collect())).toEqual([2, 4]);
    expect(ids(await people.where(col("name").isNull()).collect())).toEqual([4]);
  });

  it("withColumn, withColumns, withColumnRenamed, drop", async () => {
    const df = people
      .withColumn("twice", col("id").multiply(2))
      .withColumns({ one: lit(1), half: col("id").divide(2) })
      .withColumnRenamed("name", "who")
      .drop("grp", col("age"));
    expect(await df.columns()).toEqual(["id", "who", "twice", "one", "half"]);
    const first = await df.orderBy("id").first();
    expect(first?.toObject()).toEqual({ id: 1, who: "ann", twice: 2, one: 1, half: 0.5 });
  });

  it("limit, offset, orderBy with desc putting nulls last and asc nulls first", async () => {
    expect(ids(await people.orderBy(col("age").desc()).collect())).toEqual([4, 1, 3, 2]);
    expect(ids(await people.orderBy(col("age").asc()).collect())).toEqual([2, 3, 1, 4]);
    expect(ids(await people.orderBy("age", { ascending: false }).collect())).toEqual([4, 1, 3, 2]);
    expect(ids(await people.sort(F.desc_nulls_first("age")).collect())).toEqual([2, 4, 1, 3]);
    expect(ids(await people.orderBy("id").limit(2).collect())).toEqual([1, 2]);
    expect(ids(await people.orderBy("id").offset(3).collect())).toEqual([4]);
  });

  it("repartition and coalesce change the partition count", async () => {
    const parts = async (df: DataFrame) =>
      Number(
        (await df.select(F.spark_partition_id().alias("p")).agg(F.countDistinct("p").alias("n")).first())?.get("n"),
      );
    const big = spark.range(0, 1000, 1, 2);
    expect(await parts(big.repartition(5))).toBe(5);
    expect(await parts(big.repartition(3, "id"))).toBe(3);
    expect(await parts(big.repartition(5).coalesce(1))).toBe(1);
  });

  it("groupBy().agg/count/sum/avg/min/max/mean", async () => {
    const agg = await people
      .groupBy("grp")
      .agg(F.count("*").alias("n"), F.sum("age").alias("s"), F.avg("age").alias("a"), F.collect_list("id").alias("ids"))
      .orderBy("grp")
      .collect();
    expect(agg.map((r) => [r.get("grp"), Number(r.get("n")), Number(r.get("s")), r.get("a")])).toEqual([
      ["x", 2, 55, 27.5],
      ["y", 2, 41, 41],
    ]);
    const counts = await people.groupBy("grp").count().orderBy("grp").collect();
    expect(counts.map((r) => [r.get("grp"), Number(r.get("count"))])).toEqual([
      ["x", 2],
      ["y", 2],
    ]);
    const m = await people.groupBy().max("age").first();
    expect(m?.get("max(age)")).toBe(41);
    expect((await people.groupBy().min("age").first())?.get("min(age)")).toBe(25);
    expect((await people.groupBy().mean("age").first())?.get("avg(age)")).toBeCloseTo(32);
    expect(Number((await people.groupBy().sum("id").first())?.get("sum(id)"))).toBe(10);
    expect((await people.agg({ age: "max" }).first())?.get("max(age)")).toBe(41);
  });

  it("groupBy().pivot().agg() spreads values into columns", async () => {
    const sales = spark.sql(
      "SELECT * FROM VALUES ('q1', 'apple', 3), ('q1', 'pear', 4), ('q2', 'apple', 5) AS t(q, fruit, n)",
    );
    const pivoted = await sales.groupBy("q").pivot("fruit", ["apple", "pear"]).agg(F.sum("n")).orderBy("q").collect();
    expect(pivoted.map((r) => r.values.map((v) => (typeof v === "bigint" ? Number(v) : v)))).toEqual([
      ["q1", 3, 4],
      ["q2", 5, null],
    ]);
    expect(await sales.groupBy("q").pivot("fruit").count().columns()).toEqual(["q", "apple", "pear"]);
  });

  it("union keeps duplicates; unionByName matches names and can fill missing columns", async () => {
    const a = spark.sql("SELECT 1 AS x, 'a' AS y");
    expect(await a.union(a).count()).toBe(2);
    expect(await a.unionAll(a).distinct().count()).toBe(1);
    const b = spark.sql("SELECT 'b' AS y, 2 AS x");
    expect(objs(await a.unionByName(b).orderBy("x").collect())).toEqual([
      { x: 1, y: "a" },
      { x: 2, y: "b" },
    ]);
    const c = spark.sql("SELECT 3 AS x");
    expect(objs(await a.unionByName(c, true).orderBy("x").collect())).toEqual([
      { x: 1, y: "a" },
      { x: 3, y: null },
    ]);
    await expect(a.unionByName(c).collect()).rejects.toBeInstanceOf(SparkServerError);
  });

  it("intersect, subtract, exceptAll", async () => {
    const a = spark.sql("SELECT * FROM VALUES (1), (1), (2), (3) AS t(v)");
    const b = spark.sql("SELECT * FROM VALUES (1), (3) AS t(v)");
    const vs = async (df: DataFrame) => (await df.orderBy("v").collect()).map((r) => r.get("v"));
    expect(await vs(a.intersect(b))).toEqual([1, 3]);
    expect(await vs(a.subtract(b))).toEqual([2]);
    expect(await vs(a.exceptAll(b))).toEqual([1, 2]);
  });

  it("fillna and dropna", async () => {
    const filled = await people.fillna(0, ["age"]).fillna({ name: "?" }).orderBy("id").collect();
    expect(filled.map((r) => [r.get("name"), r.get("age")])).toEqual([
      ["ann", 30],
      ["bob", 0],
      ["cy", 25],
      ["?", 41],
    ]);
    expect(ids(await people.dropna().orderBy("id").collect())).toEqual([1, 3]);
    expect(ids(await people.dropna("any", undefined, ["age"]).orderBy("id").collect())).toEqual([1, 3, 4]);
    expect(await people.dropna("all").count()).toBe(4);
    expect(await people.dropna("any", 4).count()).toBe(2);
  });

  it("distinct and dropDuplicates(subset)", async () => {
    const d = spark.sql("SELECT * FROM VALUES (1, 'a'), (1, 'a'), (1, 'b') AS t(k, v)");
    expect(await d.distinct().count()).toBe(2);
    expect(await d.dropDuplicates().count()).toBe(2);
    expect(await d.dropDuplicates(["k"]).count()).toBe(1);
  });

  it("sample with a seed is repeatable and close to the fraction", async () => {
    const r = spark.range(10_000);
    const one = await r.sample(0.1, 7).count();
    const two = await r.sample(false, 0.1, 7).count();
    expect(one).toBe(two);
    expect(one).toBeGreaterThan(800);
    expect(one).toBeLessThan(1200);
    expect(await r.sample(true, 0.5, 3).count()).toBeGreaterThan(4000);
  });

  it("randomSplit puts every row in exactly one part, repeatably", async () => {
    const r = spark.range(0, 2000, 1, 3);
    const [train, test] = r.randomSplit([0.8, 0.2], 11);
    if (train === undefined || test === undefined) throw new Error("expected two parts");
    const a = (await train.collect()).map((x) => Number(x.get("id")));
    const b = (await test.collect()).map((x) => Number(x.get("id")));
    expect(a.length + b.length).toBe(2000);
    expect(new Set([...a, ...b]).size).toBe(2000);
    expect(a.length).toBeGreaterThan(1400);
    const [again] = r.randomSplit([0.8, 0.2], 11);
    expect(await again?.count()).toBe(a.length);
  });

  it("tail returns the last rows in order", async () => {
    expect(ids(await people.orderBy("id").tail(2))).toEqual([3, 4]);
  });

  it("alias qualifies columns", async () => {
    const rows = await people.alias("p").select("p.id").where("p.id = 2").collect();
    expect(ids(rows)).toEqual([2]);
  });
});

describe("actions", () => {
  it("collect, count, first, take, head, isEmpty", async () => {
    expect(await people.count()).toBe(4);
    expect((await people.orderBy("id").first())?.get("name")).toBe("ann");
    expect(ids(await people.orderBy("id").take(2))).toEqual([1, 2]);
    expect(ids(await people.orderBy("id").head(3))).toEqual([1, 2, 3]);
    expect((await people.orderBy("id").head())?.get("id")).toBe(1);
    expect(await people.isEmpty()).toBe(false);
    expect(await people.where("id > 100").isEmpty()).toBe(true);
    expect(await people.where("id > 100").first()).toBeUndefined();
  });

  it("schema, columns, dtypes, printSchema text", async () => {
    const schema = await people.schema();
    expect(schema).toBeInstanceOf(StructType);
    expect(schema.names).toEqual(["id", "name", "age", "grp"]);
    expect(await people.dtypes()).toEqual([
      ["id", "int"],
      ["name", "string"],
      ["age", "int"],
      ["grp", "string"],
    ]);
    expect(await spark.range(1).treeString()).toBe("root\n |-- id: long (nullable = false)\n");
  });

  it("explain returns the physical plan text", async () => {
    const text = await spark.range(3).explainString();
    expect(text).toContain("== Physical Plan ==");
    expect(text).toContain("Range (0, 3, step=1");
    expect(await spark.range(3).explainString("extended")).toContain("== Analyzed Logical Plan ==");
  });

  it("toArrow returns an apache-arrow Table with every row", async () => {
    const t = await spark.range(0, 2500, 1, 3).toArrow();
    expect(t.numRows).toBe(2500);
    expect(t.schema.fields.map((f) => f.name)).toEqual(["id"]);
  });

  it("stream() over a large range yields every row without buffering the whole result", async () => {
    let rows = 0;
    let sum = 0n;
    let batches = 0;
    for await (const b of spark.range(0, 3_000_000, 1, 4).stream()) {
      batches++;
      rows += b.numRows;
      const ids = b.getChild("id");
      for (let i = 0; i < b.numRows; i++) sum += ids?.get(i) as bigint;
    }
    expect(rows).toBe(3_000_000);
    expect(sum).toBe((2_999_999n * 3_000_000n) / 2n);
    expect(batches).toBeGreaterThan(1);
  });

  it("toLocalIterator yields every row in order, decoded per batch", async () => {
    let expected = 0;
    for await (const row of spark.range(0, 20_000, 1, 3).toLocalIterator()) {
      expect(Number(row.get("id"))).toBe(expected);
      expected++;
    }
    expect(expected).toBe(20_000);
  });

  it("createOrReplaceTempView makes the DataFrame visible to spark.sql", async () => {
    await people.where("grp = 'x'").createOrReplaceTempView("h2b_people_x");
    expect(ids(await spark.sql("SELECT id FROM h2b_people_x ORDER BY id").collect())).toEqual([1, 3]);
    await people.createOrReplaceTempView("h2b_people_x");
    expect(await spark.table("h2b_people_x").count()).toBe(4);
    await expect(people.createTempView("h2b_people_x")).rejects.toBeInstanceOf(SparkServerError);
  });

  it("spark.sql with named and positional parameters", async () => {
    const named = await spark.sql("SELECT :a + 1 AS v, :s AS s", { a: 41, s: "hi" }).first();
    expect(named?.toObject()).toEqual({ v: 42, s: "hi" });
    const pos = await spark.sql("SELECT id FROM range(10) WHERE id BETWEEN ? AND ?", [3, 4]).collect();
    expect(ids(pos)).toEqual([3, 4]);
  });

  it("spark.sql is lazy: DDL runs at the first action", async () => {
    const ddl = spark.sql("CREATE OR REPLACE TEMPORARY VIEW h2b_lazy AS SELECT 7 AS v");
    await expect(spark.table("h2b_lazy").collect()).rejects.toBeInstanceOf(SparkServerError);
    await ddl.collect();
    expect((await spark.table("h2b_lazy").first())?.get("v")).toBe(7);
  });

  it("a server-side analysis error surfaces as SparkServerError from the action, not the builder", async () => {
    const bad = people.select("no_such_column");
    const err = await bad.collect().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SparkServerError);
    expect((err as SparkServerError).errorClass).toMatch(/UNRESOLVED_COLUMN/);
  });

  it("builder misuse is a PlanError at build time", () => {
    expect(() => people.limit(-1)).toThrow(PlanError);
  });

  it("an action aborted mid-flight rejects with an InterruptedError; progress reaches onProgress", async () => {
    const ac = new AbortController();
    let updates = 0;
    const running = spark
      .range(0, 100_000_000_000, 1, 2)
      .agg(F.sum(F.sqrt("id")))
      .collect({ signal: ac.signal, onProgress: () => updates++ });
    setTimeout(() => ac.abort(), 4000);
    const err = await running.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InterruptedError);
    expect(updates).toBeGreaterThan(0);
  });

  it("describe and summary", async () => {
    const d = await people.describe("age").collect();
    expect(d.map((r) => [r.get("summary"), r.get("age")])).toEqual([
      ["count", "3"],
      ["mean", "32.0"],
      ["stddev", expect.stringMatching(/^8\.18/)],
      ["min", "25"],
      ["max", "41"],
    ]);
    const s = await people.select("age").summary("count", "50%").collect();
    expect(s.map((r) => r.values)).toEqual([
      ["count", "3"],
      ["50%", "30"],
    ]);
  });

  it("cache puts an InMemoryRelation in the plan; unpersist removes it", async () => {
    const cached = await people.where("age > 26").cache();
    expect(await cached.count()).toBe(2);
    expect(await cached.explainString()).toContain("InMemoryRelation");
    await cached.unpersist(true);
    expect(await cached.explainString()).not.toContain("InMemoryRelation");
    expect(await cached.count()).toBe(2);
  });

  it("toArrow and collect of an empty result keep the schema", async () => {
    const t = await spark.range(0).toArrow();
    expect(t.numRows).toBe(0);
    expect(t.schema.fields.map((f) => f.name)).toEqual(["id"]);
    expect(await spark.range(0).collect()).toEqual([]);
  });

  it("an aborted action rejects", async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(spark.range(10).collect({ signal: ac.signal })).rejects.toThrow();
  });
});
