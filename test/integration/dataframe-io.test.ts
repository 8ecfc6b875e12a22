import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { col, functions as F, type Row, SparkServerError, SparkSession } from "../../src/index.ts";

let spark: SparkSession;
let dir: string;

beforeAll(() => {
  spark = SparkSession.builder.remote(inject("sparkRemote")).create();
  dir = mkdtempSync(join(tmpdir(), "orchard-df-io-"));
});

afterAll(async () => {
  await spark.stop();
  rmSync(dir, { recursive: true, force: true });
});

const byId = (rows: Row[]) => rows.map((r) => r.toObject()).sort((a, b) => Number(a.id) - Number(b.id));

describe("Parquet write and read back", () => {
  it("mode overwrite replaces, mode error refuses an existing path, append adds, ignore keeps", async () => {
    const out = join(dir, "pq");
    const df = spark
      .range(5)
      .withColumn("sq", col("id").multiply(col("id")))
      .withColumn("tag", F.concat(F.lit("t"), col("id").cast("string")));
    await df.write.mode("overwrite").parquet(out);
    const back = spark.read.parquet(out);
    expect(await back.count()).toBe(5);
    expect(byId(await back.collect())[4]).toEqual({ id: 4n, sq: 16n, tag: "t4" });

    await spark.range(2).write.mode("overwrite").parquet(out);
    expect(await spark.read.parquet(out).count()).toBe(2);

    await expect(spark.range(1).write.mode("error").parquet(out)).rejects.toBeInstanceOf(SparkServerError);
    await expect(spark.range(1).write.format("parquet").save(out)).rejects.toBeInstanceOf(SparkServerError);
    expect(await spark.read.parquet(out).count()).toBe(2);

    await spark.range(3).write.mode("append").parquet(out);
    expect(await spark.read.parquet(out).count()).toBe(5);

    await spark.range(100).write.mode("ignore").parquet(out);
    expect(await spark.read.parquet(out).count()).toBe(5);
  });

  it("partitionBy writes col=value folders that read back as a column", async () => {
    const out = join(dir, "parts");
    await spark
      .range(6)
      .withColumn("g", col("id").mod(2))
      .write.format("parquet")
      .mode("overwrite")
      .partitionBy("g")
      .option("compression", "snappy")
      .save(out);
    expect(
      readdirSync(out)
        .filter((n) => n.startsWith("g="))
        .sort(),
    ).toEqual(["g=0", "g=1"]);
    const back = spark.read.format("parquet").load(out);
    expect(await back.where(col("g").eq(1)).count()).toBe(3);
  });
});

describe("CSV and JSON", () => {
  it("csv with header and a DDL schema", async () => {
    const out = join(dir, "csv");
    await spark
      .sql("SELECT * FROM VALUES (1, 'a'), (2, 'b') AS t(id, s)")
      .write.mode("overwrite")
      .csv(out, { options: { header: true } });
    const asText = spark.read.csv(out, { header: true });
    expect((await asText.schema()).fields.map((f) => f.dataType.simpleString())).toEqual(["string", "string"]);
    const typed = spark.read.format("csv").option("header", true).schema("id INT, s STRING").load(out);
    expect(byId(await typed.collect())).toEqual([
      { id: 1, s: "a" },
      { id: 2, s: "b" },
    ]);
  });

  it("json round trip", async () => {
    const out = join(dir, "json");
    await spark.sql("SELECT 1 AS id, array(1, 2) AS xs").write.mode("overwrite").json(out);
    const back = await spark.read.json(out).first();
    expect(back?.toObject()).toEqual({ id: 1n, xs: [1n, 2n] });
  });
});

describe("binaryFile", () => {
  it("reads whole files with recursiveFileLookup and pathGlobFilter", async () => {
    const root = join(dir, "bin");
    mkdirSync(join(root, "apple"), { recursive: true });
    mkdirSync(join(root, "pear"), { recursive: true });
    writeFileSync(join(root, "apple", "a1.png"), Buffer.from([1, 2, 3]));
    writeFileSync(join(root, "pear", "p1.png"), Buffer.from([4, 5]));
    writeFileSync(join(root, "pear", "notes.txt"), "skip me");
    const df = spark.read
      .format("binaryFile")
      .option("recursiveFileLookup", true)
      .option("pathGlobFilter", "*.png")
      .load(root);
    expect(await df.columns()).toEqual(["path", "modificationTime", "length", "content"]);
    const rows = (await df.select("path", "length", "content").collect())
      .map((r) => ({
        name: String(r.get("path")).split("/").at(-1),
        length: Number(r.get("length")),
        content: Array.from(r.get("content") as Uint8Array),
      }))
      .sort((a, b) => String(a.name).localeCompare(String(b.name)));
    expect(rows).toEqual([
      { name: "a1.png", length: 3, content: [1, 2, 3] },
      { name: "p1.png", length: 2, content: [4, 5] },
    ]);
    const viaShortcut = spark.read.binaryFile(root, { recursiveFileLookup: true, pathGlobFilter: "*.txt" });
    expect(await viaShortcut.count()).toBe(1);
  });

  it("a missing path fails at the action as a server error", async () => {
    await expect(spark.read.parquet(join(dir, "does-not-exist")).collect()).rejects.toBeInstanceOf(SparkServerError);
  });
});
