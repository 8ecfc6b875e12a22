import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { ConfigError, OrchardError } from "../../src/errors.ts";
import { imageInput } from "../../src/pipeline/image-input.ts";
import {
  checkInput,
  checkOutputAbsent,
  checkOutputPublishable,
  describeFailure,
} from "../../src/pipeline/preflight.ts";

const errno = (code: string) => Object.assign(new Error(`${code}: raw node text`), { code });
const named = (name: string) => Object.assign(new Error("raw sdk text"), { name });

describe("describeFailure: a failure in the user's words", () => {
  const cases: [string, unknown, string][] = [
    ["ENOENT", errno("ENOENT"), "no such file or folder"],
    ["EACCES", errno("EACCES"), "permission denied"],
    ["ENOTDIR", errno("ENOTDIR"), "not a folder"],
    ["S3 NoSuchBucket", named("NoSuchBucket"), "no such bucket"],
    ["S3 AccessDenied", named("AccessDenied"), "access denied"],
    [
      "an orchard error by its cause",
      new OrchardError("input", { message: "x", cause: errno("EACCES") }),
      "permission denied",
    ],
    ["anything else by its message", new Error("boom"), "boom"],
    ["not an Error", 42, "42"],
  ];
  for (const [name, cause, want] of cases) it(name, () => expect(describeFailure(cause)).toBe(want));
});

describe("preflight on local folders", () => {
  const root = mkdtempSync(join(tmpdir(), "orchard-preflight-"));
  const uri = (p: string) => pathToFileURL(join(root, p)).href;
  mkdirSync(join(root, "images/apple"), { recursive: true });
  writeFileSync(join(root, "images/apple/a.jpg"), "x");
  mkdirSync(join(root, "no-images"));
  writeFileSync(join(root, "no-images/readme.txt"), "x");
  mkdirSync(join(root, "empty-out"));
  mkdirSync(join(root, "old-out"));
  writeFileSync(join(root, "old-out/run.json"), "{}");

  it("a missing input names --input in plain words", async () => {
    const err = await checkInput(imageInput({ uri: uri("nope"), extensions: ["jpg"] })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).field).toBe("--input");
    expect((err as Error).message).toMatch(/cannot read the input .*nope: no such file or folder/);
    expect((err as Error).message).not.toMatch(/ENOENT|scandir/);
  });

  it("a folder without image files is refused", async () => {
    const err = await checkInput(imageInput({ uri: uri("no-images"), extensions: ["jpg", "png"] })).catch(
      (e: unknown) => e,
    );
    expect((err as ConfigError).field).toBe("--input");
    expect((err as Error).message).toMatch(/no image files under .*no-images \(extensions: jpg, png\)/);
  });

  it("a folder of images passes, with its listing", async () => {
    expect((await checkInput(imageInput({ uri: uri("images"), extensions: ["jpg"] })))?.files).toBe(1);
  });

  it("an existing output with files is refused, naming --overwrite; a missing or empty one passes", async () => {
    const err = await checkOutputAbsent(uri("old-out")).catch((e: unknown) => e);
    expect((err as ConfigError).field).toBe("--output");
    expect((err as Error).message).toMatch(/already exists; pass --overwrite/);
    await expect(checkOutputAbsent(uri("empty-out"))).resolves.toBeUndefined();
    await expect(checkOutputAbsent(uri("not-there"))).resolves.toBeUndefined();
  });

  it("an output orchard cannot publish into (not S3, not local) is refused, naming --output", () => {
    for (const ok of ["s3a://b/out", "s3://b/out", "file:///tmp/out", "/tmp/out", "out"]) {
      expect(() => checkOutputPublishable(ok)).not.toThrow();
    }
    for (const bad of ["hdfs://nn/out", "gs://b/out", "abfss://c@a.dfs.core.windows.net/out"]) {
      let err: unknown;
      try {
        checkOutputPublishable(bad);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).field).toBe("--output");
      expect((err as Error).message).toMatch(/cannot on (hdfs|gs|abfss):\/\//);
    }
  });
});
