import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { type S3Access, s3ClientFor } from "./output-store.ts";

/**
 * Spark's file sources never produce a row for a zero-byte file (the scan plans no split for it),
 * so `binaryFile` silently drops empty images. orchard promises one row per input file, so the
 * driver lists the input itself (local folders and S3 only) and returns the empty files' paths, in
 * Spark's own spelling (`file:/abs/path`, `s3a://bucket/key`), for rows that say so.
 * Like Spark's listing it skips names starting with `_` or `.` and matches extensions in either case.
 */
export async function findEmptyFiles(input: string, extensions: readonly string[], s3?: S3Access): Promise<string[]> {
  const wanted = new Set(extensions.map((e) => e.toLowerCase()));
  const matches = (name: string) => !/^[_.]/.test(name) && wanted.has(name.split(".").at(-1)?.toLowerCase() ?? "");
  const s3Uri = /^s3a?:\/\/([^/]+)\/?(.*)$/.exec(input);
  if (s3Uri) return emptyS3Objects(s3Uri[1] as string, s3Uri[2] as string, matches, s3);
  if (input.startsWith("file:")) return emptyLocalFiles(fileURLToPath(input), matches);
  return [];
}

async function emptyLocalFiles(root: string, matches: (name: string) => boolean): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  for (const entry of entries) {
    if (!entry.isFile() || !matches(entry.name)) continue;
    const path = join(entry.parentPath, entry.name);
    if (
      path
        .slice(root.length)
        .split("/")
        .some((part) => /^[_.]/.test(part))
    )
      continue;
    if ((await stat(path)).size === 0) out.push(`file:${path}`);
  }
  return out.sort();
}

async function emptyS3Objects(
  bucket: string,
  prefix: string,
  matches: (name: string) => boolean,
  access?: S3Access,
): Promise<string[]> {
  const client = s3ClientFor(access);
  const base = prefix === "" || prefix.endsWith("/") ? prefix : `${prefix}/`;
  const out: string[] = [];
  let token: string | undefined;
  try {
    do {
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: base, ContinuationToken: token }),
      );
      for (const obj of page.Contents ?? []) {
        const key = obj.Key ?? "";
        const parts = key.slice(base.length).split("/");
        if (
          obj.Size === 0 &&
          !key.endsWith("/") &&
          matches(parts.at(-1) ?? "") &&
          !parts.some((p) => /^[_.]/.test(p))
        ) {
          out.push(`s3a://${bucket}/${key}`);
        }
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  } finally {
    client.destroy();
  }
  return out.sort();
}
