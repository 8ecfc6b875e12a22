import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { constants } from "node:os";
import { extname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { SetupError } from "../../errors.ts";

/** orchard's own pipeline commands, which `orchard submit` runs like a driver script. */
export const PIPELINE_DRIVERS = ["run", "fit", "transform"] as const;

/** File extensions `orchard submit` runs: TypeScript through tsx, JavaScript with plain node. */
export const TYPESCRIPT_EXTENSIONS = [".ts", ".mts", ".cts"] as const;
export const JAVASCRIPT_EXTENSIONS = [".js", ".mjs", ".cjs"] as const;

/** What `orchard submit` runs as the Spark application's driver. */
export type DriverSpec =
  | { readonly kind: "pipeline"; readonly command: (typeof PIPELINE_DRIVERS)[number]; readonly args: readonly string[] }
  | { readonly kind: "script"; readonly path: string; readonly args: readonly string[] };

/** Where the runtimes a driver needs are (from this install, or the script's own project). */
export interface DriverRuntime {
  /** The node binary (`process.execPath`). */
  readonly node: string;
  /** orchard's own `bin/orchard.mjs`, for the pipeline commands. */
  readonly orchardBin: string;
  /**
   * In a checkout of the repository: the loader that makes node run orchard's TypeScript sources
   * (tsx plus the `@orchard/source` export condition), so `import "orchard"` resolves to src/.
   */
  readonly sourceModeLoader?: string;
  /** tsx's loader (`--import`), when a tsx install can be found; undefined otherwise. */
  readonly tsxLoader?: string;
}

/** The process a driver runs as. Its arguments never contain secrets: those go by environment. */
export interface DriverCommand {
  readonly command: string;
  readonly args: readonly string[];
}

/**
 * The command line of a driver: `node bin/orchard.mjs run ...` for a pipeline command,
 * `node --import <tsx> script.ts ...` for TypeScript (orchard's source-mode loader in a checkout),
 * `node script.js ...` for JavaScript. Throws a {@link SetupError} for TypeScript without tsx.
 */
export function driverCommand(driver: DriverSpec, runtime: DriverRuntime): DriverCommand {
  if (driver.kind === "pipeline") {
    return { command: runtime.node, args: [runtime.orchardBin, driver.command, ...driver.args] };
  }
  const ext = extname(driver.path).toLowerCase();
  if ((TYPESCRIPT_EXTENSIONS as readonly string[]).includes(ext)) {
    const loader = runtime.sourceModeLoader ?? runtime.tsxLoader;
    if (!loader) {
      throw new SetupError({
        component: "tsx",
        message: `${driver.path} is TypeScript, and no tsx was found to run it: install it beside the script (npm install --save-dev tsx), or compile the script to .js`,
      });
    }
    return { command: runtime.node, args: ["--import", loader, driver.path, ...driver.args] };
  }
  return { command: runtime.node, args: [driver.path, ...driver.args] };
}

/**
 * The runtimes of this install: in a checkout (orchard running from its .ts sources) the
 * source-mode loader beside it; tsx resolved from the script's folder first (the user's project),
 * then from orchard's own dependencies.
 */
export function driverRuntime(scriptPath: string | undefined): DriverRuntime {
  const here = import.meta.url;
  // src/cli/local/driver-process.ts and dist/cli/local/driver-process.js are both 3 levels deep.
  const orchardBin = fileURLToPath(new URL("../../../bin/orchard.mjs", here));
  const sourceMode = new URL("../../../udf-server/bin/source-mode.mjs", here);
  const inCheckout = here.endsWith(".ts") && existsSync(sourceMode);
  return {
    node: process.execPath,
    orchardBin,
    ...(inCheckout ? { sourceModeLoader: sourceMode.href } : {}),
    ...tsxFrom([...(scriptPath ? [scriptPath] : []), fileURLToPath(here)]),
  };
}

function tsxFrom(parents: readonly string[]): { tsxLoader?: string } {
  for (const parent of parents) {
    try {
      return { tsxLoader: pathToFileURL(createRequire(parent).resolve("tsx")).href };
    } catch {
      // not installed there
    }
  }
  return {};
}

/** Signals a driver gets forwarded, as spark-submit's client mode would deliver them. */
const FORWARDED = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

export interface RunningDriver {
  readonly pid: number;
  /** Resolves with the driver's exit code (128 + signal number when a signal ended it). */
  readonly exited: Promise<number>;
  /** Delivers `signal` to the driver (no-op once it has exited). */
  signal(signal: NodeJS.Signals): void;
}

/**
 * Starts the driver in this process's group, so that it keeps the terminal (reads stdin,
 * receives a terminal's Ctrl-C itself), with its stdout and stderr streaming straight through.
 */
export function startDriver(command: DriverCommand, env: Readonly<Record<string, string | undefined>>): RunningDriver {
  const child = spawn(command.command, [...command.args], { stdio: "inherit", env: { ...env } });
  let done = false;
  const exited = new Promise<number>((resolve, reject) => {
    child.once("error", (err) => {
      done = true;
      reject(
        new SetupError({
          component: "driver",
          message: `could not start ${command.command}: ${err.message}`,
          cause: err,
        }),
      );
    });
    child.once("exit", (code, signal) => {
      done = true;
      resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0));
    });
  });
  return {
    pid: child.pid ?? -1,
    exited,
    signal: (signal) => {
      if (!done) child.kill(signal);
    },
  };
}

/**
 * While `phase()` runs, SIGINT/SIGTERM/SIGHUP are this process's to handle: `onSignal` gets each
 * with how many have arrived. Handlers are removed afterwards. Keeps node from dying on the
 * first Ctrl-C, so that what was started is always stopped.
 */
export async function withSignals<T>(
  onSignal: (signal: NodeJS.Signals, count: number) => void,
  phase: () => Promise<T>,
): Promise<T> {
  let count = 0;
  const handler = (signal: NodeJS.Signals) => onSignal(signal, ++count);
  for (const s of FORWARDED) process.on(s, handler);
  try {
    return await phase();
  } finally {
    for (const s of FORWARDED) process.off(s, handler);
  }
}
