import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { ConfigError, SetupError } from "../../errors.ts";
import type { CliContext } from "../cli-context.ts";
import { SETUP_PARTS } from "../local/install-layout.ts";

/** The parts installed when none is named: what `orchard run` and `orchard demo` need. */
const DEFAULT_PARTS = ["spark", "s3", "model"] as const;

/**
 * The set-up scripts shipped with this install: the repository's `scripts/` in a checkout, the
 * package's own copy when installed (this module sits at the same depth under `src/` and `dist/`).
 */
const SETUP_SCRIPT = fileURLToPath(new URL("../../../scripts/setup.sh", import.meta.url));

/**
 * `orchard setup [spark|s3|model|blas]...`: installs the local components, pinned and
 * checksum-checked, into orchard's cache (`ORCHARD_CACHE`, default `~/.cache/orchard`); each step
 * prints its progress and a second run returns at once.
 */
export function registerSetupCommand(program: Command, ctx: CliContext): void {
  program
    .command("setup")
    .description(
      `install local components into orchard's cache (${SETUP_PARTS.join(", ")}; default: ${DEFAULT_PARTS.join(", ")})`,
    )
    .argument("[parts...]", "what to install")
    .action(async (parts: string[]) => {
      const unknown = parts.find((p) => !(SETUP_PARTS as readonly string[]).includes(p));
      if (unknown !== undefined)
        throw new ConfigError({
          field: "setup part",
          expected: SETUP_PARTS.join(", "),
          message: `unknown setup part "${unknown}": expected one of ${SETUP_PARTS.join(", ")}`,
        });
      const chosen = parts.length > 0 ? parts : [...DEFAULT_PARTS];
      const code = await new Promise<number>((resolve, reject) => {
        const child = spawn("bash", [SETUP_SCRIPT, ...chosen], {
          env: { ...ctx.env, ORCHARD_CACHE: ctx.layout.cacheRoot },
          stdio: ["ignore", "inherit", "inherit"],
        });
        child.once("error", reject);
        child.once("exit", (exit, signal) => resolve(exit ?? (signal ? 128 : 1)));
      });
      if (code !== 0)
        throw new SetupError({
          component: chosen.join(", "),
          message: `setup of ${chosen.join(", ")} failed (exit ${code}); the lines above say which step`,
        });
      ctx.out(`ready: ${chosen.join(", ")} in ${ctx.layout.cacheRoot}`);
    });
}
