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
