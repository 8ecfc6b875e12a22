/** Entry of the `orchard` command (`bin/orchard.mjs`): reads the environment once, runs, exits. */
import { cliContext } from "./cli-context.ts";
import { runCli } from "./program.ts";

// The AWS SDK (S3 uploads) would print a notice about its future Node 22 requirement on every run.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
// A reader that stops early (`orchard estimate ... | head`) closes the pipe: stop quietly, as
// Unix tools do on SIGPIPE, instead of dying on an unhandled EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(0);
    throw err;
  });
}
process.exitCode = await runCli(process.argv.slice(2), cliContext(process.env));
