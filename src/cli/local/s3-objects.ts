import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { SetupError } from "../../errors.ts";

/** Creates `bucket` unless it exists already. */
export async function ensureBucket(client: S3Client, bucket: string): Promise<void> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
    return;
  } catch (err) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status !== 404) throw s3Failure(`cannot reach bucket ${bucket}`, err);
  }
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (err) {
    throw s3Failure(`cannot create bucket ${bucket}`, err);
  }
}

/**
 * Uploads every file below `dir` to `s3://bucket/prefix/<relative path>` (forward slashes), a few
 * at a time. Returns the object keys written, sorted.
 */
export async function uploadFolder(
  client: S3Client,
  { bucket, prefix, dir, concurrency = 8 }: { bucket: string; prefix: string; dir: string; concurrency?: number },
): Promise<string[]> {
  const files = await listFiles(dir);
  const base = prefix.replace(/^\/+|\/+$/g, "");
  const keys = files.map((file) => [base, relative(dir, file).split(sep).join("/")].filter(Boolean).join("/"));
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const i = next++;
      try {
        await client.send(
          new PutObjectCommand({ Bucket: bucket, Key: keys[i], Body: await readFile(files[i] as string) }),
        );
      } catch (err) {
        throw s3Failure(`cannot upload ${files[i]} to s3://${bucket}/${keys[i]}`, err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, files.length)) }, worker));
  return keys.sort();
}

/** Downloads the object `s3://bucket/key` to the file `to` (its folder created); returns its size in bytes. */
export async function downloadObject(
  client: S3Client,
  { bucket, key, to }: { bucket: string; key: string; to: string },
): Promise<number> {
  let bytes: Uint8Array;
  try {
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    bytes = await (got.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray();
  } catch (err) {
    throw s3Failure(`cannot download s3://${bucket}/${key}`, err);
  }
  await mkdir(dirname(to), { recursive: true });
  await writeFile(to, bytes);
  return bytes.length;
}

/** Keys (and sizes) of all objects under `prefix` in `bucket`, following pagination. */
export async function listObjects(
  client: S3Client,
  bucket: string,
  prefix = "",
): Promise<{ key: string; size: number }[]> {
  const out: { key: string; size: number }[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const obj of page.Contents ?? []) out.push({ key: obj.Key ?? "", size: obj.Size ?? 0 });
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

function s3Failure(message: string, err: unknown): SetupError {
  const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return new SetupError({ component: "s3", message: `${message} (${detail})`, cause: err });
}
