import { basename } from "node:path";

/**
 * How the Spark servers orchard starts commit their Parquet output: through spark-hadoop-cloud's
 * `PathOutputCommitProtocol`, which asks Hadoop's committer factory of each output's scheme.
 *
 * - `s3a://`: the S3A **magic** committer. Tasks write their files as multipart uploads that
 *   stay invisible; task commit saves the pending uploads' list under `__magic_job-<id>/` in the
 *   destination itself, and job commit completes them, then writes `_SUCCESS` (a JSON
 *   manifest naming the committer). No rename, so no copy. Chosen over the directory (staging)
 *   committer because that one stages each task's output on the executor's local disk and passes
 *   the pending uploads to job commit through a cluster file system (HDFS), which neither a
 *   `local[N]` server nor the compose cluster (workers without a shared disk) has; the magic
 *   committer needs only S3 itself, which is strongly consistent (AWS since 2020, MinIO always).
 * - `file:` (and every other scheme without its own factory): Hadoop's `FileOutputCommitter`,
 *   algorithm 1: task output is renamed into place at job commit, a rename on one file system.
 *
 * orchard publishes each run from a folder of its own in any case (src/pipeline/publish-output.ts):
 * the committer makes the write into that folder fast and all-or-nothing per job.
 *
 * PySpark: the same keys in `spark-defaults.conf` or `SparkSession.builder.config(...)`, as
 * Spark's "Integration with Cloud Infrastructures" guide gives them.
 */
export const OUTPUT_COMMITTER_CONF: Readonly<Record<string, string>> = {
  "spark.sql.sources.commitProtocolClass": "org.apache.spark.internal.io.cloud.PathOutputCommitProtocol",
  "spark.sql.parquet.output.committer.class": "org.apache.spark.internal.io.cloud.BindingParquetOutputCommitter",
  "spark.hadoop.mapreduce.outputcommitter.factory.scheme.s3a": "org.apache.hadoop.fs.s3a.commit.S3ACommitterFactory",
  "spark.hadoop.fs.s3a.committer.name": "magic",
  "spark.hadoop.fs.s3a.committer.magic.enabled": "true",
  // Job setup and cleanup abort the uploads a failed attempt of the same job left pending.
  "spark.hadoop.fs.s3a.committer.abort.pending.uploads": "true",
  "spark.hadoop.mapreduce.fileoutputcommitter.algorithm.version": "1",
};

/** The jar that holds `PathOutputCommitProtocol`, as `scripts/setup-spark.sh` installs it. */
export const HADOOP_CLOUD_JAR = "spark-hadoop-cloud_2.13-4.1.1.jar";

/** The committer settings when `jars` give Spark spark-hadoop-cloud; none otherwise (Spark's default protocol). */
export function outputCommitterConf(jars: readonly string[]): Record<string, string> {
  return jars.some((jar) => basename(jar).startsWith("spark-hadoop-cloud_")) ? { ...OUTPUT_COMMITTER_CONF } : {};
}
