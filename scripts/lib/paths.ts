/** Where the project keeps what it installs: outside git, shared by scripts, tests and benches. */
import { homedir } from "node:os";
import { cacheRootFromEnv } from "@orchard/udf-server/cache-root";
import { type InstallLayout, installLayout } from "../../src/cli/local/install-layout.ts";

export function cacheRoot(): string {
  return cacheRootFromEnv(process.env, homedir());
}

/** The whole install layout for this process's environment (`ORCHARD_CACHE`, `ORCHARD_SPARK_HOME`). */
function layout(): InstallLayout {
  return installLayout(cacheRoot(), process.env.ORCHARD_SPARK_HOME || undefined);
}

/** The Python virtualenv holding pyspark (the Spark runtime) and the Python interop tools. */
export function pythonVenv(): string {
  return layout().pythonVenv;
}

export function sparkHome(): string {
  return layout().sparkHome;
}
