import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  AbortMultipartUploadCommand,
  CopyObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { type S3Access, s3Client, s3Location } from "../s3.ts";
import { PipelineError } from "./pipeline-error.ts";

/**
 * The files of an output folder as the driver itself handles them: the small files it writes next
 * to Spark's output (`run.json`, `report.html`) and reads back (`orchard report`), and the folders
 * it moves when it publishes a run (see publish-output.ts). A local folder (`file://` or a plain
 * path) or S3 (`s3a://` / `s3://`, through the AWS SDK with the same endpoint and credentials Spark uses).
 */
export interface OutputStore {
  /** Where the folder is: a local file system (atomic renames) or S3 (no rename: copies). */
  readonly kind: "local" | "s3";
  /**
   * Writes `relative` (a path inside the folder), creating what lies above it. Readers see the old
   * content or the new one, never a part: a local file is written beside and renamed over the old
   * one; an S3 PUT replaces an object in one step.
   */
  put(relative: string, body: string | Uint8Array, contentType: string): Promise<void>;
  /** Reads `relative` (a path inside the folder). */
  get(relative: string): Promise<Uint8Array>;
  /** Whether the folder holds anything (an empty or missing folder, or a missing bucket, holds nothing). */
  holdsAnything(): Promise<boolean>;
  /** Whether `relative` exists, as a file or as a folder holding anything. */
  exists(relative: string): Promise<boolean>;
  /** The names directly inside the folder `relative` (files and folders; none when it does not exist). */
  list(relative: string): Promise<string[]>;
  /**
   * Deletes the file or folder `relative` and everything under it (nothing when it does not exist).
   * On S3 it also aborts the multipart uploads still pending under it (a killed job's invisible parts).
   */
  remove(relative: string): Promise<void>;
  /**
   * Moves the folder `from` to `to`, which must not exist. Local: one rename, atomic. S3: a
   * server-side copy of each object, then the delete of the originals: not atomic, so callers
   * only move what no reader is allowed to read at that moment.
   */
  move(from: string, to: string): Promise<void>;
}

/** The store for the output folder `uri`. */
export function outputStore(uri: string, s3?: S3Access): OutputStore {
  const location = s3Location(uri);
  if (location) return s3Store(location.bucket, location.prefix, s3);
  return localStore(uri.startsWith("file:") ? fileURLToPath(uri) : uri);
}

function localStore(root: string): OutputStore {
  const at = (relative: string) => join(root, relative);
  const exists = async (path: string) => {
    try {
      await stat(path);
      return true;
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === "ENOENT") return false;
      throw cause;
    }
  };
  return {
    kind: "local",
    async holdsAnything() {
      try {
        return !(await stat(root)).isDirectory() || (await readdir(root)).length > 0;
      } catch (cause) {
        if ((cause as NodeJS.ErrnoException).code === "ENOENT") return false;
        throw cause;
      }
    },
    async put(relative, body) {
      const path = at(relative);
      await mkdir(dirname(path), { recursive: true });
      // Written beside it under a hidden name (Spark's readers skip names starting with "."), then
      // renamed over it: rename(2) replaces a file in one step.
      const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
      try {
        await writeFile(temporary, body, { flush: true });
        await rename(temporary, path);
      } catch (cause) {
        await rm(temporary, { force: true });
        throw cause;
      }
    },
    async get(relative) {
      return readFile(at(relative));
    },
    exists: (relative) => exists(at(relative)),
    async list(relative) {
      try {
        return (await readdir(at(relative))).sort();
      } catch (cause) {
        const code = (cause as NodeJS.ErrnoException).code;
        if (code === "ENOENT" || code === "ENOTDIR") return [];
        throw cause;
      }
    },
    async remove(relative) {
      await rm(at(relative), { recursive: true, force: true });
    },
    async move(from, to) {
      if (await exists(at(to))) {
        throw new PipelineError({ message: `cannot move ${at(from)} to ${at(to)}: the target exists` });
      }
      await mkdir(dirname(at(to)), { recursive: true });
      await rename(at(from), at(to));
    },
  };
}

/** At most this many requests at once against S3 (copies, deletes of a batch, aborts). */
const S3_CONCURRENCY = 16;

async function eachLimited<T>(items: readonly T[], limit: number, body: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await body(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function s3Store(bucket: string, prefix: string, access?: S3Access): OutputStore {
  const connect = s3Client(access);
  const key = (relative: string) => (prefix ? `${prefix}/${relative}` : relative);
  const where = (relative: string) => `s3://${bucket}/${key(relative)}`;
  const failed = (what: string, relative: string, cause: unknown) =>
    new PipelineError({ message: `could not ${what} ${where(relative)}: ${(cause as Error).name}`, cause });

  /** Every key under the folder `relative` (with `relative` itself when it is an object). */
  const keysUnder = async (client: S3Client, relative: string): Promise<string[]> => {
    const folder = `${key(relative)}/`;
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: key(relative), ContinuationToken: token }),
      );
      for (const o of page.Contents ?? []) {
        if (o.Key && (o.Key === key(relative) || o.Key.startsWith(folder))) keys.push(o.Key);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys;
  };
  const deleteKeys = async (client: S3Client, keys: readonly string[]) => {
    const batches: string[][] = [];
    for (let i = 0; i < keys.length; i += 1000) batches.push(keys.slice(i, i + 1000));
    await eachLimited(batches, 4, async (batch) => {
      const out = await client.send(
        new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }),
      );
      const first = out.Errors?.[0];
      if (first) throw new PipelineError({ message: `could not delete s3://${bucket}/${first.Key}: ${first.Code}` });
    });
  };
  return {
    kind: "s3",
    async holdsAnything() {
      try {
        const page = await (await connect).send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix ? `${prefix}/` : "", MaxKeys: 1 }),
        );
        return (page.KeyCount ?? 0) > 0;
      } catch (cause) {
        // A missing bucket holds nothing; Spark says so in its own words when it writes.
        if ((cause as Error).name === "NoSuchBucket") return false;
        throw cause;
      }
    },
    async put(relative, body, contentType) {
      try {
        await (await connect).send(
          new PutObjectCommand({ Bucket: bucket, Key: key(relative), Body: body, ContentType: contentType }),
        );
      } catch (cause) {
        throw failed("write", relative, cause);
      }
    },
    async get(relative) {
      try {
        const out = await (await connect).send(new GetObjectCommand({ Bucket: bucket, Key: key(relative) }));
        return await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray();
      } catch (cause) {
        throw failed("read", relative, cause);
      }
    },
    async exists(relative) {
      try {
        const client = await connect;
        const inside = await client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: `${key(relative)}/`, MaxKeys: 1 }),
        );
        if ((inside.KeyCount ?? 0) > 0) return true;
        // The object itself, if any, is the first key that starts with its own name.
        const self = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key(relative), MaxKeys: 1 }));
        return self.Contents?.[0]?.Key === key(relative);
      } catch (cause) {
        if ((cause as Error).name === "NoSuchBucket") return false;
        throw failed("list", relative, cause);
      }
    },
    async list(relative) {
      const folder = `${key(relative)}/`;
      const names = new Set<string>();
      try {
        const client = await connect;
        let token: string | undefined;
        do {
          const page = await client.send(
            new ListObjectsV2Command({ Bucket: bucket, Prefix: folder, Delimiter: "/", ContinuationToken: token }),
          );
          for (const p of page.CommonPrefixes ?? []) if (p.Prefix) names.add(p.Prefix.slice(folder.length, -1));
          for (const o of page.Contents ?? []) if (o.Key) names.add(o.Key.slice(folder.length));
          token = page.IsTruncated ? page.NextContinuationToken : undefined;
        } while (token);
      } catch (cause) {
        if ((cause as Error).name === "NoSuchBucket") return [];
        throw failed("list", relative, cause);
      }
      return [...names].filter((n) => n.length > 0).sort();
    },
    async remove(relative) {
      try {
        const client = await connect;
        await deleteKeys(client, await keysUnder(client, relative));
        // A job killed before its commit leaves multipart uploads that no listing shows (and S3 bills).
        const uploads: { Key: string; UploadId: string }[] = [];
        let keyMarker: string | undefined;
        let uploadIdMarker: string | undefined;
        try {
          do {
            // The whole bucket's list, filtered here: MinIO lists uploads by a whole key only, not
            // by a prefix (AWS does both), and a bucket rarely has many uploads in progress.
            const page = await client.send(
              new ListMultipartUploadsCommand({ Bucket: bucket, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }),
            );
            for (const u of page.Uploads ?? []) {
              if (u.Key?.startsWith(`${key(relative)}/`) && u.UploadId)
                uploads.push({ Key: u.Key, UploadId: u.UploadId });
            }
            keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
            uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
          } while (keyMarker);
        } catch (cause) {
          // A least-privilege role may not list a bucket's uploads (EMR's instance profile may not):
          // they cost, but nobody reads them, and a lifecycle rule ends them (docs/output.md).
          if ((cause as Error).name !== "AccessDenied") throw cause;
        }
        await eachLimited(uploads, S3_CONCURRENCY, async (u) => {
          await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, ...u })).catch((cause: Error) => {
            // Completed or aborted meanwhile: nothing is left to abort.
            if (cause.name !== "NoSuchUpload") throw cause;
          });
        });
      } catch (cause) {
        if (cause instanceof PipelineError) throw cause;
        throw failed("delete", relative, cause);
      }
    },
    async move(from, to) {
      try {
        const client = await connect;
        if ((await keysUnder(client, to)).length > 0) {
          throw new PipelineError({ message: `cannot move ${where(from)} to ${where(to)}: the target exists` });
        }
        const keys = await keysUnder(client, from);
        const source = key(from);
        await eachLimited(keys, S3_CONCURRENCY, async (k) => {
          await client.send(
            new CopyObjectCommand({
              Bucket: bucket,
              Key: `${key(to)}${k.slice(source.length)}`,
              CopySource: `${bucket}/${k.split("/").map(encodeURIComponent).join("/")}`,
            }),
          );
        });
        await deleteKeys(client, keys);
      } catch (cause) {
        if (cause instanceof PipelineError) throw cause;
        throw failed("move", from, cause);
      }
    },
  };
}
