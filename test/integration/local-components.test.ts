import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { listObjects, s3Client, uploadFolder } from "../../src/cli/local/s3-objects.ts";
import { withPySpark } from "./helpers/pyspark-client.ts";

describe("local S3 server + Spark s3a://", () => {
  const s3 = inject("s3");
  const remote = inject("sparkRemote");
  let dir: string;
  const files = new Map<string, Buffer>();
  const prefix = `local-components/${randomBytes(4).toString("hex")}`;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "orchard-upload-"));
    for (const [name, size] of [
      ["a/one.bin", 17],
      ["a/two.bin", 4096],
      ["b/three.bin", 100_003],
    ] as const) {
      const bytes = randomBytes(size);
      mkdirSync(join(dir, name, ".."), { recursive: true });
      writeFileSync(join(dir, name), bytes);
      files.set(`${prefix}/${name}`, bytes);
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("accepts a folder upload and lists exactly the uploaded objects", async () => {
    const client = s3Client(s3);
    const keys = await uploadFolder(client, { bucket: s3.bucket, prefix, dir });
    expect(keys).toEqual([...files.keys()].sort());
    const listed = await listObjects(client, s3.bucket, `${prefix}/`);
    expect(listed.map((o) => [o.key, o.size])).toEqual([...files].map(([k, b]) => [k, b.length]).sort());
  });

  it("serves the uploaded bytes to Spark through s3a://", async () => {
    const rows = await withPySpark<{ path: string; length: number; sha: string }[]>(
      remote,
      `df = spark.read.format("binaryFile").option("recursiveFileLookup", "true").load("s3a://${s3.bucket}/${prefix}/")
rows = df.selectExpr("path", "length", "sha2(content, 256) AS sha").orderBy("path").collect()
print(json.dumps([r.asDict() for r in rows]))`,
    );
    const expected = [...files]
      .map(([key, bytes]) => ({
        path: `s3a://${s3.bucket}/${key}`,
        length: bytes.length,
        sha: createHash("sha256").update(bytes).digest("hex"),
      }))
      .sort((a, b) => a.path.localeCompare(b.path));
    expect(rows).toEqual(expected);
  });
});
