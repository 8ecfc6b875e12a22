import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { col, type DataFrame, functions as F, SparkSession, Window } from "../../src/index.ts";

let spark: SparkSession;
let events: DataFrame;

beforeAll(() => {
  spark = SparkSession.builder.remote(inject("sparkRemote")).create();
  events = spark.sql(
    "SELECT * FROM VALUES ('a', 1, 10), ('a', 2, 20), ('a', 3, 30), ('b', 1, 5), ('b', 2, 5) AS t(k, t, v)",
  );
});

afterAll(async () => {
  await spark.stop();
});

describe("window functions over WindowSpecs", () => {
  it("row_number, rank, dense_rank, lag, lead and a running sum", async () => {
    const byK = Window.partitionBy("k").orderBy("t");
    const rows = await events
      .select(
        "k",
        "t",
        F.row_number().over(byK).alias("rn"),
        F.rank()
          .over(Window.partitionBy("k").orderBy(col("v").desc()))
          .alias("rk"),
        F.dense_rank().over(Window.partitionBy("k").orderBy("v")).alias("dr"),
        F.lag("v", 1, 0).over(byK).alias("prev"),
        F.lead("v").over(byK).alias("next"),
        F.sum("v").over(byK.rowsBetween(Window.unboundedPreceding, Window.currentRow)).alias("run"),
        F.max("v").over(Window.partitionBy("k")).alias("kmax"),
        F.avg("v").over(byK.rowsBetween(-1, 1)).alias("smooth"),
        F.count("*").over(Window.partitionBy("k").orderBy("t").rangeBetween(-1, 0)).alias("inrange"),
      )
      .orderBy("k", "t")
      .collect();
    expect(
      rows.map((r) => [r.get("k"), r.get("t"), r.get("rn"), r.get("rk"), r.get("dr"), r.get("prev"), r.get("next")]),
    ).toEqual([
      ["a", 1, 1, 3, 1, 0, 20],
      ["a", 2, 2, 2, 2, 10, 30],
      ["a", 3, 3, 1, 3, 20, null],
      ["b", 1, 1, 1, 1, 0, 5],
      ["b", 2, 2, 1, 1, 5, null],
    ]);
    expect(rows.map((r) => Number(r.get("run")))).toEqual([10, 30, 60, 5, 10]);
    expect(rows.map((r) => r.get("kmax"))).toEqual([30, 30, 30, 5, 5]);
    expect(rows.map((r) => r.get("smooth"))).toEqual([15, 20, 25, 5, 5]);
    expect(rows.map((r) => Number(r.get("inrange")))).toEqual([1, 2, 2, 1, 2]);
  });
});
