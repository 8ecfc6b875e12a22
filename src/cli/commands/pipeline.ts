import type { Command } from "commander";
import type { CliContext } from "../cli-context.ts";
import { DEVICE_HELP } from "../device-help.ts";
import { TOKEN_FILE_HELP } from "../token-help.ts";

/** The pipeline commands. */
export type Flavour = "run" | "fit" | "transform";

const DESCRIPTIONS: Record<Flavour, string> = {
  run: "the whole pipeline: images -> CNN features -> PCA (fitted) -> Parquet, model, run.json",
  fit: "fit the PCA on the images and save it (pca-model/, run.json); no data/ is written",
  transform: "project images with a saved PCA model (--pca-model) -> Parquet, run.json",
};

/** The options `run`, `fit` and `transform` share. */
function pipelineCommand(program: Command, flavour: Flavour): Command {
  const cmd = program
    .command(flavour)
    .description(DESCRIPTIONS[flavour])
    .option("--input <uri>", "folder of images: s3a://bucket/prefix, file:///path or a local path")
    .option("--output <uri>", "output folder (data/, pca-model/, run.json)")
    .option("--model <name|path>", "CNN served by the sidecar (default efficientnet-lite0)")
    .option("--sample <n>", "at most n images per class, chosen deterministically")
    .option("--keep-features", "keep the CNN features in data/ (features array<float>)")
    .option("--extensions <list>", "comma-separated file extensions to read", (v: string) => v.split(","))
    .option("--partitions <n>", "featurize tasks (default: from the cluster's cores and the image count)")
    .option("--overwrite", "replace an existing output folder (default: refuse)")
    .option("--remote <url>", "Spark Connect URL (default $SPARK_REMOTE or sc://localhost:15002)")
    .option("--token-file <file>", TOKEN_FILE_HELP)
    .option("--sidecar <host:port>", "the sidecar on each executor node (default 127.0.0.1:8815)")
    .option(
      "--image-transport <path|bytes>",
      "path (default): the sidecar on each node reads a file: input's images itself; bytes: Spark reads them and pipes them (s3a:// and other inputs always go as bytes)",
    )
    .option("--device <cpu|cuda|auto>", `${DEVICE_HELP}; for a sidecar this run starts`)
    .option(
      "--bridge <command>",
      "the bridge command Spark's executors run, e.g. orchard-bridge: words without shell metacharacters (default: this install's orchard-bridge)",
    )
    .option(
      "--s3-endpoint <url>",
      "S3-compatible endpoint (MinIO); keys from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY",
    )
    .option("--config <file.json>", "read settings from a JSON file (flags win)")
    .option("--no-start", "never start local Spark or the sidecar; fail if they are not running")
    .option("--quiet", "no progress output (the summary is still printed)");
  if (flavour === "run") {
    cmd
      .option(
        "--incremental",
        "update the earlier run's --output: featurize only new and changed files, project them with its saved PCA",
      )
      .option("--refit", "with --incremental: fit the PCA again on every row (from kept features, or featurizing all)")
      .option("--prune", "with --incremental: drop the rows of files no longer in the input (default: keep, report)");
  }
  if (flavour !== "transform") {
    cmd
      .option("--k <n>", "number of principal components")
      .option("--variance <share>", "keep the fewest components explaining this share of variance (default 0.95)");
  } else {
    cmd.requiredOption("--pca-model <uri>", "a PCA model saved by orchard run/fit (Spark ML format)");
    cmd.option("--k <n>", "keep only the first n components of the model");
  }
  return cmd;
}

/** `orchard run | fit | transform`. */
export function registerPipelineCommands(program: Command, ctx: CliContext): void {
  for (const flavour of ["run", "fit", "transform"] as const) {
    pipelineCommand(program, flavour).action(async (raw: Record<string, unknown>) => {
      // Loaded when the command runs, not when the program is built: `orchard --help` stays fast.
      const { runPipelineCommand } = await import("../pipeline-run.ts");
      await runPipelineCommand(ctx, raw, flavour, { startSpark: false });
    });
  }
}
