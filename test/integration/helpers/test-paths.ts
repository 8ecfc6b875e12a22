import { existsSync, readdirSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { cacheRootFromEnv } from "@orchard/udf-server/cache-root";
import { type InstallLayout, installLayout } from "../../../src/cli/local/install-layout.ts";

/** Repository root (tests run from anywhere). */
export const REPO_ROOT = resolve(import.meta.dirname, "..", "..", "..");

/** Folder for logs of servers the tests start (git-ignored). */
export const TEST_LOG_DIR = join(REPO_ROOT, "test-artifacts", "logs");

/** Install layout from this process's environment (`ORCHARD_CACHE`, `ORCHARD_SPARK_HOME`). */
export function testLayout(): InstallLayout {
  return installLayout(cacheRootFromEnv(process.env, homedir()), process.env.ORCHARD_SPARK_HOME || undefined);
}

/**
 * The install layout of the Spark 4.0.2 that `scripts/setup.sh spark40` installs (EMR's
 * emr-spark-8.0.0 release): its SPARK_HOME, and S3A as hadoop-aws 3.4.1 (Spark 4.0's Hadoop) with
 * the pinned install's AWS SDK bundle; not the pinned spark-hadoop-cloud, built for Spark 4.1.1
 * (so that server commits with Spark's default protocol). Undefined when it is not installed.
 */
export function spark40Layout(): InstallLayout | undefined {
  const pinned = testLayout();
  const root = join(pinned.cacheRoot, "spark-4.0");
  const lib = join(root, "venv", "lib");
  const py = existsSync(lib) ? readdirSync(lib).find((d) => d.startsWith("python3")) : undefined;
  if (py === undefined) return undefined;
  const sparkHome = join(lib, py, "site-packages", "pyspark");
  const s3aJars = [
    join(root, "s3a", "hadoop-aws-3.4.1.jar"),
    ...pinned.s3aJars.filter((j) => !/hadoop-aws|spark-hadoop-cloud/.test(j)),
  ];
  if (!existsSync(join(sparkHome, "bin", "spark-submit")) || !s3aJars.every((j) => existsSync(j))) return undefined;
  return { ...pinned, pythonVenv: join(root, "venv"), sparkHome, s3aJars };
}
