import { join } from "node:path";
import type { Command } from "commander";
import type { CliContext } from "../cli-context.ts";
import { parseConfig } from "../config-parse.ts";
import { TOKEN_FILE_HELP } from "../token-help.ts";

// The option schemas (zod) load when a command runs, not when the program is built.
const options = () => import("./shell-options.ts");

/**
 * `orchard shell`: an interactive Node REPL connected to Spark (`SPARK_REMOTE`, `--remote`, or a
 * local server started for the session and stopped when it ends), with `spark`, `F`, `col`,
 * `lit` bound.
 */
export function registerShellCommand(program: Command, ctx: CliContext): void {
  program
    .command("shell")
    .description("interactive REPL (top-level await) with spark, F, col, lit bound; Ctrl-C interrupts a running query")
    .option("--remote <url>", "Spark Connect URL (default $SPARK_REMOTE or sc://localhost:15002)")
    .option("--token-file <file>", TOKEN_FILE_HELP)
    .option("--no-start", "never start a local Spark; fail if none answers")
    .option("--no-progress", "no progress bar for running actions")
    .action(async (raw: { remote?: string; tokenFile?: string; start?: boolean; progress?: boolean }) => {
      const opts = parseConfig((await options()).shellOptions, {
        remote: raw.remote ?? (ctx.env.SPARK_REMOTE || undefined),
        sidecar: ctx.env.ORCHARD_SIDECAR || undefined,
        start: raw.start,
        progress: raw.progress,
      });
      // Loaded when the shell starts, not when the program is built: `orchard --help` stays fast.
      const [{ connectSpark, warnTokenInArgv }, { ensureLocalStack }, { runShell }, { localSecretFile }] =
        await Promise.all([
          import("../spark-connect.ts"),
          import("../local-stack.ts"),
          import("../shell-repl.ts"),
          import("../sidecar-secret-file.ts"),
        ]);
      const stack = opts.start
        ? await ensureLocalStack(
            {
              remote: opts.remote,
              sidecar: opts.sidecar,
              model: opts.model,
              startSpark: true,
              secretFile: localSecretFile(ctx, opts.sidecar, ctx.env.ORCHARD_SIDECAR_SECRET_FILE || undefined),
            },
            ctx,
          )
        : undefined;
      warnTokenInArgv(ctx, raw.remote);
      // After the stack is up: a Spark started just now has just written its token file.
      const spark = connectSpark(ctx, opts.remote, raw.tokenFile);
      try {
        const version = await spark.version();
        ctx.err(`orchard shell: Spark ${version} at ${spark.remoteUrl}`);
        ctx.err(
          "bound: spark, F (functions), col, lit, expr, when. Top-level await works; Ctrl-C interrupts a query; .exit leaves.",
        );
        await runShell({
          spark,
          input: process.stdin,
          output: process.stdout,
          progress: opts.progress && process.stderr.isTTY === true,
          historyFile: join(ctx.layout.cacheRoot, "shell_history"),
        });
      } finally {
        await spark.stop().catch(() => undefined);
        await stack?.stop();
      }
    });
}
