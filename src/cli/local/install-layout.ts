import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { HADOOP_CLOUD_JAR } from "./output-committer.ts";

/** Pinned Spark release the project installs and tests against. */
export const SPARK_VERSION = "4.1.1";

/** Where each locally installed component lives inside orchard's cache folder (outside git). */
export interface InstallLayout {
  /** The cache root, `~/.cache/orchard` unless `ORCHARD_CACHE` says otherwise. */
  readonly cacheRoot: string;
  /** The Python virtualenv holding pyspark (the Spark runtime) and the Python interop tools. */
  readonly pythonVenv: string;
  /** SPARK_HOME of the pinned Spark (pyspark's bundled runtime). */
  readonly sparkHome: string;
  /**
   * The hadoop-aws and AWS SDK bundle jars that give Spark the `s3a://` file system, and
   * spark-hadoop-cloud, which binds Spark's commit protocol to the S3A committers (`--jars`);
   * none when the Spark home already holds them all in its `jars/` (a distribution built with
   * them, such as orchard's node image).
   */
  readonly s3aJars: readonly string[];
  /** The S3 server installation (MinIO binary or moto venv). */
  readonly s3Dir: string;
  /** Pid files, logs and working folders of local servers started by the CLI. */
  readonly runDir: string;
}

/** The S3A jars installed by `scripts/setup-spark.sh`, file names in the order given to `--jars`. */
export const S3A_JAR_NAMES = ["hadoop-aws-3.4.2.jar", "bundle-2.29.52.jar", HADOOP_CLOUD_JAR] as const;

/**
 * Computes the install layout for a cache root. Pure apart from finding the venv's
 * `python3.X` folder and looking into an override's `jars/`; `sparkHomeOverride` replaces the
 * bundled Spark (e.g. a full distribution).
 */
export function installLayout(cacheRoot: string, sparkHomeOverride?: string): InstallLayout {
  const pythonVenv = join(cacheRoot, "spark", "venv");
  const lib = join(pythonVenv, "lib");
  const py = existsSync(lib) ? readdirSync(lib).find((d) => d.startsWith("python3")) : undefined;
  const bundled =
    sparkHomeOverride !== undefined && S3A_JAR_NAMES.every((name) => existsSync(join(sparkHomeOverride, "jars", name)));
  return {
    cacheRoot,
    pythonVenv,
    sparkHome: sparkHomeOverride ?? join(lib, py ?? "python3", "site-packages", "pyspark"),
    s3aJars: bundled ? [] : S3A_JAR_NAMES.map((name) => join(cacheRoot, "spark", "s3a", name)),
    s3Dir: join(cacheRoot, "s3"),
    runDir: join(cacheRoot, "run"),
  };
}

/** What `orchard setup` can install into the cache. */
export const SETUP_PARTS = ["spark", "s3", "model", "blas"] as const;

/** The one line that tells a user how to install a missing part. */
export function setupHint(part: (typeof SETUP_PARTS)[number]): string {
  return `run \`npx orchard setup ${part}\``;
}
