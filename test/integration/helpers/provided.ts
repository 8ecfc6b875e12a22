import type {} from "vitest";
import type { S3Access } from "../../../src/s3.ts";

/** S3 store the integration tests share: endpoint, credentials and a bucket that exists. */
export interface ProvidedS3 extends S3Access {
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly bucket: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    /**
     * Spark Connect URL of the shared server with its token, e.g. `sc://127.0.0.1:40123/;token=...`
     * (the server requires it, as every server orchard starts does). Pass it by environment
     * (`SPARK_REMOTE`) to child processes, never as an argument.
     */
    sparkRemote: string;
    /** The shared S3 store; the shared Spark server is configured for it (s3a://bucket/...). */
    s3: ProvidedS3;
    /** `host:port` of the shared sidecar (real model), the one the pipeline's bridge talks to. */
    sidecar: string;
    /** The shared sidecar's secret file (0600; `sidecar-<port>.secret` in the cache's run folder). */
    sidecarSecretFile: string;
  }
}
