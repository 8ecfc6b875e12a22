import { inject } from "vitest";

/** The environment the `orchard` CLI gets in tests: the test Spark, sidecar and MinIO. */
export function cliEnv(): NodeJS.ProcessEnv {
  const s3 = inject("s3");
  return {
    ...process.env,
    SPARK_REMOTE: inject("sparkRemote"),
    ORCHARD_SIDECAR: inject("sidecar"),
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    ORCHARD_S3_ENDPOINT: s3.endpoint,
  };
}
