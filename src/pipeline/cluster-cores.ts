import type { SparkSession } from "../connect/spark-session.ts";

/** What the pipeline needs to know of the cluster behind a session. */
export interface ClusterShape {
  /** Task slots: `spark.default.parallelism` when set, else from the master / executors. */
  readonly cores: number;
  /** The master is `local[...]`: driver and executor are one JVM on one machine. */
  readonly local: boolean;
  /** The executors run on the Spark server's machine (`local[...]` or `local-cluster[...]`). */
  readonly serverMachine: boolean;
}

/**
 * The cluster's task slots and whether it is local, read from the session's Spark conf (Spark
 * Connect has no `defaultParallelism`): `spark.default.parallelism` when set, else `local[N]` /
 * `local[*]` (the server's cores are unknown: 2 assumed), else executors x cores per executor.
 */
export async function clusterShape(spark: SparkSession): Promise<ClusterShape> {
  const [parallelism, master, executors, coresPerExecutor] = await Promise.all([
    spark.conf.get("spark.default.parallelism", null),
    spark.conf.get("spark.master", null),
    spark.conf.get("spark.executor.instances", null),
    spark.conf.get("spark.executor.cores", null),
  ]);
  return shapeOf({ parallelism, master, executors, coresPerExecutor });
}

/** {@link clusterShape} from the four settings it reads (null when unset). */
export function shapeOf(conf: {
  parallelism: string | null;
  master: string | null;
  executors: string | null;
  coresPerExecutor: string | null;
}): ClusterShape {
  const local = /^local(?:\[|$)/.test(conf.master ?? "");
  const serverMachine = /^local(?:\[|-cluster\[|$)/.test(conf.master ?? "");
  const n = Number(conf.parallelism);
  if (conf.parallelism && n > 0) return { cores: n, local, serverMachine };
  const localCores = /^local(?:-cluster)?\[(\d+|\*)/.exec(conf.master ?? "");
  if (localCores) return { cores: localCores[1] === "*" ? 2 : Number(localCores[1]), local, serverMachine };
  const total = Number(conf.executors ?? 0) * Number(conf.coresPerExecutor ?? 1);
  return { cores: total > 0 ? total : 2, local, serverMachine };
}

/**
 * Featurize tasks for `images` images on `cores` slots: whole waves (a multiple of `cores`, so no
 * slot idles in a last, partial wave) of at most ~2000 images per task, so a failed task costs
 * little. As few waves as that allows: every task starts a bridge, and on the 2-core box two waves
 * of the sample set (1188 images) featurized at 0.69-0.76 of the raw loop against 0.80-0.85 for one.
 */
export function featurizePartitions(images: number, cores: number): number {
  return Math.max(1, Math.min(cores * Math.ceil(images / (2000 * cores)), images));
}
