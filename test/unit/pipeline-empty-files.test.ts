import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { findEmptyFiles } from "../../src/pipeline/empty-files.ts";

describe("findEmptyFiles (local folders)", () => {
  it("finds zero-byte images recursively, in Spark's path spelling, skipping hidden and _ folders", async () => {
    const root = mkdtempSync(join(tmpdir(), "orchard-empty-"));
    const files: Record<string, string> = {
      "a/one.jpg": "",
      "a/two.JPG": "",
      "a/full.jpg": "x",
      "a/notes.txt": "",
      "b/c/deep.png": "",
      "_tmp/skipped.jpg": "",
      ".hidden/skipped.jpg": "",
      "a/.dot.jpg": "",
    };
    for (const [rel, body] of Object.entries(files)) {
      mkdirSync(join(root, rel, ".."), { recursive: true });
      writeFileSync(join(root, rel), body);
    }
    const found = await findEmptyFiles(pathToFileURL(root).href, ["jpg", "png"]);
    expect(found).toEqual([`file:${root}/a/one.jpg`, `file:${root}/a/two.JPG`, `file:${root}/b/c/deep.png`]);
  });

  it("says nothing for schemes it cannot list", async () => {
    expect(await findEmptyFiles("hdfs://nn/images", ["jpg"])).toEqual([]);
  });
});
