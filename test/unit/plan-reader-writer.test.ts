import { toJson } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import * as pb from "#connect-proto";
import type { DataFrame } from "../../src/connect/data-frame.ts";
import type { DataFrameWriter } from "../../src/connect/data-frame-writer.ts";
import { LongType, StringType, StructField, StructType } from "../../src/connect/data-types.ts";
import { PlanError } from "../../src/connect/errors.ts";
import { relationOf, saveCommandOf, tableCommandOf } from "../../src/connect/internal.ts";
import { SparkSession } from "../../src/connect/spark-session.ts";

function session(): SparkSession {
  return SparkSession.builder.remote("sc://localhost:15002").create();
}
const rel = (df: DataFrame) => toJson(pb.RelationSchema, relationOf(df));
const dataSource = (ds: Record<string, unknown>) => ({ common: { planId: "0" }, read: { dataSource: ds } });

describe("DataFrameReader builds Read.DataSource relations", () => {
  const cases: Array<[string, (s: SparkSession) => DataFrame, unknown]> = [
    [
      "format/option/load",
      (s) => s.read.format("csv").option("header", true).option("sep", ";").load("/data/x.csv"),
      dataSource({ format: "csv", options: { header: "true", sep: ";" }, paths: ["/data/x.csv"] }),
    ],
    [
      "options and several paths",
      (s) => s.read.format("json").options({ multiLine: false, samplingRatio: 0.5 }).load(["/a", "/b"]),
      dataSource({ format: "json", options: { multiLine: "false", samplingRatio: "0.5" }, paths: ["/a", "/b"] }),
    ],
    [
      "DDL schema",
      (s) => s.read.format("csv").schema("a INT, b STRING").load("/x"),
      dataSource({ format: "csv", schema: "a INT, b STRING", paths: ["/x"] }),
    ],
    [
      "StructType schema is sent as Spark's JSON",
      (s) =>
        s.read
          .format("json")
          .schema(
            new StructType([
              new StructField("id", new LongType(), false),
              new StructField("s", new StringType(), true),
            ]),
          )
          .load("/x"),
      dataSource({
        format: "json",
        schema:
          '{"type":"struct","fields":[{"name":"id","type":"long","nullable":false,"metadata":{}},{"name":"s","type":"string","nullable":true,"metadata":{}}]}',
        paths: ["/x"],
      }),
    ],
    [
      "load() without a path",
      (s) => s.read.format("parquet").option("path", "/p").load(),
      dataSource({ format: "parquet", options: { path: "/p" } }),
    ],
    [
      "csv shortcut",
      (s) => s.read.csv("/c", { header: true }),
      dataSource({ format: "csv", options: { header: "true" }, paths: ["/c"] }),
    ],
    ["json shortcut", (s) => s.read.json("/j"), dataSource({ format: "json", paths: ["/j"] })],
    [
      "parquet shortcut",
      (s) => s.read.parquet(["/p1", "/p2"]),
      dataSource({ format: "parquet", paths: ["/p1", "/p2"] }),
    ],
    ["text shortcut", (s) => s.read.text("/t"), dataSource({ format: "text", paths: ["/t"] })],
    [
      "binaryFile with recursiveFileLookup and pathGlobFilter",
      (s) =>
        s.read
          .format("binaryFile")
          .option("recursiveFileLookup", true)
          .option("pathGlobFilter", "*.png")
          .load("s3a://b/imgs"),
      dataSource({
        format: "binaryFile",
        options: { recursiveFileLookup: "true", pathGlobFilter: "*.png" },
        paths: ["s3a://b/imgs"],
      }),
    ],
    [
      "binaryFile shortcut",
      (s) => s.read.binaryFile("/imgs", { recursiveFileLookup: true }),
      dataSource({ format: "binaryFile", options: { recursiveFileLookup: "true" }, paths: ["/imgs"] }),
    ],
    [
      "read.table",
      (s) => s.read.table("db.t"),
      { common: { planId: "0" }, read: { namedTable: { unparsedIdentifier: "db.t" } } },
    ],
  ];
  it.each(cases)("%s", (_name, build, expected) => {
    expect(rel(build(session()))).toEqual(expected);
  });

  it("the reader is immutable", () => {
    const s = session();
    const r = s.read.format("csv");
    r.option("header", true);
    expect(rel(r.load("/x"))).toEqual(dataSource({ format: "csv", paths: ["/x"] }));
  });
});

describe("DataFrameWriter builds WriteOperation commands", () => {
  const input = { common: { planId: "0" }, range: { start: "0", end: "3", step: "1" } };
  const cmd = (w: DataFrameWriter, path?: string) => toJson(pb.CommandSchema, saveCommandOf(w, path));
  const cases: Array<[string, (df: DataFrame) => unknown, unknown]> = [
    [
      "format/mode overwrite/option/partitionBy/save",
      (df) => cmd(df.write.format("parquet").mode("overwrite").option("compression", "zstd").partitionBy("id"), "/out"),
      {
        writeOperation: {
          input,
          source: "parquet",
          path: "/out",
          mode: "SAVE_MODE_OVERWRITE",
          partitioningColumns: ["id"],
          options: { compression: "zstd" },
        },
      },
    ],
    [
      "mode error",
      (df) => cmd(df.write.mode("error"), "/o"),
      { writeOperation: { input, path: "/o", mode: "SAVE_MODE_ERROR_IF_EXISTS" } },
    ],
    [
      "mode errorifexists",
      (df) => cmd(df.write.mode("errorifexists"), "/o"),
      { writeOperation: { input, path: "/o", mode: "SAVE_MODE_ERROR_IF_EXISTS" } },
    ],
    [
      "mode append",
      (df) => cmd(df.write.mode("append"), "/o"),
      { writeOperation: { input, path: "/o", mode: "SAVE_MODE_APPEND" } },
    ],
    [
      "mode ignore",
      (df) => cmd(df.write.mode("ignore"), "/o"),
      { writeOperation: { input, path: "/o", mode: "SAVE_MODE_IGNORE" } },
    ],
    [
      "no mode leaves the server default",
      (df) => cmd(df.write.format("json"), "/o"),
      { writeOperation: { input, source: "json", path: "/o" } },
    ],
    [
      "options map",
      (df) => cmd(df.write.options({ header: true, sep: "," }).format("csv"), "/o"),
      { writeOperation: { input, source: "csv", path: "/o", options: { header: "true", sep: "," } } },
    ],
    [
      "saveAsTable",
      (df) => toJson(pb.CommandSchema, tableCommandOf(df.write.mode("overwrite"), "t", "saveAsTable")),
      {
        writeOperation: {
          input,
          table: { tableName: "t", saveMethod: "TABLE_SAVE_METHOD_SAVE_AS_TABLE" },
          mode: "SAVE_MODE_OVERWRITE",
        },
      },
    ],
  ];
  it.each(cases)("%s", (_name, build, expected) => {
    expect(build(session().range(3))).toEqual(expected);
  });

  it("rejects an unknown save mode", () => {
    expect(() =>
      session()
        .range(1)
        .write.mode("replace" as never),
    ).toThrow(PlanError);
  });
});
