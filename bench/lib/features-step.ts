/**
 * The pipeline's features step alone, as `run-pipeline.ts` runs it: binaryFile -> featurize tasks
 * (merged or split to `featurizePartitions(images, slots)`) -> TRANSFORM through the bridges ->
 * the sidecar -> `from_json`, persisted and counted, then unpersisted. For the A/B benches and
 * the profile, which time this step without the PCA and the write.
 */
import { pathToFileURL } from "node:url";
import { col, count, lit, max, size, when } from "../../src/connect/functions.ts";
import { persist, unpersist } from "../../src/connect/persistence.ts";
import type { SparkSession } from "../../src/connect/spark-session.ts";
import { featurizePartitions } from "../../src/pipeline/cluster-cores.ts";
import { featurize } from "../../src/pipeline/featurize.ts";
import { readImages } from "../../src/pipeline/ingest.ts";

export interface FeaturesStepOptions {
  /** Folder of JPEG images (one folder per class). */
  input: string;
  /** How many images it holds. */
  images: number;
  /** Task slots of the server (`local[N]`: N). */
  slots: number;
  sidecar: string;
  secretFile: string;
  /** The bridge command, to profile it (default: orchard's bridge). */
  bridge?: string;
}

/** Runs the step once; its wall seconds, rows, rows with an error, and the features' length. */
export async function featuresStep(
  spark: SparkSession,
  o: FeaturesStepOptions,
): Promise<{ seconds: number; rows: number; failed: number; dim: number }> {
  const t0 = performance.now();
  const files = readImages(spark, { uri: pathToFileURL(o.input).href, extensions: ["jpg"] });
  const partitions = featurizePartitions(o.images, o.slots);
  const tasks = o.images >= 32 * partitions ? files.coalesce(partitions) : files.repartition(partitions);
  const featurized = await persist(
    await featurize(spark, tasks, {
      sidecar: o.sidecar,
      secretFile: o.secretFile,
      ...(o.bridge ? { bridge: o.bridge } : {}),
    }),
  );
  const row = await featurized
    .agg(count(lit(1)), count(col("error")), max(when(col("error").isNull(), size(col("features")))))
    .first();
  const seconds = (performance.now() - t0) / 1000;
  await unpersist(featurized);
  return { seconds, rows: Number(row?.get(0)), failed: Number(row?.get(1)), dim: Number(row?.get(2)) };
}
