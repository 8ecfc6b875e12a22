import { toJson } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import * as pb from "#connect-proto";
import { relationOf } from "../../src/connect/internal.ts";
import { Column, col, DataFrame, functions as F, lit, SparkSession, StructType } from "../../src/index.ts";

describe("package entry", () => {
  it("exposes the PySpark-like names a user starts with", () => {
    const spark = SparkSession.builder.remote("sc://localhost:15002").create();
    const df = spark
      .range(3)
      .where(col("id").gt(lit(1)))
      .agg(F.countDistinct("id"));
    expect(df).toBeInstanceOf(DataFrame);
    expect(F.col("x")).toBeInstanceOf(Column);
    expect(typeof StructType).toBe("function");
    expect(toJson(pb.RelationSchema, relationOf(df))).toMatchObject({
      aggregate: { aggregateExpressions: [{ unresolvedFunction: { functionName: "count", isDistinct: true } }] },
    });
  });
});
