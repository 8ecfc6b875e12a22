import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { col, type DataFrame, type JoinHow, type Row, SparkSession } from "../../src/index.ts";

let spark: SparkSession;
let left: DataFrame;
let right: DataFrame;

beforeAll(() => {
  spark = SparkSession.builder.remote(inject("sparkRemote")).create();
  left = spark.sql("SELECT * FROM VALUES (1, 'l1'), (2, 'l2'), (3, 'l3') AS t(id, l)");
  right = spark.sql("SELECT * FROM VALUES (2, 'r2'), (3, 'r3'), (4, 'r4') AS t(id, r)");
});

afterAll(async () => {
  await spark.stop();
});

const sorted = (objs: Array<Record<string, unknown>>) =>
  [...objs].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
const rowsOf = (rows: Row[]) => sorted(rows.map((r) => r.toObject()));

describe("join types (USING id)", () => {
  const cases: Array<[JoinHow[], Array<Record<string, unknown>>]> = [
    [
      ["inner"],
      [
        { id: 2, l: "l2", r: "r2" },
        { id: 3, l: "l3", r: "r3" },
      ],
    ],
    [
      ["outer", "full", "fullouter", "full_outer"],
      [
        { id: 1, l: "l1", r: null },
        { id: 2, l: "l2", r: "r2" },
        { id: 3, l: "l3", r: "r3" },
        { id: 4, l: null, r: "r4" },
      ],
    ],
    [
      ["left", "leftouter", "left_outer"],
      [
        { id: 1, l: "l1", r: null },
        { id: 2, l: "l2", r: "r2" },
        { id: 3, l: "l3", r: "r3" },
      ],
    ],
    [
      ["right", "rightouter", "right_outer"],
      [
        { id: 2, l: "l2", r: "r2" },
        { id: 3, l: "l3", r: "r3" },
        { id: 4, l: null, r: "r4" },
      ],
    ],
    [
      ["semi", "leftsemi", "left_semi"],
      [
        { id: 2, l: "l2" },
        { id: 3, l: "l3" },
      ],
    ],
    [["anti", "leftanti", "left_anti"], [{ id: 1, l: "l1" }]],
  ];
  for (const [hows, expected] of cases) {
    it(`${hows.join("/")}`, async () => {
      for (const how of hows) {
        expect(rowsOf(await left.join(right, "id", how).collect()), how).toEqual(sorted(expected));
      }
    });
  }

  it("cross join and crossJoin give the cartesian product", async () => {
    expect(await left.join(right, undefined, "cross").count()).toBe(9);
    expect(await left.crossJoin(right).count()).toBe(9);
  });
});

describe("join conditions", () => {
  it("on a Column condition keeps both key columns, told apart by DataFrame", async () => {
    const j = left
      .join(right, left.col("id").eq(right.col("id")), "inner")
      .select(left.col("id"), right.col("id").alias("rid"), "l", "r");
    expect(rowsOf(await j.collect())).toEqual(
      sorted([
        { id: 2, rid: 2, l: "l2", r: "r2" },
        { id: 3, rid: 3, l: "l3", r: "r3" },
      ]),
    );
  });

  it("on several Columns (AND)", async () => {
    const j = left.join(right, [left.col("id").eq(right.col("id")), right.col("r").ne("r3")]);
    expect((await j.collect()).map((r) => r.get("l"))).toEqual(["l2"]);
  });

  it("self-join resolves same-named columns through plan ids", async () => {
    const edges = spark.sql("SELECT * FROM VALUES (1, 2), (2, 3), (3, 4) AS t(src, dst)");
    // Both sides come from `edges` and have the same column names; only the plan ids carried by
    // first.col(...) / second.col(...) tell Spark which side each reference means.
    const first = edges.where("src > 0");
    const second = edges.where("dst > 0");
    const hops = first
      .join(second, first.col("dst").eq(second.col("src")))
      .select(first.col("src").alias("from"), second.col("dst").alias("to"));
    expect(rowsOf(await hops.collect())).toEqual(
      sorted([
        { from: 1, to: 3 },
        { from: 2, to: 4 },
      ]),
    );
  });

  it("a plain name shared by both sides is ambiguous (what plan ids avoid)", async () => {
    const edges = spark.sql("SELECT * FROM VALUES (1, 2) AS t(src, dst)");
    const first = edges.where("src > 0");
    const second = edges.where("dst > 0");
    await expect(first.join(second, col("dst").eq(col("src"))).collect()).rejects.toThrow(/AMBIGUOUS/);
  });

  it("self-join of the very same DataFrame with aliases", async () => {
    const e = spark.sql("SELECT * FROM VALUES (1, 2), (2, 3) AS t(src, dst)");
    const a = e.alias("a");
    const b = e.alias("b");
    const j = a.join(b, col("a.dst").eq(col("b.src"))).select(col("a.src"), col("b.dst"));
    expect((await j.collect()).map((r) => r.values.map(Number))).toEqual([[1, 3]]);
  });
});
