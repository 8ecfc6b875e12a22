import type { Command } from "commander";
import type { CliContext } from "../cli-context.ts";

/** The options `train` and `predict` share with the pipeline commands. */
function common(cmd: Command): Command {
  return cmd
    .option("--extensions <list>", "comma-separated file extensions to read", (v: string) => v.split(","))
    .option("--partitions <n>", "featurize tasks (default: from the cluster's cores and the image count)")
    .option("--overwrite", "replace an existing output folder (default: refuse)")
    .option("--remote <url>", "Spark Connect URL (default $SPARK_REMOTE or sc://localhost:15002)")
    .option("--sidecar <host:port>", "the sidecar on each executor node (default 127.0.0.1:8815)")
    .option("--bridge <command>", "the command Spark's executors run (default: this install's orchard-bridge)")
    .option(
      "--s3-endpoint <url>",
      "S3-compatible endpoint (MinIO); keys from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY",
    )
    .option("--config <file.json>", "read settings from a JSON file (flags win)")
    .option("--no-start", "never start the local sidecar; fail if it is not running")
    .option("--quiet", "no progress output (the summary is still printed)");
}

/**
 * `orchard train` (a classifier on a run's PCA features) and `orchard predict` (that classifier
 * over a folder of images).
 */
export function registerTrainCommands(program: Command, ctx: CliContext): void {
  common(
    program
      .command("train")
      .description(
        "train a classifier (multinomial logistic regression) on the PCA features of an orchard output, or of images (featurized first)",
      )
      .option("--input <uri>", "an orchard output folder (run.json, data/, pca-model/) or a folder of images")
      .option("--output <uri>", "the classifier folder to write (pca-model/, label-index/, classifier/, run.json)")
      .option("--test-fraction <share>", "share of each label's rows held out for the test set (default 0.2)")
      .option("--test-folder <name>", "instead: the rows under a folder of this name are the test set (e.g. Test)")
      .option("--seed <n>", "seed of the split and of KMeans (default 42)")
      .option("--reg-param <x>", "LogisticRegression regParam (default 0.001)")
      .option("--max-iter <n>", "LogisticRegression maxIter (default 200)")
      .option("--clusters <n>", "KMeans clusters for the clustering figures (default: the number of labels)")
      .option("--model <name|path>", "with images: the CNN served by the sidecar (default efficientnet-lite0)")
      .option("--sample <n>", "with images: at most n images per class")
      .option("--k <n>", "with images: number of principal components")
      .option("--variance <share>", "with images: the fewest components explaining this share (default 0.95)"),
  ).action(async (raw: Record<string, unknown>) => {
    const { runTrainCommand } = await import("../classifier-run.ts");
    await runTrainCommand(ctx, raw);
  });

  common(
    program
      .command("predict")
      .description("classify every image of a folder with a classifier of orchard train -> Parquet, run.json")
      .requiredOption("--model <uri>", "the classifier folder written by orchard train")
      .option("--input <uri>", "folder of images: s3a://bucket/prefix, file:///path or a local path")
      .option("--output <uri>", "output folder (data/: path, label, probability, top5, error; run.json)"),
  ).action(async (raw: Record<string, unknown>) => {
    const { runPredictCommand } = await import("../classifier-run.ts");
    await runPredictCommand(ctx, raw);
  });
}
