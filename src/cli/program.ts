import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { OrchardError } from "../errors.ts";
import type { CliContext } from "./cli-context.ts";
import { registerDemoCommand } from "./commands/demo.ts";
import { registerEmrCommand } from "./commands/emr.ts";
import { registerEstimateCommand } from "./commands/estimate.ts";
import { registerPipelineCommands } from "./commands/pipeline.ts";
import { registerReportCommand } from "./commands/report.ts";
import { registerS3Command } from "./commands/s3.ts";
import { registerSetupCommand } from "./commands/setup.ts";
import { registerShellCommand } from "./commands/shell.ts";
import { registerSidecarCommand } from "./commands/sidecar.ts";
import { registerSparkCommand } from "./commands/spark.ts";
import { registerSubmitCommand } from "./commands/submit.ts";
import { registerTrainCommands } from "./commands/train.ts";
import { EXIT, ExitWith, exitCodeFor } from "./exit-codes.ts";

/**
 * Every `orchard` sub-command, in help order. A command lives in its own file under
 * `commands/` and exports `register<Name>Command(program, ctx)`; add it to this list.
 */
const COMMANDS: readonly ((program: Command, ctx: CliContext) => void)[] = [
  registerPipelineCommands,
  registerTrainCommands,
  registerDemoCommand,
  registerReportCommand,
  registerShellCommand,
  registerSubmitCommand,
  registerSparkCommand,
  registerSidecarCommand,
  registerS3Command,
  registerSetupCommand,
  registerEmrCommand,
  registerEstimateCommand,
];

/** Builds the `orchard` program: global settings, then each registered command. */
function buildProgram(ctx: CliContext): Command {
  const program = new Command("orchard")
    .description("Images on S3 -> CNN features -> Spark ML PCA -> Parquet, driven from TypeScript via Spark Connect")
    .version(packageVersion(), "-V, --version")
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (text) => ctx.out(text.trimEnd()),
      writeErr: (text) => ctx.err(text.trimEnd()),
      outputError: (text, write) => write(`orchard: ${text.replace(/^error: /, "")}`),
    });
  for (const register of COMMANDS) register(program, ctx);
  return program;
}

/**
 * Runs the command line and returns the exit code. Errors end here: an {@link OrchardError}
 * prints one `orchard: <message>` line (its cause and stack only with ORCHARD_DEBUG=1) and maps
 * to 2 (config), 3 (setup/connection) or 1; anything else is reported as unexpected (1).
 */
export async function runCli(argv: readonly string[], ctx: CliContext): Promise<number> {
  const debug = ctx.env.ORCHARD_DEBUG === "1";
  try {
    await buildProgram(ctx).parseAsync([...argv], { from: "user" });
    return EXIT.ok;
  } catch (err) {
    if (err instanceof ExitWith) return err.code;
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.config;
    if (err instanceof OrchardError) {
      ctx.err(`orchard: ${err.message}`);
      if (debug) ctx.err(String(err.stack ?? ""));
      if (debug && err.cause !== undefined) ctx.err(`caused by: ${describe(err.cause)}`);
      return exitCodeFor(err);
    }
    ctx.err(`orchard: unexpected error: ${describe(err)}${debug ? "" : " (ORCHARD_DEBUG=1 shows the stack)"}`);
    if (debug && err instanceof Error) ctx.err(String(err.stack ?? ""));
    return EXIT.failure;
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}
