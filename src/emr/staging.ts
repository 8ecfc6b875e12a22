/**
 * What `orchard emr up` stages under `s3://BUCKET/PREFIX/`, and the upload itself: each object
 * carries its sha256 in its metadata, so a second `up` skips every object that has not changed.
 * `staging.json`, written last, lists them all with their sums: the bootstrap action checks each
 * file it downloads against it. Self-contained on purpose (only the S3 client): the project's
 * shared S3 helpers are being merged elsewhere.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { HeadBucketCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { ConfigError, SetupError } from "../errors.ts";
import { awsErrorInfo, awsFailure } from "./aws-clients.ts";
import { EMR_FILES, emrFile } from "./emr-files.ts";
import { keyUnder, type S3Location, s3Uri } from "./s3-location.ts";

export const STAGING_MANIFEST = "staging.json";
export const STAGING_FORMAT = "orchard-staging/1";
const SHA_METADATA = "orchard-sha256";

export type StagedKind = "bootstrap" | "package" | "model" | "script";

/** One object to stage: `key` is relative to the staging prefix. */
export interface StagedObject {
  kind: StagedKind;
  key: string;
  /** The file's name where the bootstrap puts it. */
  file: string;
  sha256: string;
  size: number;
  /** The local file it comes from. */
  source: string;
}

export interface StagingManifest {
  format: typeof STAGING_FORMAT;
  model: string;
  objects: Omit<StagedObject, "source">[];
}

export function sha256File(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

function object(kind: StagedKind, key: string, source: string, sha256 = sha256File(source)): StagedObject {
  return { kind, key, file: basename(source), sha256, size: statSync(source).size, source };
}

/**
 * The two npm tarballs in `dir` (`orchard-<v>.tgz` and `orchard-udf-server-<v>.tgz`, as
 * `npm run pack:all DIR` writes them).
 */
export function packageTarballs(dir: string, field = "--package-dir"): string[] {
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".tgz")) : [];
  const main = files.filter((f) => /^orchard-\d[\w.-]*\.tgz$/.test(f)).sort();
  const udf = files.filter((f) => /^orchard-udf-server-\d[\w.-]*\.tgz$/.test(f)).sort();
  if (main.length !== 1 || udf.length !== 1) {
    throw new ConfigError({
      field,
      expected: `a folder holding exactly one orchard-<version>.tgz and one orchard-udf-server-<version>.tgz (npm run pack:all DIR); ${dir} has ${files.length ? files.join(", ") : "none"}`,
    });
  }
  return [join(dir, main[0] as string), join(dir, udf[0] as string)];
}

/**
 * The model's files, checked against its own manifest first: `manifest.json` and every file it
 * names with a sha256 (`file`, `raw.file`).
 */
export function modelFiles(
  modelDir: string,
  field = "--model",
): { name: string; files: string[]; sums: Map<string, string> } {
  const manifestPath = join(modelDir, "manifest.json");
  if (!existsSync(manifestPath)) {
    throw new SetupError({
      component: "model",
      message: `no model at ${modelDir} (manifest.json missing): install it with \`npm run setup -- model\`, or give ${field} a folder holding model.onnx and manifest.json`,
    });
  }
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as {
    name?: string;
    file?: string;
    sha256?: string;
    raw?: { file?: string; sha256?: string };
  };
  const named = [
    { file: manifest.file, sha256: manifest.sha256 },
    { file: manifest.raw?.file, sha256: manifest.raw?.sha256 },
  ].filter((f): f is { file: string; sha256: string } => typeof f.file === "string" && typeof f.sha256 === "string");
  if (named.length === 0) {
    throw new SetupError({ component: "model", message: `${manifestPath} names no model file with a sha256` });
  }
  const sums = new Map<string, string>();
  for (const { file, sha256 } of named) {
    const path = join(modelDir, file);
    if (!existsSync(path))
      throw new SetupError({ component: "model", message: `${path} is missing (named by ${manifestPath})` });
    const got = sha256File(path);
    if (got !== sha256) {
      throw new SetupError({
        component: "model",
        message: `${path} does not match its manifest (sha256 ${got}, expected ${sha256}): reinstall the model (npm run setup -- model)`,
      });
    }
    sums.set(path, got);
  }
  return { name: manifest.name ?? basename(modelDir), files: [manifestPath, ...sums.keys()], sums };
}

/** Everything `up` stages: the bootstrap script, the two tarballs, the model. */
export function stagingPlan({
  tarballs,
  modelDir,
  bootstrap = emrFile(EMR_FILES.bootstrap),
}: {
  tarballs: readonly string[];
  modelDir: string;
  bootstrap?: string;
}): { model: string; objects: StagedObject[] } {
  const model = modelFiles(modelDir);
  const objects = [
    { ...object("bootstrap", "bootstrap/orchard-bootstrap.sh", bootstrap), file: "orchard-bootstrap.sh" },
    ...tarballs.map((t) => object("package", `packages/${basename(t)}`, t)),
    ...model.files.map((f) => object("model", `models/${model.name}/${basename(f)}`, f, model.sums.get(f))),
  ];
  return { model: model.name, objects };
}

/** Fails with one line naming `field` when the bucket does not exist or cannot be used. */
export async function checkBucket(s3: S3Client, bucket: string, field: string): Promise<void> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch (err) {
    const { name, status } = awsErrorInfo(err);
    if (status === 404 || name === "NotFound" || name === "NoSuchBucket") {
      throw new ConfigError({ field, expected: `an existing bucket (s3://${bucket} does not exist)`, cause: err });
    }
    if (status === 403 || name === "Forbidden" || name === "AccessDenied") {
      throw new ConfigError({
        field,
        expected: `a bucket these credentials may use (access to s3://${bucket} is denied)`,
        cause: err,
      });
    }
    throw awsFailure(`HeadBucket s3://${bucket}`, err);
  }
}

async function remoteSha(s3: S3Client, bucket: string, key: string): Promise<string | undefined> {
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return head.Metadata?.[SHA_METADATA];
  } catch (err) {
    const { name, status } = awsErrorInfo(err);
    if (status === 404 || name === "NotFound" || name === "NoSuchKey") return undefined;
    throw awsFailure(`HeadObject s3://${bucket}/${key}`, err);
  }
}

async function put(s3: S3Client, bucket: string, key: string, body: Buffer, sha256: string): Promise<void> {
  try {
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: body,
        Metadata: { [SHA_METADATA]: sha256 },
        ServerSideEncryption: "AES256",
      }),
    );
  } catch (err) {
    throw awsFailure(`PutObject s3://${bucket}/${key}`, err);
  }
}

export interface StagingResult {
  uploaded: string[];
  skipped: string[];
  manifest: StagingManifest;
}

/**
 * Uploads the plan under `staging` (objects whose stored sha256 matches are skipped), then
 * `staging.json`. `log` gets one line per object.
 */
export async function stage(
  s3: S3Client,
  staging: S3Location,
  plan: { model: string; objects: readonly StagedObject[] },
  log: (line: string) => void,
): Promise<StagingResult> {
  const uploaded: string[] = [];
  const skipped: string[] = [];
  const manifest: StagingManifest = {
    format: STAGING_FORMAT,
    model: plan.model,
    objects: plan.objects.map(({ source: _source, ...rest }) => rest),
  };
  const manifestBody = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
  const items = [
    ...plan.objects.map((o) => ({ key: o.key, sha256: o.sha256, body: () => readFileSync(o.source), size: o.size })),
    {
      key: STAGING_MANIFEST,
      sha256: createHash("sha256").update(manifestBody).digest("hex"),
      body: () => manifestBody,
      size: manifestBody.length,
    },
  ];
  for (const item of items) {
    const key = keyUnder(staging, item.key);
    const uri = `s3://${staging.bucket}/${key}`;
    if ((await remoteSha(s3, staging.bucket, key)) === item.sha256) {
      skipped.push(item.key);
      log(`  unchanged ${uri}`);
      continue;
    }
    log(`  uploading ${uri} (${(item.size / 1e6).toFixed(1)} MB)`);
    await put(s3, staging.bucket, key, item.body(), item.sha256);
    uploaded.push(item.key);
  }
  log(`staged ${s3Uri(staging)}/: ${uploaded.length} uploaded, ${skipped.length} unchanged`);
  return { uploaded, skipped, manifest };
}

/** Uploads one local file (a user script for a step) under `scripts/<sha256 prefix>/`; returns its URI. */
export async function stageScript(s3: S3Client, staging: S3Location, path: string): Promise<string> {
  const obj = object("script", "", path);
  const key = keyUnder(staging, `scripts/${obj.sha256.slice(0, 16)}/${obj.file}`);
  if ((await remoteSha(s3, staging.bucket, key)) !== obj.sha256) {
    await put(s3, staging.bucket, key, readFileSync(path), obj.sha256);
  }
  return `s3://${staging.bucket}/${key}`;
}
