import { toJson } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import * as pb from "#connect-proto";
import { DataFrame } from "../../src/connect/data-frame.ts";
import { PlanError } from "../../src/connect/errors.ts";
import * as F from "../../src/connect/functions.ts";
import { expressionOf, relationOf } from "../../src/connect/internal.ts";
import { SparkSession } from "../../src/connect/spark-session.ts";

/** A real session (fresh plan-id counter); no RPC happens while plans are only built. */
function session(): SparkSession {
  return SparkSession.builder.remote("sc://localhost:15002").create();
}

const json = (df: DataFrame) => toJson(pb.RelationSchema, relationOf(df));
const common = (id: number) => ({ planId: String(id) });
const range10 = { common: common(0), range: { start: "0", end: "10", step: "1" } };
const attr = (name: string, planId?: number) => ({
  unresolvedAttribute:
    planId === undefined ? { unparsedIdentifier: name } : { unparsedIdentifier: name, planId: String(planId) },
});
const fn = (functionName: string, ...args: unknown[]) => ({ unresolvedFunction: { functionName, arguments: args } });
const int = (n: number) => ({ literal: { integer: n } });

function base(): DataFrame {
  return DataFrame.fromRange(session(), 10);
}

describe("session-level relations", () => {
  it("range(end)", () => {
    expect(json(base())).toEqual(range10);
  });
  it("range(start, end, step, numPartitions)", () => {
    expect(json(DataFrame.fromRange(session(), 5, 20, 3, 2))).toEqual({
      common: common(0),
      range: { start: "5", end: "20", step: "3", numPartitions: 2 },
    });
  });
  it("sql with named args binds literals", () => {
    expect(json(DataFrame.fromSql(session(), "SELECT :x, :y", { x: 1, y: "a" }))).toEqual({
      common: common(0),
      sql: { query: "SELECT :x, :y", namedArguments: { x: int(1), y: { literal: { string: "a" } } } },
    });
  });
  it("sql with positional args", () => {
    expect(json(DataFrame.fromSql(session(), "SELECT ?, ?", [2147483648, F.col("c")]))).toEqual({
      common: common(0),
      sql: { query: "SELECT ?, ?", posArguments: [{ literal: { long: "2147483648" } }, attr("c")] },
    });
  });
  it("sql without args", () => {
    expect(json(DataFrame.fromSql(session(), "SHOW TABLES"))).toEqual({
      common: common(0),
      sql: { query: "SHOW TABLES" },
    });
  });
});

describe("transformations wrap the input relation with a fresh plan id", () => {
  const cases: Array<[string, (df: DataFrame) => DataFrame, unknown]> = [
    [
      "select names and Columns",
      (df) => df.select("id", F.col("id").plus(1).alias("next")),
      {
        common: common(1),
        project: {
          input: range10,
          expressions: [attr("id"), { alias: { expr: fn("+", attr("id"), int(1)), name: ["next"] } }],
        },
      },
    ],
    [
      "select an array of names",
      (df) => df.select(["id", "id"]),
      { common: common(1), project: { input: range10, expressions: [attr("id"), attr("id")] } },
    ],
    [
      "selectExpr",
      (df) => df.selectExpr("id * 2 AS d"),
      {
        common: common(1),
        project: { input: range10, expressions: [{ expressionString: { expression: "id * 2 AS d" } }] },
      },
    ],
    [
      "filter with a Column",
      (df) => df.filter(F.col("id").gt(3)),
      { common: common(1), filter: { input: range10, condition: fn(">", attr("id"), int(3)) } },
    ],
    [
      "where with SQL",
      (df) => df.where("id > 3"),
      { common: common(1), filter: { input: range10, condition: { expressionString: { expression: "id > 3" } } } },
    ],
    [
      "withColumn",
      (df) => df.withColumn("x", F.lit(1)),
      { common: common(1), withColumns: { input: range10, aliases: [{ expr: int(1), name: ["x"] }] } },
    ],
    [
      "withColumns",
      (df) => df.withColumns({ x: F.lit(1), y: F.col("id") }),
      {
        common: common(1),
        withColumns: {
          input: range10,
          aliases: [
            { expr: int(1), name: ["x"] },
            { expr: attr("id"), name: ["y"] },
          ],
        },
      },
    ],
    [
      "withColumnRenamed",
      (df) => df.withColumnRenamed("id", "n"),
      { common: common(1), withColumnsRenamed: { input: range10, renames: [{ colName: "id", newColName: "n" }] } },
    ],
    [
      "drop names and Columns",
      (df) => df.drop("a", F.col("b")),
      { common: common(1), drop: { input: range10, columns: [attr("b")], columnNames: ["a"] } },
    ],
    ["limit", (df) => df.limit(5), { common: common(1), limit: { input: range10, limit: 5 } }],
    ["offset", (df) => df.offset(5), { common: common(1), offset: { input: range10, offset: 5 } }],
    [
      "repartition(n) shuffles",
      (df) => df.repartition(4),
      { common: common(1), repartition: { input: range10, numPartitions: 4, shuffle: true } },
    ],
    [
      "repartition(n, cols) by expression",
      (df) => df.repartition(4, "id"),
      {
        common: common(1),
        repartitionByExpression: { input: range10, partitionExprs: [attr("id")], numPartitions: 4 },
      },
    ],
    [
      "repartition(cols)",
      (df) => df.repartition("id"),
      { common: common(1), repartitionByExpression: { input: range10, partitionExprs: [attr("id")] } },
    ],
    [
      "coalesce does not shuffle",
      (df) => df.coalesce(1),
      { common: common(1), repartition: { input: range10, numPartitions: 1, shuffle: false } },
    ],
    [
      "orderBy names: ascending, nulls first",
      (df) => df.orderBy("id"),
      {
        common: common(1),
        sort: {
          input: range10,
          order: [{ child: attr("id"), direction: "SORT_DIRECTION_ASCENDING", nullOrdering: "SORT_NULLS_FIRST" }],
          isGlobal: true,
        },
      },
    ],
    [
      "sort with desc(): nulls last",
      (df) => df.sort(F.col("id").desc()),
      {
        common: common(1),
        sort: {
          input: range10,
          order: [{ child: attr("id"), direction: "SORT_DIRECTION_DESCENDING", nullOrdering: "SORT_NULLS_LAST" }],
          isGlobal: true,
        },
      },
    ],
    [
      "orderBy with ascending: false",
      (df) => df.orderBy("id", { ascending: false }),
      {
        common: common(1),
        sort: {
          input: range10,
          order: [{ child: attr("id"), direction: "SORT_DIRECTION_DESCENDING", nullOrdering: "SORT_NULLS_LAST" }],
          isGlobal: true,
        },
      },
    ],
    [
      "sortWithinPartitions is not global",
      (df) => df.sortWithinPartitions("id"),
      {
        common: common(1),
        sort: {
          input: range10,
          order: [{ child: attr("id"), direction: "SORT_DIRECTION_ASCENDING", nullOrdering: "SORT_NULLS_FIRST" }],
          isGlobal: false,
        },
      },
    ],
    ["distinct", (df) => df.distinct(), { common: common(1), deduplicate: { input: range10, allColumnsAsKeys: true } }],
    [
      "dropDuplicates(subset)",
      (df) => df.dropDuplicates(["id"]),
      { common: common(1), deduplicate: { input: range10, columnNames: ["id"] } },
    ],
    [
      "dropDuplicates()",
      (df) => df.dropDuplicates(),
      { common: common(1), deduplicate: { input: range10, allColumnsAsKeys: true } },
    ],
    [
      "sample(fraction, seed)",
      (df) => df.sample(0.5, 42),
      { common: common(1), sample: { input: range10, upperBound: 0.5, withReplacement: false, seed: "42" } },
    ],
    [
      "sample(withReplacement, fraction, seed)",
      (df) => df.sample(true, 2, 7),
      { common: common(1), sample: { input: range10, upperBound: 2, withReplacement: true, seed: "7" } },
    ],
    ["alias", (df) => df.alias("t"), { common: common(1), subqueryAlias: { input: range10, alias: "t" } }],
    ["toDF", (df) => df.toDF("n"), { common: common(1), toDf: { input: range10, columnNames: ["n"] } }],
    [
      "groupBy().agg",
      (df) => df.groupBy("id").agg(F.sum("id").alias("s"), F.max("id")),
      {
        common: common(1),
        aggregate: {
          input: range10,
          groupType: "GROUP_TYPE_GROUPBY",
          groupingExpressions: [attr("id")],
          aggregateExpressions: [{ alias: { expr: fn("sum", attr("id")), name: ["s"] } }, fn("max", attr("id"))],
        },
      },
    ],
    [
      "groupBy().agg({column: function})",
      (df) => df.groupBy("id").agg({ id: "max" }),
      {
        common: common(1),
        aggregate: {
          input: range10,
          groupType: "GROUP_TYPE_GROUPBY",
          groupingExpressions: [attr("id")],
          aggregateExpressions: [fn("max", attr("id"))],
        },
      },
    ],
    [
      "groupBy().count() is count(1) AS count",
      (df) => df.groupBy("id").count(),
      {
        common: common(1),
        aggregate: {
          input: range10,
          groupType: "GROUP_TYPE_GROUPBY",
          groupingExpressions: [attr("id")],
          aggregateExpressions: [{ alias: { expr: fn("count", int(1)), name: ["count"] } }],
        },
      },
    ],
    [
      "groupBy().sum/avg/mean/min/max",
      (df) => df.groupBy().avg("id"),
      {
        common: common(1),
        aggregate: { input: range10, groupType: "GROUP_TYPE_GROUPBY", aggregateExpressions: [fn("avg", attr("id"))] },
      },
    ],
    [
      "rollup",
      (df) => df.rollup("id").count(),
      {
        common: common(1),
        aggregate: {
          input: range10,
          groupType: "GROUP_TYPE_ROLLUP",
          groupingExpressions: [attr("id")],
          aggregateExpressions: [{ alias: { expr: fn("count", int(1)), name: ["count"] } }],
        },
      },
    ],
    [
      "groupBy().pivot(col, values).agg",
      (df) => df.groupBy("id").pivot("k", ["a", "b"]).agg(F.sum("v")),
      {
        common: common(1),
        aggregate: {
          input: range10,
          groupType: "GROUP_TYPE_PIVOT",
          groupingExpressions: [attr("id")],
          aggregateExpressions: [fn("sum", attr("v"))],
          pivot: { col: attr("k"), values: [{ string: "a" }, { string: "b" }] },
        },
      },
    ],
    [
      "df.agg is groupBy().agg",
      (df) => df.agg(F.min("id")),
      {
        common: common(1),
        aggregate: { input: range10, groupType: "GROUP_TYPE_GROUPBY", aggregateExpressions: [fn("min", attr("id"))] },
      },
    ],
    ["hint", (df) => df.hint("broadcast"), { common: common(1), hint: { input: range10, name: "broadcast" } }],
    [
      "fillna one value for a subset (integers as long)",
      (df) => df.fillna(0, ["a"]),
      { common: common(1), fillNa: { input: range10, cols: ["a"], values: [{ long: "0" }] } },
    ],
    [
      "fillna per column",
      (df) => df.fillna({ a: "x", b: 1.5 }),
      { common: common(1), fillNa: { input: range10, cols: ["a", "b"], values: [{ string: "x" }, { double: 1.5 }] } },
    ],
    ["describe", (df) => df.describe("id"), { common: common(1), describe: { input: range10, cols: ["id"] } }],
    [
      "summary",
      (df) => df.summary("count", "max"),
      { common: common(1), summary: { input: range10, statistics: ["count", "max"] } },
    ],
    ["dropna any", (df) => df.dropna(), { common: common(1), dropNa: { input: range10 } }],
    ["dropna all", (df) => df.dropna("all"), { common: common(1), dropNa: { input: range10, minNonNulls: 1 } }],
    [
      "dropna thresh subset",
      (df) => df.dropna("any", 2, ["a", "b"]),
      { common: common(1), dropNa: { input: range10, cols: ["a", "b"], minNonNulls: 2 } },
    ],
  ];
  it.each(cases)("%s", (_name, build, expected) => {
    expect(json(build(base()))).toEqual(expected);
  });

  it("sample without a seed picks one, as PySpark does", () => {
    const rel = relationOf(base().sample(0.1));
    expect(rel.relType.case).toBe("sample");
    expect(typeof (rel.relType.value as pb.Sample).seed).toBe("bigint");
  });

  it("transformations leave their input untouched", () => {
    const df = base();
    const before = json(df);
    df.select("id").filter("id > 1").limit(1);
    expect(json(df)).toEqual(before);
  });

  it("chains nest inputs and number plan ids in order", () => {
    const df = base().filter("id > 1").select("id").limit(2);
    expect(json(df)).toEqual({
      common: common(3),
      limit: {
        input: {
          common: common(2),
          project: {
            input: {
              common: common(1),
              filter: { input: range10, condition: { expressionString: { expression: "id > 1" } } },
            },
            expressions: [attr("id")],
          },
        },
        limit: 2,
      },
    });
  });
});

describe("joins and set operations", () => {
  function two(): [DataFrame, DataFrame] {
    const s = session();
    return [DataFrame.fromRange(s, 3), DataFrame.fromRange(s, 5)];
  }
  const left = { common: common(0), range: { start: "0", end: "3", step: "1" } };
  const right = { common: common(1), range: { start: "0", end: "5", step: "1" } };

  const howCases: Array<[string, string]> = [
    ["inner", "JOIN_TYPE_INNER"],
    ["cross", "JOIN_TYPE_CROSS"],
    ["outer", "JOIN_TYPE_FULL_OUTER"],
    ["full", "JOIN_TYPE_FULL_OUTER"],
    ["fullouter", "JOIN_TYPE_FULL_OUTER"],
    ["full_outer", "JOIN_TYPE_FULL_OUTER"],
    ["left", "JOIN_TYPE_LEFT_OUTER"],
    ["leftouter", "JOIN_TYPE_LEFT_OUTER"],
    ["left_outer", "JOIN_TYPE_LEFT_OUTER"],
    ["right", "JOIN_TYPE_RIGHT_OUTER"],
    ["rightouter", "JOIN_TYPE_RIGHT_OUTER"],
    ["right_outer", "JOIN_TYPE_RIGHT_OUTER"],
    ["semi", "JOIN_TYPE_LEFT_SEMI"],
    ["leftsemi", "JOIN_TYPE_LEFT_SEMI"],
    ["left_semi", "JOIN_TYPE_LEFT_SEMI"],
    ["anti", "JOIN_TYPE_LEFT_ANTI"],
    ["leftanti", "JOIN_TYPE_LEFT_ANTI"],
    ["left_anti", "JOIN_TYPE_LEFT_ANTI"],
  ];
  it.each(howCases)("join how=%s is %s (USING id)", (how, joinType) => {
    const [a, b] = two();
    expect(json(a.join(b, "id", how as never))).toEqual({
      common: common(2),
      join: { left, right, joinType, usingColumns: ["id"] },
    });
  });

  it("join on a Column condition with per-DataFrame references (self-join safe)", () => {
    const [a, b] = two();
    expect(json(a.join(b, a.col("id").eq(b.col("id")), "left"))).toEqual({
      common: common(2),
      join: { left, right, joinCondition: fn("==", attr("id", 0), attr("id", 1)), joinType: "JOIN_TYPE_LEFT_OUTER" },
    });
  });

  it("join on several Columns ANDs them", () => {
    const [a, b] = two();
    expect(json(a.join(b, [a.col("id").eq(b.col("id")), a.col("id").gt(0)]))).toEqual({
      common: common(2),
      join: {
        left,
        right,
        joinCondition: fn("and", fn("==", attr("id", 0), attr("id", 1)), fn(">", attr("id", 0), int(0))),
        joinType: "JOIN_TYPE_INNER",
      },
    });
  });

  it("join on several names", () => {
    const [a, b] = two();
    expect(json(a.join(b, ["id", "x"], "outer"))).toEqual({
      common: common(2),
      join: { left, right, joinType: "JOIN_TYPE_FULL_OUTER", usingColumns: ["id", "x"] },
    });
  });

  it("crossJoin", () => {
    const [a, b] = two();
    expect(json(a.crossJoin(b))).toEqual({ common: common(2), join: { left, right, joinType: "JOIN_TYPE_CROSS" } });
  });

  it("rejects an unknown join type", () => {
    const [a, b] = two();
    expect(() => a.join(b, "id", "sideways" as never)).toThrow(PlanError);
  });

  const setCases: Array<[string, (a: DataFrame, b: DataFrame) => DataFrame, unknown]> = [
    [
      "union keeps duplicates",
      (a, b) => a.union(b),
      { setOpType: "SET_OP_TYPE_UNION", isAll: true, byName: false, allowMissingColumns: false },
    ],
    [
      "unionAll",
      (a, b) => a.unionAll(b),
      { setOpType: "SET_OP_TYPE_UNION", isAll: true, byName: false, allowMissingColumns: false },
    ],
    [
      "unionByName",
      (a, b) => a.unionByName(b),
      { setOpType: "SET_OP_TYPE_UNION", isAll: true, byName: true, allowMissingColumns: false },
    ],
    [
      "unionByName allowMissingColumns",
      (a, b) => a.unionByName(b, true),
      { setOpType: "SET_OP_TYPE_UNION", isAll: true, byName: true, allowMissingColumns: true },
    ],
    [
      "intersect",
      (a, b) => a.intersect(b),
      { setOpType: "SET_OP_TYPE_INTERSECT", isAll: false, byName: false, allowMissingColumns: false },
    ],
    [
      "subtract",
      (a, b) => a.subtract(b),
      { setOpType: "SET_OP_TYPE_EXCEPT", isAll: false, byName: false, allowMissingColumns: false },
    ],
    [
      "exceptAll",
      (a, b) => a.exceptAll(b),
      { setOpType: "SET_OP_TYPE_EXCEPT", isAll: true, byName: false, allowMissingColumns: false },
    ],
  ];
  it.each(setCases)("%s", (_name, build, expected) => {
    const [a, b] = two();
    expect(json(build(a, b))).toEqual({
      common: common(2),
      setOp: { leftInput: left, rightInput: right, ...(expected as object) },
    });
  });
});

describe("randomSplit", () => {
  it("one deterministic-order sample per weight over the cumulative bounds, one seed", () => {
    const parts = base().randomSplit([1, 3], 5);
    expect(parts.map(json)).toEqual([
      {
        common: common(1),
        sample: { input: range10, upperBound: 0.25, withReplacement: false, seed: "5", deterministicOrder: true },
      },
      {
        common: common(2),
        sample: {
          input: range10,
          lowerBound: 0.25,
          upperBound: 1,
          withReplacement: false,
          seed: "5",
          deterministicOrder: true,
        },
      },
    ]);
  });
  it("rejects negative or all-zero weights", () => {
    expect(() => base().randomSplit([1, -1])).toThrow(PlanError);
    expect(() => base().randomSplit([0, 0])).toThrow(PlanError);
  });
});

describe("toString", () => {
  it("names the plan id and top operator", () => {
    expect(String(base().limit(1))).toBe("DataFrame<plan 1: limit>");
  });
});

describe("column references from a DataFrame carry its plan id", () => {
  it("df.col(name) and df.col('*')", () => {
    const df = base();
    expect(toJson(pb.ExpressionSchema, expressionOf(df.col("id")))).toEqual(attr("id", 0));
    expect(toJson(pb.ExpressionSchema, expressionOf(df.col("*")))).toEqual({ unresolvedStar: { planId: "0" } });
  });
});

describe("bad arguments are PlanErrors, raised while building", () => {
  const bad: Array<[string, (df: DataFrame) => unknown]> = [
    ["negative limit", (df) => df.limit(-1)],
    ["fractional limit", (df) => df.limit(1.5)],
    ["repartition(0)", (df) => df.repartition(0)],
    ["coalesce(0)", (df) => df.coalesce(0)],
    ["orderBy()", (df) => df.orderBy()],
    ["ascending list of the wrong length", (df) => df.orderBy("a", "b", { ascending: [true] })],
    ["negative sample fraction", (df) => df.sample(-0.1)],
    ["withColumns({})", (df) => df.withColumns({})],
    ["groupBy().sum() without columns", (df) => df.groupBy().sum()],
    ["agg()", (df) => df.groupBy().agg()],
    ["pivot twice", (df) => df.groupBy("a").pivot("b").pivot("c")],
    ["unknown explain mode", (df) => df.explainString("verbose" as never)],
  ];
  it.each(bad)("%s", async (_name, build) => {
    await expect(async () => build(base())).rejects.toThrow(PlanError);
  });
});
