/**
 * AWS clients for `orchard emr`: the SDK's default credential chain and region (`--region` wins),
 * `--endpoint-url` for tests and S3-compatible stores. Problems that are the user's configuration
 * (no region, no credentials, rejected keys) become one ConfigError line naming what to set.
 */
import { EMRClient } from "@aws-sdk/client-emr";
import { S3Client } from "@aws-sdk/client-s3";
import { ConfigError, OrchardError, SetupError } from "../errors.ts";

export interface AwsTarget {
  region?: string | undefined;
  endpointUrl?: string | undefined;
  env: Readonly<Record<string, string | undefined>>;
}

export interface AwsClients {
  emr: EMRClient;
  s3: S3Client;
  region: string;
  endpointUrl: string | undefined;
}

const REGION_EXPECTED = "an AWS region: --region, AWS_REGION or AWS_DEFAULT_REGION, or a region in the AWS profile";
const CREDENTIALS_EXPECTED =
  "credentials from the AWS default chain (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, SSO, or an instance role)";

/** Builds both clients and checks, before any call, that a region and credentials resolve. */
export async function awsClients(target: AwsTarget): Promise<AwsClients> {
  const region = target.region ?? (target.env.AWS_REGION || target.env.AWS_DEFAULT_REGION || undefined);
  const common = {
    ...(region ? { region } : {}),
    ...(target.endpointUrl ? { endpoint: target.endpointUrl } : {}),
    maxAttempts: 3,
  };
  const emr = new EMRClient(common);
  let resolved: string;
  try {
    resolved = await emr.config.region();
  } catch (err) {
    throw new ConfigError({
      field: "--region",
      expected: REGION_EXPECTED,
      message: "no AWS region: give --region, or set AWS_REGION (or AWS_DEFAULT_REGION) or a region in the AWS profile",
      cause: err,
    });
  }
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(resolved)) {
    throw new ConfigError({ field: "--region", expected: `${REGION_EXPECTED} such as eu-west-1 (got "${resolved}")` });
  }
  try {
    await emr.config.credentials();
  } catch (err) {
    throw new ConfigError({
      field: "AWS credentials",
      expected: CREDENTIALS_EXPECTED,
      message: `no AWS credentials: expected ${CREDENTIALS_EXPECTED}`,
      cause: err,
    });
  }
  const s3 = new S3Client({ ...common, region: resolved, ...(target.endpointUrl ? { forcePathStyle: true } : {}) });
  return { emr, s3, region: resolved, endpointUrl: target.endpointUrl };
}

const CREDENTIAL_ERRORS = new Set([
  "UnrecognizedClientException",
  "InvalidClientTokenId",
  "InvalidSignatureException",
  "SignatureDoesNotMatch",
  "ExpiredTokenException",
  "ExpiredToken",
  "InvalidAccessKeyId",
]);

/** The error name and HTTP status of an SDK failure. */
export function awsErrorInfo(err: unknown): { name: string; status: number | undefined; message: string } {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status =
    e?.$metadata?.httpStatusCode ?? (err as { $response?: { statusCode?: number } })?.$response?.statusCode;
  return { name: e?.name ?? "Error", status, message: (e?.message ?? String(err)).split("\n")[0] as string };
}

/** An SDK failure of `operation` as an orchard error (config, connection or setup: exit 2 or 3). */
export function awsFailure(operation: string, err: unknown): OrchardError {
  if (err instanceof OrchardError) return err;
  const { name, message, status } = awsErrorInfo(err);
  if (name === "SyntaxError" && status !== undefined) {
    return new SetupError({
      component: "emr",
      message: `${operation} failed: the endpoint answered HTTP ${status} with something that is not an AWS response (does it implement ${operation}?)`,
      cause: err,
    });
  }
  if (CREDENTIAL_ERRORS.has(name)) {
    return new ConfigError({
      field: "AWS credentials",
      expected: CREDENTIALS_EXPECTED,
      message: `AWS rejected the credentials (${operation}: ${name}): check ${CREDENTIALS_EXPECTED}`,
      cause: err,
    });
  }
  const code = (err as { code?: string }).code;
  if (code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "ETIMEDOUT" || name === "TimeoutError") {
    return new OrchardError("connection", {
      message: `${operation}: cannot reach the AWS endpoint (${code ?? name}: ${message})`,
      cause: err,
    });
  }
  return new SetupError({ component: "emr", message: `${operation} failed: ${name}: ${message}`, cause: err });
}
