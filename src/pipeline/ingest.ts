import type { DataFrame } from "../connect/data-frame.ts";
import { col, element_at, expr, split } from "../connect/functions.ts";
import type { SparkSession } from "../connect/spark-session.ts";
import { extensionGlob } from "./image-extensions.ts";

/**
 * Step 1, ingest: lists the images under `uri` with Spark's `binaryFile` source (recursive, by
 * extension, both cases) and labels each with its parent folder's name. The image bytes stay on
 * the executors: only the lazily planned DataFrame is returned.
 */
export interface IngestOptions {
  /** The folder, as the Spark server sees it (`file:///...`, `s3a://bucket/prefix`, ...). */
  readonly uri: string;
  /** File extensions that count as images, lower case, without the dot (both cases are matched). */
  readonly extensions: readonly string[];
}

/** The parent folder of a file path: the class label (`.../Training/apple/0_100.jpg` -> `apple`). */
export function labelOf(pathColumn = "path") {
  return element_at(split(pathColumn, "/"), -2);
}

/**
 * Image files as `(path, label, content, length, modificationTime)` (binaryFile's own names);
 * `content` is read only when a later step needs it.
 */
export function readImages(
  spark: SparkSession,
  { uri, extensions }: IngestOptions,
  paths?: readonly string[],
): DataFrame {
  const reader = spark.read
    .format("binaryFile")
    .option("pathGlobFilter", extensionGlob(extensions))
    .option("recursiveFileLookup", "true");
  const files = reader.load(paths ?? uri);
  return files.select(col("path"), labelOf().alias("label"), col("content"), col("length"), col("modificationTime"));
}

/**
 * The paths of at most `perClass` images per label, chosen deterministically (by a hash of the path,
 * ties by path), listed without reading any image bytes.
 */
export function sampledPaths(spark: SparkSession, options: IngestOptions, perClass: number): DataFrame {
  return readImages(spark, options)
    .select("path", "label")
    .withColumn("rank", expr("row_number() OVER (PARTITION BY label ORDER BY xxhash64(path), path)"))
    .where(col("rank").le(perClass))
    .select("path", "label");
}
