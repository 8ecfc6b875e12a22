import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import { SetupError } from "../../errors.ts";

/** Lowest Java feature release Spark 4 runs on. */
const MIN_JAVA = 17;

/**
 * Finds the `java` Spark's launcher will use (`$JAVA_HOME/bin/java`, else the first on PATH) and
 * checks it is Java 17 or newer. Throws a SetupError that says what to install otherwise.
 */
export function checkJava(env: Readonly<Record<string, string | undefined>>): { java: string; version: number } {
  const java = findJava(env);
  if (!java) {
    throw new SetupError({
      component: "java",
      message: `Java ${MIN_JAVA} or newer is required to run Spark, and none was found (set JAVA_HOME or put java on PATH; e.g. apt-get install openjdk-17-jre-headless)`,
    });
  }
  const probe = spawnSync(java, ["-version"], { encoding: "utf8", env: { ...env } as NodeJS.ProcessEnv });
  const version = parseJavaVersion(`${probe.stderr ?? ""}${probe.stdout ?? ""}`);
  if (version === undefined || version < MIN_JAVA) {
    throw new SetupError({
      component: "java",
      message: `Java ${MIN_JAVA} or newer is required to run Spark; ${java} reports ${version ?? "an unknown version"}`,
    });
  }
  return { java, version };
}

/** The feature release from `java -version` output (`1.8.0_392` -> 8, `17.0.15` -> 17). */
export function parseJavaVersion(output: string): number | undefined {
  const m = /version "(\d+)(?:\.(\d+))?/.exec(output);
  if (!m) return undefined;
  const major = Number(m[1]);
  return major === 1 && m[2] !== undefined ? Number(m[2]) : major;
}

function findJava(env: Readonly<Record<string, string | undefined>>): string | undefined {
  if (env.JAVA_HOME) {
    const candidate = join(env.JAVA_HOME, "bin", "java");
    if (existsSync(candidate)) return candidate;
  }
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (dir && existsSync(join(dir, "java"))) return join(dir, "java");
  }
  return undefined;
}
