import { describe, expect, it } from "vitest";
import { z } from "zod";
import { s3DownloadOptions, s3UploadOptions, s3UriOption } from "../../src/cli/commands/s3-options.ts";
import { sparkStartOptions } from "../../src/cli/commands/spark-options.ts";
import { fieldName, parseConfig, zodToConfigError } from "../../src/cli/config-parse.ts";
import { masterOption, portOption, sparkConfOption } from "../../src/cli/option-schemas.ts";
import { ConfigError } from "../../src/errors.ts";

describe("parseConfig / zodToConfigError", () => {
  it("names the flag in kebab-case and gives the expected form", () => {
    const schema = z.object({ maxBatch: z.coerce.number({ error: "an integer >= 1" }).int().min(1) });
    let caught: unknown;
    try {
      parseConfig(schema, { maxBatch: "lots" });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).field).toBe("--max-batch");
    expect((caught as ConfigError).message).toBe("invalid --max-batch: expected an integer >= 1");
  });

  it("uses the dotted path in path style and indexes array items", () => {
    expect(fieldName(["s3", "endpoint"], "path")).toBe("s3.endpoint");
    expect(fieldName(["conf", 1])).toBe("--conf[1]");
    expect(fieldName([])).toBe("options");
    const result = z.object({ a: z.object({ b: z.string({ error: "text" }) }) }).safeParse({ a: { b: 3 } });
    expect(result.success).toBe(false);
    if (!result.success) expect(zodToConfigError(result.error, "path").message).toBe("invalid a.b: expected text");
  });

  it("returns the parsed, defaulted values on success", () => {
    expect(parseConfig(sparkStartOptions, {})).toEqual({
      port: 15002,
      host: "127.0.0.1",
      master: "local[2]",
      conf: {},
      timeout: 180,
      token: true,
      warmUp: true,
    });
    expect(parseConfig(sparkStartOptions, { warmUp: false }).warmUp).toBe(false);
  });
});

describe("CLI option schemas", () => {
  it.each([["0"], ["65536"], ["12.5"], ["abc"], [""]])("rejects port %j", (raw) => {
    expect(portOption.safeParse(raw).success).toBe(false);
  });

  it("accepts ports as strings from the command line", () => {
    expect(portOption.parse("15003")).toBe(15003);
  });

  it.each([["local"], ["local[2]"], ["local[*]"], ["local[4,2]"], ["spark://10.0.0.1:7077"], ["yarn"]])(
    "accepts master %s",
    (m) => {
      expect(masterOption.parse(m)).toBe(m);
    },
  );

  it.each([["local[]"], ["lokal[2]"], ["local[two]"], [""]])("rejects master %j", (m) => {
    expect(masterOption.safeParse(m).success).toBe(false);
  });

  it("turns repeated --conf key=value into a record, keeping '=' inside values, later flags winning", () => {
    expect(
      sparkConfOption.parse([
        "spark.sql.shuffle.partitions=8",
        "spark.executor.extraJavaOptions=-Da=b -Dc=d",
        "spark.sql.shuffle.partitions=4",
      ]),
    ).toEqual({ "spark.sql.shuffle.partitions": "4", "spark.executor.extraJavaOptions": "-Da=b -Dc=d" });
  });

  it("rejects --conf without '=' or with a non-Spark key, naming the form", () => {
    expect(() => parseConfig(sparkStartOptions, { conf: ["spark.sql.shuffle.partitions"] })).toThrow(
      "invalid --conf[0]: expected key=value with a Spark setting as key",
    );
    expect(() => parseConfig(sparkStartOptions, { conf: ["ok.key=1"] })).toThrow(/--conf\[0\]/);
  });

  it("validates the S3 endpoint of spark start", () => {
    expect(() => parseConfig(sparkStartOptions, { s3Endpoint: "127.0.0.1:9000" })).toThrow(
      "invalid --s3-endpoint: expected an http:// or https:// URL",
    );
    expect(parseConfig(sparkStartOptions, { s3Endpoint: "http://127.0.0.1:9000" }).s3Endpoint).toBe(
      "http://127.0.0.1:9000",
    );
  });

  it("splits S3 URIs into bucket and prefix", () => {
    expect(s3UriOption.parse("s3://orchard/fruits/Training")).toEqual({ bucket: "orchard", prefix: "fruits/Training" });
    expect(s3UriOption.parse("s3a://orchard")).toEqual({ bucket: "orchard", prefix: "" });
    expect(() => parseConfig(s3UploadOptions, { dir: ".", to: "http://orchard/x" })).toThrow(
      "invalid --to: expected an S3 URI such as s3://bucket/prefix",
    );
    expect(() => parseConfig(s3UploadOptions, { dir: "/nonexistent-orchard-dir", to: "s3://orchard/x" })).toThrow(
      "invalid --dir: expected an existing folder",
    );
  });

  it("takes one object for s3 download, not a bucket or a folder", () => {
    expect(parseConfig(s3DownloadOptions, { from: "s3://orchard/out/report.html" })).toEqual({
      from: { bucket: "orchard", prefix: "out/report.html" },
      endpoint: "http://127.0.0.1:9000",
    });
    for (const from of ["s3://orchard", "s3://orchard/out/"]) {
      expect(() => parseConfig(s3DownloadOptions, { from })).toThrow(
        "invalid --from: expected an S3 object URI such as s3://orchard/out/report.html",
      );
    }
  });
});
