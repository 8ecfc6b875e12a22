/**
 * S3 as orchard reaches it, in one place: the rule for S3 URIs, the one credentials type, and the
 * one client factory. The pipeline (input listing, output store), the CLI (local Spark and MinIO,
 * `orchard s3 upload`) and the tests all use these; nothing else builds an S3 client.
 */
import type { S3Client } from "@aws-sdk/client-s3";

/** The signing region when none is configured (MinIO and other local servers accept any). */
export const DEFAULT_S3_REGION = "us-east-1";

/** A key pair that signs S3 requests (and, for a local MinIO, its root user). */
export interface S3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** For temporary credentials only. */
  readonly sessionToken?: string;
}

/**
 * How to reach an S3 store: the same settings serve the AWS SDK on the driver and Hadoop's S3A
 * on the Spark server. Keys are optional: without them the SDK's default credential chain applies.
 */
export interface S3Access extends Partial<S3Credentials> {
  /** Custom endpoint (MinIO, a local S3), e.g. `http://127.0.0.1:9000`; AWS's own when absent. */
  readonly endpoint?: string;
  /** Signing region. */
  readonly region: string;
  /** Buckets under the path (`endpoint/bucket/key`), as local servers need, not as sub-domains. */
  readonly pathStyle: boolean;
}

/** Access to an S3-compatible server at `endpoint` (MinIO, a local S3): path-style, default region. */
export function s3CompatibleAccess(
  endpoint: string,
  credentials: S3Credentials,
  region: string = DEFAULT_S3_REGION,
): S3Access & S3Credentials & { readonly endpoint: string } {
  return { endpoint, region, pathStyle: true, ...credentials };
}

/** Bucket and key prefix of an S3 URI; the prefix has no trailing slash (`""` for a whole bucket). */
export interface S3Location {
  readonly bucket: string;
  readonly prefix: string;
}

/** The {@link S3Location} of an `s3a://` / `s3://` URI; undefined for other URIs. */
export function s3Location(uri: string): S3Location | undefined {
  const m = /^s3a?:\/\/([^/]+)\/?(.*)$/.exec(uri);
  return m ? { bucket: m[1] as string, prefix: (m[2] as string).replace(/\/+$/, "") } : undefined;
}

/**
 * An S3 client for `access` (custom endpoint and keys when given, the SDK's defaults otherwise).
 * The AWS SDK is loaded on first use, so that commands which never touch S3 start fast.
 */
export async function s3Client(access?: S3Access): Promise<S3Client> {
  const { S3Client } = await import("@aws-sdk/client-s3");
  return new S3Client({
    region: access?.region ?? DEFAULT_S3_REGION,
    forcePathStyle: access?.pathStyle ?? false,
    ...(access?.endpoint ? { endpoint: access.endpoint } : {}),
    ...(access?.accessKeyId && access.secretAccessKey
      ? {
          credentials: {
            accessKeyId: access.accessKeyId,
            secretAccessKey: access.secretAccessKey,
            ...(access.sessionToken ? { sessionToken: access.sessionToken } : {}),
          },
        }
      : {}),
  });
}
