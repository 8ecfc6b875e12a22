import { ConfigError } from "../errors.ts";

/** A bucket and a key prefix without leading or trailing slashes (`""` for the whole bucket). */
export interface S3Location {
  readonly bucket: string;
  readonly prefix: string;
}

const S3_URI = /^s3a?:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(\/.*)?$/;

/** Parses `s3://bucket/prefix` (or `s3a://`: on EMR both name the same objects); a bad one names `field`. */
export function parseS3Uri(uri: string, field: string): S3Location {
  const m = S3_URI.exec(uri.trim());
  if (!m) throw new ConfigError({ field, expected: "an S3 URI such as s3://bucket/prefix (s3:// or s3a://)" });
  return { bucket: m[1] as string, prefix: (m[2] ?? "").replace(/^\/+|\/+$/g, "") };
}

/** `s3://bucket/prefix` (no trailing slash). */
export function s3Uri({ bucket, prefix }: S3Location): string {
  return prefix ? `s3://${bucket}/${prefix}` : `s3://${bucket}`;
}

/** The key of `name` below a location. */
export function keyUnder({ prefix }: S3Location, name: string): string {
  return prefix ? `${prefix}/${name}` : name;
}

/** Whether a string is an S3 URI (either scheme). */
export function isS3Uri(s: string): boolean {
  return S3_URI.test(s);
}
