import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { declaredReadRoots } from "../../udf-server/src/server/exchange.ts";
import { filePathOf, isUnder, readImageFile, resolveReadRoots } from "../../udf-server/src/server/image-file-reader.ts";

describe("filePathOf: the file: URIs the sidecar reads (Spark's binaryFile paths, not percent-decoded)", () => {
  it.each<[string, string | null]>([
    ["file:/data/in/a.jpg", "/data/in/a.jpg"],
    ["file:///data/in/a.jpg", "/data/in/a.jpg"],
    ["file://localhost/data/in/a.jpg", "/data/in/a.jpg"],
    ["file:/data/in/a b.jpg", "/data/in/a b.jpg"],
    ["file:/data/in/a%20b.jpg", "/data/in/a%20b.jpg"],
    ["file:/data//in/a.jpg", "/data/in/a.jpg"],
    ["file://otherhost/data/a.jpg", null],
    ["file:data/a.jpg", null],
    ["file:/data/in/../../etc/passwd", null],
    ["file:/data/in/./a.jpg", null],
    ["file:/data/in/..", null],
    ["file:/data/in/a\0.jpg", null],
    ["file:/data\\in/a.jpg", null],
    ["s3a://bucket/in/a.jpg", null],
    ["/data/in/a.jpg", null],
    ["", null],
  ])("%j -> %j", (uri, path) => {
    expect(filePathOf(uri)).toBe(path);
  });
});

describe("isUnder: whole path segments", () => {
  it.each<[string, string, boolean]>([
    ["/data/in/a.jpg", "/data/in", true],
    ["/data/in", "/data/in", true],
    ["/data/in-other/a.jpg", "/data/in", false],
    ["/data/inx", "/data/in", false],
    ["/etc/passwd", "/data/in", false],
    ["/anything", "/", true],
  ])("%s under %s: %s", (path, root, under) => {
    expect(isUnder(path, root)).toBe(under);
  });
});

describe("declaredReadRoots: the descriptor cmd of a path exchange", () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  it.each<[Uint8Array | undefined, string[] | null]>([
    [undefined, null],
    [new Uint8Array(0), null],
    [enc("not json"), null],
    [enc("null"), null],
    [enc('{"readRoots": []}'), null],
    [enc('{"readRoots": "file:/a"}'), null],
    [enc('{"readRoots": ["file:/a", 3]}'), null],
    [enc('{"readRoots": ["file:/a", "file:/b"]}'), ["file:/a", "file:/b"]],
  ])("%j -> %j", (cmd, roots) => {
    expect(declaredReadRoots(cmd)).toEqual(roots);
  });
});

describe("readImageFile: only regular files inside the read roots, within the size limit", () => {
  const base = realpathSync(mkdtempSync(join(tmpdir(), "orchard-reader-")));
  const root = join(base, "in");
  const outside = join(base, "outside");
  mkdirSync(join(root, "apple"), { recursive: true });
  mkdirSync(`${root}-other`, { recursive: true });
  mkdirSync(outside, { recursive: true });
  writeFileSync(join(root, "apple", "a.jpg"), "image bytes");
  writeFileSync(join(root, "apple", "big.jpg"), Buffer.alloc(2048));
  writeFileSync(join(`${root}-other`, "x.jpg"), "sibling");
  writeFileSync(join(outside, "secret.jpg"), "secret");
  symlinkSync(join(outside, "secret.jpg"), join(root, "apple", "link-out.jpg"));
  symlinkSync(outside, join(root, "dir-out"));
  symlinkSync(join(root, "apple", "a.jpg"), join(root, "apple", "link-in.jpg"));
  symlinkSync("/dev/zero", join(root, "apple", "zero.jpg"));
  execFileSync("mkfifo", [join(root, "apple", "fifo.jpg")]);
  const uri = (p: string) => `file:${p}`;

  it.each<[string, string | null, RegExp | null]>([
    [uri(join(root, "apple", "a.jpg")), "image bytes", null],
    [`file://${join(root, "apple", "a.jpg")}`, "image bytes", null],
    [uri(join(root, "apple", "link-in.jpg")), "image bytes", null],
    [uri(join(root, "apple", "missing.jpg")), null, /^read: no such file$/],
    [uri(join(root, "apple", "link-out.jpg")), null, /^read: a symbolic link out of the exchange's read roots$/],
    [uri(join(root, "dir-out", "secret.jpg")), null, /^read: a symbolic link out of the exchange's read roots$/],
    [uri(join(root, "apple", "zero.jpg")), null, /^read: a symbolic link out of the exchange's read roots$/],
    [uri(join(root, "apple", "fifo.jpg")), null, /^read: not a regular file$/],
    [uri(join(root, "apple")), null, /^read: not a regular file$/],
    [uri(join(root, "apple", "big.jpg")), null, /^image too large: 2048 bytes > limit 1024$/],
    [uri(join(outside, "secret.jpg")), null, /^read: outside the exchange's read roots$/],
    [uri(join(`${root}-other`, "x.jpg")), null, /^read: outside the exchange's read roots$/],
    [uri(`${root}/apple/../../outside/secret.jpg`), null, /^read: not a file: URI/],
    [`s3a://bucket${root}/apple/a.jpg`, null, /^read: not a file: URI/],
  ])("%s", async (path, bytes, error) => {
    const roots = await resolveReadRoots([uri(root)]);
    const got = await readImageFile(path, roots, 1024);
    if (error === null) expect(got.error).toBeNull();
    else expect(got.error).toMatch(error);
    expect(got.bytes === null ? null : Buffer.from(got.bytes).toString()).toBe(bytes);
  });

  it("a null path is an error row", async () => {
    expect(await readImageFile(null, await resolveReadRoots([uri(root)]), 1024)).toEqual({
      bytes: null,
      error: "read: no path (null)",
    });
  });

  it("reads nothing without roots; /dev is not a regular file even as a root", async () => {
    expect((await readImageFile(uri(join(root, "apple", "a.jpg")), [], 1024)).error).toMatch(/outside/);
    const dev = await resolveReadRoots(["file:/dev"]);
    expect((await readImageFile("file:/dev/zero", dev, 1024)).error).toBe("read: not a regular file");
  });

  it("resolves roots by their real path and drops those that are not file: folders", async () => {
    symlinkSync(root, join(base, "root-link"));
    expect(await resolveReadRoots([uri(join(base, "root-link")), `${uri(root)}/`, "s3a://b/in", "relative"])).toEqual([
      { path: join(base, "root-link"), real: root },
      { path: root, real: root },
    ]);
    const viaLink = await resolveReadRoots([uri(join(base, "root-link"))]);
    expect((await readImageFile(uri(join(base, "root-link", "apple", "a.jpg")), viaLink, 1024)).error).toBeNull();
  });
});
