import { describe, expect, it } from "vitest";
import { s3aConf } from "../../src/cli/local/spark-launch.ts";
import { DEFAULT_S3_REGION, s3Client, s3CompatibleAccess, s3Location } from "../../src/s3.ts";

// The AWS SDK warns on every process that Node 20 support ends in 2027; tests need not repeat it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

describe("s3Location: the one S3 URI rule", () => {
  it.each([
    ["s3a://bucket/some/prefix", { bucket: "bucket", prefix: "some/prefix" }],
    ["s3://bucket/some/prefix/", { bucket: "bucket", prefix: "some/prefix" }],
    ["s3a://bucket", { bucket: "bucket", prefix: "" }],
    ["s3://bucket/", { bucket: "bucket", prefix: "" }],
  ])("%s", (uri, want) => expect(s3Location(uri)).toEqual(want));

  it.each(["file:///data", "/data", "hdfs://nn/data", "gs://bucket/x"])("%s is not S3", (uri) => {
    expect(s3Location(uri)).toBeUndefined();
  });
});

describe("S3 access and client", () => {
  const keys = { accessKeyId: "AKEY", secretAccessKey: "SECRET123" };

  it("an S3-compatible server is reached path-style, in the default region", () => {
    expect(s3CompatibleAccess("http://127.0.0.1:9000", keys)).toEqual({
      endpoint: "http://127.0.0.1:9000",
      region: DEFAULT_S3_REGION,
      pathStyle: true,
      ...keys,
    });
  });

  it("the client takes the endpoint, addressing and keys", async () => {
    const client = await s3Client(s3CompatibleAccess("http://127.0.0.1:9000", keys));
    try {
      expect(client.config.forcePathStyle).toBe(true);
      expect(await client.config.region()).toBe(DEFAULT_S3_REGION);
      expect(await client.config.credentials()).toMatchObject(keys);
    } finally {
      client.destroy();
    }
  });

  it("Spark's S3A settings leave endpoint and keys to S3A's defaults when the access has none", () => {
    const conf = s3aConf({ region: "eu-west-1", pathStyle: false });
    expect(conf).toEqual({
      "spark.hadoop.fs.s3a.endpoint.region": "eu-west-1",
      "spark.hadoop.fs.s3a.path.style.access": "false",
    });
  });
});
