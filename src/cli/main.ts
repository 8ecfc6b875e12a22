/** Entry of the `orchard` command (`bin/orchard.mjs`): reads the environment once, runs, exits. */
import { cliContext } from "./cli-context.ts";
import { runCli } from "./program.ts";

process.exitCode = await runCli(process.argv.slice(2), cliContext(process.env));
