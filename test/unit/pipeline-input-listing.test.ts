import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { imageInput } from "../../src/pipeline/image-input.ts";
import { isHiddenName } from "../../src/pipeline/input-listing.ts";

describe("ImageInput.list (local folders)", () => {
  it("counts images recursively with Spark's rules and names the empty ones in Spark's spelling", async () => {
    const root = mkdtempSync(join(tmpdir(), "orchard-listing-"));
    const files: Record<string, string> = {
      "a/one.jpg": "",
      "a/two.JPG": "",
      "a/full.jpg": "x",
      "a/mixed.Jpg": "x",
      "a/notes.txt": "",
      "b/c/deep.png": "",
      "b/c/deep-full.png": "xy",
      "_tmp/skipped.jpg": "x",
      ".hidden/skipped.jpg": "",
      "a/.dot.jpg": "",
      "a/_under.jpg": "x",
      "a/copy.jpg._COPYING_": "x",
      "year=2024/kept.jpg": "x",
    };
    for (const [rel, body] of Object.entries(files)) {
      mkdirSync(join(root, rel, ".."), { recursive: true });
      writeFileSync(join(root, rel), body);
    }
    symlinkSync(join(root, "a/full.jpg"), join(root, "a/link.jpg"));
    symlinkSync(join(root, "missing.jpg"), join(root, "a/dangling.jpg"));
    const listing = await imageInput({ uri: pathToFileURL(root).href, extensions: ["jpg", "png"] }).list();
    expect(listing).toEqual({
      files: 5, // full, mixed, link, deep-full, year=2024/kept
      emptyFiles: [`file:${root}/a/one.jpg`, `file:${root}/a/two.JPG`, `file:${root}/b/c/deep.png`],
    });
  });

  it("says nothing for schemes it cannot list", async () => {
    expect(await imageInput({ uri: "hdfs://nn/images", extensions: ["jpg"] }).list()).toBeUndefined();
  });
});

describe("isHiddenName (Spark's shouldFilterOutPathName)", () => {
  it.each([
    [".git", true],
    ["_SUCCESS", true],
    ["_temporary", true],
    ["part=1", false],
    ["_part=1", false],
    ["_metadata", false],
    ["_common_metadata", false],
    ["img.jpg._COPYING_", true],
    ["apple", false],
  ])("%s -> %s", (name, hidden) => {
    expect(isHiddenName(name)).toBe(hidden);
  });
});
