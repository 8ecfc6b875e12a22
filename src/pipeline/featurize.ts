import { bridgeCommand } from "@orchard/udf-server";
import type { Column } from "../connect/column.ts";
import type { DataFrame } from "../connect/data-frame.ts";
import { col, concat, from_json, lit } from "../connect/functions.ts";
import type { SparkSession } from "../connect/spark-session.ts";
import { labelOf } from "./ingest.ts";

/**
 * Step 2, featurize on the executors: Spark's script transformation (`SELECT TRANSFORM ... USING`)
 * starts the bridge once per partition on the executor that runs it; the bridge streams the rows
 * to the sidecar on that node over Arrow Flight and writes one line back per row, in order.
 * Both sides are `ROW FORMAT DELIMITED` (without Hive that is the only format Spark supports):
 * tab-separated fields, newline-terminated rows, `\N` for null. The image travels as base64 so it
 * can never contain a delimiter; the path (the row's id) is a file URI, which has none either.
 * With the path transport (`readRoots`), the content field is empty and Spark never reads the
 * files: the sidecar reads each `file:` path itself, inside the read roots.
 */

const ROW_FORMAT = String.raw`ROW FORMAT DELIMITED FIELDS TERMINATED BY '\t' LINES TERMINATED BY '\n' NULL DEFINED AS '\\N'`;

/** A Spark SQL string literal. */
function sqlString(text: string): string {
  return `'${text.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
}

/**
 * The SQL that featurizes the rows of `view` (columns `path`, `content`); with `transport: "path"`
 * only `path` is selected, so `binaryFile` does not read the files.
 */
export function featurizeSql(view: string, bridgeCommand: string, transport: ImageTransport = "bytes"): string {
  return [
    transport === "path" ? "SELECT TRANSFORM(path, '')" : "SELECT TRANSFORM(path, base64(content))",
    `  ${ROW_FORMAT}`,
    `  USING ${sqlString(bridgeCommand)}`,
    "  AS (path STRING, features STRING, error STRING, width INT, height INT)",
    `  ${ROW_FORMAT}`,
    `FROM ${view}`,
  ].join("\n");
}

/**
 * How the images reach the sidecar: `bytes`, base64 through the TRANSFORM pipe and the Flight
 * exchange (any file system Spark reads: `file:`, `s3a:`); `path`, only the `file:` path, which the
 * sidecar on the executor's node reads itself.
 */
export type ImageTransport = "bytes" | "path";

/** Where Spark's executors send the images: the sidecar on their node, through this install's bridge. */
export interface FeaturizeOptions {
  /** `host:port` of the sidecar on each executor's node, e.g. `127.0.0.1:8815`. */
  readonly sidecar: string;
  /**
   * The bridge command the executors run instead of this install's bridge (nodes that keep orchard
   * elsewhere), e.g. `orchard-bridge`: words without shell metacharacters; the flags below are added.
   */
  readonly bridge?: string;
  /**
   * The sidecar's secret FILE on each executor's node (never the secret: a command line is visible
   * to every local user); default: the bridge's own (`sidecar-<port>.secret` in its node's run folder).
   */
  readonly secretFile?: string;
  /** The model the bridges must find the sidecar serving (name, and checksum when known). */
  readonly expectModel?: { readonly name: string; readonly sha256: string | null };
  /**
   * The path transport: the `file:` folders (URIs) the images are under, which the sidecars may read
   * for this query (every image must lie inside one; the run's `--input`). Absent: the bytes go
   * through the pipe.
   */
  readonly readRoots?: readonly string[];
  /** Temporary view the images are registered as (default `orchard_images`). */
  readonly view?: string;
  /**
   * Files larger than this many bytes get an error row without being read (default
   * {@link DEFAULT_MAX_IMAGE_BYTES}, the sidecar's own limit).
   */
  readonly maxImageBytes?: number;
}

/** The largest image file sent to the sidecar by default: its own default limit (50 MiB). */
export const DEFAULT_MAX_IMAGE_BYTES = 50 * 1024 * 1024;

/**
 * Featurizes `images` (`path, label, content, ...`): one row out per row in, as
 * `(path, label, width, height, features array<float>, error)`; a failed image keeps its row with
 * null features and the error. Lazy: nothing runs until an action. Spark runs the bridge
 * that this package installs (compiled JavaScript), so executors on this machine need nothing else.
 */
export async function featurize(
  spark: SparkSession,
  images: DataFrame,
  {
    sidecar,
    bridge,
    secretFile,
    expectModel,
    readRoots,
    view = "orchard_images",
    maxImageBytes = DEFAULT_MAX_IMAGE_BYTES,
  }: FeaturizeOptions,
): Promise<DataFrame> {
  // binaryFile evaluates a filter on `length` against the file's status before it reads the bytes:
  // a larger file gets its error row unread (a 400 MB one would stall a task, one over 2 GiB fail it).
  await images.where(col("length").le(lit(maxImageBytes))).createOrReplaceTempView(view);
  const tooLarge = errorRows(
    images.where(col("length").gt(lit(maxImageBytes))),
    concat(lit("image too large: "), col("length").cast("string"), lit(` bytes > limit ${maxImageBytes}`)),
  );
  return spark
    .sql(
      featurizeSql(
        view,
        bridgeCommand({
          sidecar,
          ...(bridge === undefined ? {} : { command: bridge }),
          ...(secretFile === undefined ? {} : { secretFile }),
          ...(expectModel === undefined
            ? {}
            : { expectModel: { name: expectModel.name, sha256: expectModel.sha256 ?? undefined } }),
          ...(readRoots === undefined ? {} : { readRoots }),
        }),
        readRoots === undefined ? "bytes" : "path",
      ),
    )
    .select(
      col("path"),
      labelOf().alias("label"),
      col("width"),
      col("height"),
      from_json(col("features"), "array<float>").alias("features"),
      col("error"),
    )
    .unionByName(tooLarge);
}

/** The error recorded for a zero-byte file (Spark's file sources skip those: see input-listing.ts). */
const EMPTY_FILE_ERROR = "empty file (0 bytes)";

/** Rows shaped like {@link featurize}'s output for files that are empty. */
export function emptyFileRows(spark: SparkSession, paths: readonly string[]): DataFrame {
  return errorRows(
    spark.createDataFrame(
      paths.map((path) => ({ path })),
      "path string",
    ),
    lit(EMPTY_FILE_ERROR),
  );
}

/** `files` (with a `path` column) as rows shaped like {@link featurize}'s output that failed with `error`. */
function errorRows(files: DataFrame, error: Column): DataFrame {
  return files.select(
    col("path"),
    labelOf().alias("label"),
    lit(null).cast("int").alias("width"),
    lit(null).cast("int").alias("height"),
    lit(null).cast("array<float>").alias("features"),
    error.alias("error"),
  );
}
