import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { type S3Access, s3Client, s3Location } from "../s3.ts";
import { PipelineError } from "./pipeline-error.ts";

/**
 * Small files the driver itself writes next to Spark's output (`run.json`, `report.html`) and
 * reads back (`orchard report`): to a local folder (`file://` or a plain path) or to S3
 * (`s3a://` / `s3://`, through the AWS SDK with the same endpoint and credentials Spark uses).
 */
export interface OutputStore {
  /** Writes `relative` (a path inside the folder), creating what lies above it. */
  put(relative: string, body: string | Uint8Array, contentType: string): Promise<void>;
  /** Reads `relative` (a path inside the folder). */
  get(relative: string): Promise<Uint8Array>;
  /** Whether the folder holds anything (an empty or missing folder, or a missing bucket, holds nothing). */
  holdsAnything(): Promise<boolean>;
}

/** The store for the output folder `uri`. */
export function outputStore(uri: string, s3?: S3Access): OutputStore {
  const location = s3Location(uri);
  if (location) return s3Store(location.bucket, location.prefix, s3);
  const root = uri.startsWith("file:") ? fileURLToPath(uri) : uri;
  return {
    async holdsAnything() {
      try {
        return !(await stat(root)).isDirectory() || (await readdir(root)).length > 0;
      } catch (cause) {
        if ((cause as NodeJS.ErrnoException).code === "ENOENT") return false;
        throw cause;
      }
    },
    async put(relative, body) {
      const path = `${root.replace(/\/+$/, "")}/${relative}`;
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, body);
    },
    async get(relative) {
      return readFile(`${root.replace(/\/+$/, "")}/${relative}`);
    },
  };
}

function s3Store(bucket: string, prefix: string, access?: S3Access): OutputStore {
  const connect = s3Client(access);
  const key = (relative: string) => (prefix ? `${prefix}/${relative}` : relative);
  const where = (relative: string) => `s3://${bucket}/${key(relative)}`;
  return {
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
        throw new PipelineError({ message: `could not write ${where(relative)}: ${(cause as Error).name}`, cause });
      }
    },
    async get(relative) {
      try {
        const out = await (await connect).send(new GetObjectCommand({ Bucket: bucket, Key: key(relative) }));
        return await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray();
      } catch (cause) {
        throw new PipelineError({ message: `could not read ${where(relative)}: ${(cause as Error).name}`, cause });
      }
    },
  };
}
