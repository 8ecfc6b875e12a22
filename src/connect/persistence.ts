import { create } from "@bufbuild/protobuf";
import * as pb from "#connect-proto";
import type { DataFrame } from "./data-frame.ts";
import { clientOf, relationOf } from "./internal.ts";

/** Where cached partitions live. PySpark: `pyspark.StorageLevel`. */
export interface StorageLevel {
  readonly useDisk: boolean;
  readonly useMemory: boolean;
  readonly useOffHeap: boolean;
  readonly deserialized: boolean;
  readonly replication: number;
}

/** PySpark's `StorageLevel.MEMORY_AND_DISK` (the default of `DataFrame.persist`). */
export const MEMORY_AND_DISK: StorageLevel = {
  useDisk: true,
  useMemory: true,
  useOffHeap: false,
  deserialized: true,
  replication: 1,
};

/**
 * Marks `df` to be cached by the server when first computed (PySpark: `df.persist(level)`);
 * returns `df` itself, like PySpark. Caching is keyed by the plan, so later DataFrames derived
 * from `df` reuse the cached partitions.
 */
export async function persist(df: DataFrame, level: StorageLevel = MEMORY_AND_DISK): Promise<DataFrame> {
  await clientOf(df.sparkSession).analyze({
    case: "persist",
    value: create(pb.AnalyzePlanRequest_PersistSchema, {
      relation: relationOf(df),
      storageLevel: create(pb.StorageLevelSchema, level),
    }),
  });
  return df;
}

/** Drops `df`'s cached partitions (PySpark: `df.unpersist(blocking)`). */
export async function unpersist(df: DataFrame, blocking = false): Promise<void> {
  await clientOf(df.sparkSession).analyze({
    case: "unpersist",
    value: create(pb.AnalyzePlanRequest_UnpersistSchema, { relation: relationOf(df), blocking }),
  });
}
