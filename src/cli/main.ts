/** Entry of the `orchard` command (`bin/orchard.mjs`): reads the environment once, runs, exits. */
import { cliContext } from "./cli-context.ts";
import { runCli } from "./program.ts";

// The AWS SDK (S3 uploads) would print a notice about its future Node 22 requirement on every run.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
process.exitCode = await runCli(process.argv.slice(2), cliContext(process.env));
