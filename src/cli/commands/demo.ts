import { existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Command } from "commander";
import { SetupError } from "../../errors.ts";
import type { CliContext } from "../cli-context.ts";

/**
 * `orchard demo`: the embedded default. Runs the whole pipeline on the sample fruit set (built by
 * `npm run demo`'s set-up step), starting a local Spark and the sidecar when none answers, and
 * stopping what it started.
 */
export function registerDemoCommand(program: Command, ctx: CliContext): void {
  program
    .command("demo")
    .description("run the pipeline on the sample fruit images (starts local Spark and the sidecar if needed)")
    .option("--sample <n>", "at most n images per class (default: all 27 training images of each class)")
    .option("--output <uri>", "output folder (default: the demo folder in orchard's cache)")
    .option("--k <n>", "number of principal components (default: enough for 95% of the variance)")
    .option("--quiet", "no progress output (the summary is still printed)")
    .action(async (raw: { sample?: string; output?: string; k?: string; quiet?: boolean }) => {
      const fruits = join(ctx.layout.cacheRoot, "data", "fruits", "Training");
      if (!existsSync(fruits)) {
        throw new SetupError({
          component: "sample data",
          message: `the sample images are not built yet (${fruits}); run \`npm run demo\` or \`bash scripts/setup.sh data\``,
        });
      }
      const output = raw.output ?? pathToFileURL(join(ctx.layout.cacheRoot, "demo", "output")).href;
      ctx.err(`orchard demo: ${fruits} -> ${output}`);
      const { runPipelineCommand } = await import("../pipeline-run.ts");
      const summary = await runPipelineCommand(
        ctx,
        {
          input: fruits,
          output,
          overwrite: true,
          ...(raw.sample ? { sample: raw.sample } : {}),
          ...(raw.k ? { k: raw.k } : {}),
          ...(raw.quiet ? { quiet: true } : {}),
        },
        "run",
        { startSpark: true },
      );
      ctx.out(`run.json:      ${summary.output.replace(/\/+$/, "")}/run.json`);
    });
}
