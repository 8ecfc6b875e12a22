import { PipelineError } from "./pipeline-error.ts";

/**
 * The oldest Spark Connect server the pipeline runs on. Spark 4.0 is the first release with Spark
 * ML over Connect (PCA fit, transform, save and load as ML commands) and with `array_to_vector` /
 * `vector_to_array` as functions a Connect client can call; EMR's `emr-spark-8.0.0` ships 4.0.2
 * and `emr-spark-8.1.0` ships 4.1. Checked against real 4.0.2 and 4.1.1 servers.
 */
export const MIN_SPARK_VERSION = "4.0.0";

/** `[major, minor, patch]` of a Spark version string such as `4.0.2`, `4.1.1-amzn-0` or `4.2.0-SNAPSHOT`. */
export function parseSparkVersion(version: string): [number, number, number] | undefined {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(version.trim());
  if (m === null) return undefined;
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
}

/**
 * Refuses, with one line naming the version needed, a server older than {@link MIN_SPARK_VERSION}.
 * A version string that cannot be read (a vendor's own scheme) is let through: the server's own
 * errors then speak for it.
 */
export function assertSupportedServer(version: string, remote: string): void {
  const got = parseSparkVersion(version);
  const min = parseSparkVersion(MIN_SPARK_VERSION) as [number, number, number];
  if (got === undefined) return;
  for (let i = 0; i < 3; i++) {
    if ((got[i] as number) > min[i]) return;
    if ((got[i] as number) < min[i]) {
      throw new PipelineError({
        message: `orchard needs a Spark Connect server of Spark ${MIN_SPARK_VERSION} or newer; ${remote} runs Spark ${version}`,
      });
    }
  }
}
