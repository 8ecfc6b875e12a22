import { fileURLToPath } from "node:url";
import type { SparkSession } from "../connect/spark-session.ts";
import { type S3Access, s3Location } from "../s3.ts";
import type { IngestOptions } from "./ingest.ts";
import { type InputListing, listLocalImages, listS3Images } from "./input-listing.ts";

/**
 * The images a run reads, as the one value the pipeline passes around: where they are, which
 * files count and how the driver lists them. The input's scheme is looked at here, once: a local
 * folder (`file:`) and an S3 prefix (`s3a://`, `s3://`) are listed by the driver; other file
 * systems (`hdfs://`, `gs://`, ...) are left to Spark's own listing. Spark reads it with
 * `readImages` and `sampledPaths` (ingest.ts), which this value is the options of: kept apart, so
 * that the checks before a run (preflight.ts) load no Spark Connect code.
 */
export interface ImageInput extends IngestOptions {
  /**
   * The folder as the sidecars' path transport names it: `file:` + the absolute path as it is on
   * disk, not percent-encoded (the form of binaryFile's `path` column); undefined for any other
   * file system, whose images go through the pipe.
   */
  readonly readRoot: string | undefined;
  /** The driver's own listing, with Spark's rules (undefined for file systems the driver cannot list). */
  list(): Promise<InputListing | undefined>;
  /**
   * Runs `plan` (which resolves a read of this input) with Spark listing a local input on the
   * driver. Spark's default lists a tree of more than 32 folders with a job of one task per
   * folder, which for a local folder costs far more than the listing (the sample set's 43 class
   * folders: ~0.5 s of a 12 s run). S3 and other stores keep Spark's choice. The session's value
   * is restored afterwards.
   */
  withDriverListing<T>(spark: SparkSession, plan: () => Promise<T>): Promise<T>;
}

/** Above this many folders Spark lists a tree with a distributed job, one task per folder. */
const PARALLEL_LISTING_THRESHOLD = "spark.sql.sources.parallelPartitionDiscovery.threshold";

/** The input at `uri`; `s3` is how the driver reaches an S3 input (the SDK's defaults when absent). */
export function imageInput({
  uri,
  extensions,
  s3,
}: {
  uri: string;
  extensions: readonly string[];
  s3?: S3Access | undefined;
}): ImageInput {
  const local = uri.startsWith("file:");
  const location = s3Location(uri);
  return {
    uri,
    extensions,
    readRoot: local ? `file:${fileURLToPath(uri)}` : undefined,
    async list() {
      if (location) return listS3Images(location, extensions, s3);
      if (local) return listLocalImages(fileURLToPath(uri), extensions);
      return undefined;
    },
    async withDriverListing(spark, plan) {
      if (!local) return plan();
      const previous = await spark.conf.get(PARALLEL_LISTING_THRESHOLD, null);
      await spark.conf.set(PARALLEL_LISTING_THRESHOLD, 2 ** 31 - 1);
      try {
        return await plan();
      } finally {
        await (previous === null
          ? spark.conf.unset(PARALLEL_LISTING_THRESHOLD)
          : spark.conf.set(PARALLEL_LISTING_THRESHOLD, previous));
      }
    },
  };
}
