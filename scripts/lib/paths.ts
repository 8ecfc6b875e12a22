/** Where the project keeps what it installs: outside git, shared by scripts, tests and benches. */
import { existsSync, readdirSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export const SPARK_VERSION = "4.1.1";

export function cacheRoot(): string {
  return process.env.ORCHARD_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "orchard");
}

/** The Python virtualenv holding pyspark (the Spark runtime) and the Python interop tools. */
export function pythonVenv(): string {
  return join(cacheRoot(), "spark", "venv");
}

export function sparkHome(): string {
  if (process.env.ORCHARD_SPARK_HOME) return process.env.ORCHARD_SPARK_HOME;
  const lib = join(pythonVenv(), "lib");
  const py = existsSync(lib) ? readdirSync(lib).find((d) => d.startsWith("python3")) : undefined;
  return join(lib, py ?? "python3", "site-packages", "pyspark");
}
