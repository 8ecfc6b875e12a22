import { homedir } from "node:os";
import { cacheRootFromEnv } from "@orchard/udf-server/cache-root";
import { type InstallLayout, installLayout } from "./local/install-layout.ts";

/** What every command gets from the edge: the environment (read once, here) and where things live. */
export interface CliContext {
  /** The process environment, for values that are only ever taken from it (tokens, keys). */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly layout: InstallLayout;
  /** Pid files and logs of local servers the CLI starts (`~/.cache/orchard/run`, or `ORCHARD_RUN_DIR`). */
  readonly runDir: string;
  /** Normal output (results, status). */
  out(line: string): void;
  /** Diagnostics and progress. */
  err(line: string): void;
}

/** Builds the context from an environment (`ORCHARD_CACHE`, `ORCHARD_SPARK_HOME`, `ORCHARD_RUN_DIR`). */
export function cliContext(env: Readonly<Record<string, string | undefined>>): CliContext {
  const layout = installLayout(cacheRootFromEnv(env, homedir()), env.ORCHARD_SPARK_HOME || undefined);
  return {
    env,
    layout,
    runDir: env.ORCHARD_RUN_DIR || layout.runDir,
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  };
}
