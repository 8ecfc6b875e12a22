import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { type S3Access, type S3Location, s3Client } from "../s3.ts";
import { extensionMatcher } from "./image-extensions.ts";

/**
 * What the driver's own listing of the input found: a local folder or an S3 prefix, listed with
 * the rules of Spark's file listing (recursive, names matched by extension in any case, and every
 * name below the root that Spark treats as hidden skipped, see {@link isHiddenName}).
 *
 * Two uses. Spark's file sources never produce a row for a zero-byte file (the scan plans no split
 * for it), so `binaryFile` silently drops empty images, and orchard promises one row per input
 * file: the empty files get rows that say so. And the count sizes the featurize step and the
 * progress display without a Spark job; the rows-in check still counts with Spark's own listing.
 */
export interface InputListing {
  /** Image files with at least one byte: the rows Spark's `binaryFile` source will produce. */
  readonly files: number;
  /** Zero-byte image files, in Spark's own spelling (`file:/abs/path`, `s3a://bucket/key`), sorted. */
  readonly emptyFiles: string[];
}

/** Whether a file name below the root is an image Spark's listing keeps. */
function imageNameMatcher(extensions: readonly string[]): (name: string) => boolean {
  const isImage = extensionMatcher(extensions);
  return (name) => !isHiddenName(name) && isImage(name);
}

/**
 * Spark's rule for names its file listing skips (`HadoopFSUtils.shouldFilterOutPathName`): names
 * starting with `.`, or with `_` unless they hold a `=` (partition folders), and `._COPYING_`
 * leftovers; `_metadata` and `_common_metadata` are kept.
 */
export function isHiddenName(name: string): boolean {
  const excluded = (name.startsWith("_") && !name.includes("=")) || name.startsWith(".") || name.endsWith("._COPYING_");
  return excluded && !name.startsWith("_common_metadata") && !name.startsWith("_metadata");
}

/** Lists the images below the local folder `root` (see {@link InputListing} for the rules). */
export async function listLocalImages(root: string, extensions: readonly string[]): Promise<InputListing> {
  const matches = imageNameMatcher(extensions);
  let files = 0;
  const emptyFiles: string[] = [];
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  for (const entry of entries) {
    if (!matches(entry.name)) continue;
    const path = join(entry.parentPath, entry.name);
    const below = path.slice(root.length).split("/");
    if (below.some((part) => part !== "" && isHiddenName(part))) continue;
    if (!entry.isFile() && !entry.isSymbolicLink()) continue;
    // stat follows symbolic links, as Hadoop's local file system does: a link to a file is that file.
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) continue;
    if (info.size === 0) emptyFiles.push(`file:${path}`);
    else files++;
  }
  return { files, emptyFiles: emptyFiles.sort() };
}

/** Lists the images below an S3 prefix (see {@link InputListing} for the rules). */
export async function listS3Images(
  { bucket, prefix }: S3Location,
  extensions: readonly string[],
  access?: S3Access,
): Promise<InputListing> {
  const matches = imageNameMatcher(extensions);
  const client = await s3Client(access);
  const base = prefix === "" || prefix.endsWith("/") ? prefix : `${prefix}/`;
  let files = 0;
  const emptyFiles: string[] = [];
  let token: string | undefined;
  try {
    do {
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: base, ContinuationToken: token }),
      );
      for (const obj of page.Contents ?? []) {
        const key = obj.Key ?? "";
        const parts = key.slice(base.length).split("/");
        if (key.endsWith("/") || !matches(parts.at(-1) ?? "") || parts.some(isHiddenName)) continue;
        if (obj.Size === 0) emptyFiles.push(`s3a://${bucket}/${key}`);
        else files++;
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  } finally {
    client.destroy();
  }
  return { files, emptyFiles: emptyFiles.sort() };
}
