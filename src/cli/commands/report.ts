import type { Command } from "commander";
import { DEFAULT_MAX_POINTS } from "../../pipeline/report-options.ts";
import type { CliContext } from "../cli-context.ts";
import { parseConfig } from "../config-parse.ts";
import { TOKEN_FILE_HELP } from "../token-help.ts";

// The option schemas (zod) load when a command runs, not when the program is built.
const options = () => import("./report-options.ts");

/**
 * `orchard report OUTPUT_URI`: rebuilds `report.html` of an existing output folder from its
 * `run.json`, `data/` and `pca-model/` (read through Spark, so s3a:// folders work too).
 */
export function registerReportCommand(program: Command, ctx: CliContext): void {
  program
    .command("report")
    .description("(re)write report.html of an output folder from its run.json, data/ and pca-model/")
    .argument("<output>", "output folder of orchard run/transform/fit: s3a://bucket/prefix, file:///path or a path")
    .option("--remote <url>", "Spark Connect URL (default $SPARK_REMOTE or sc://localhost:15002)")
    .option("--token-file <file>", TOKEN_FILE_HELP)
    .option(
      "--s3-endpoint <url>",
      "S3-compatible endpoint (MinIO); keys from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY",
    )
    .option("--max-points <n>", `at most n points in the 2-D projection (default ${DEFAULT_MAX_POINTS})`)
    .option("--clusters <n>", "KMeans clusters drawn over the classes (default: the number of labels)")
    .option(
      "--classifier <uri>",
      "a classifier folder of orchard train: adds its confusion matrix and per-class accuracy",
    )
    .action(
      async (
        output: string,
        raw: {
          remote?: string;
          tokenFile?: string;
          s3Endpoint?: string;
          maxPoints?: string;
          clusters?: string;
          classifier?: string;
        },
      ) => {
        // Loaded when the command runs, not when the program is built: `orchard --help` stays fast.
        const [
          { connectSpark, warnTokenInArgv },
          { outputStore },
          { regenerateReport, reportUri },
          pipelineConfig,
          { readTrainSummary },
        ] = await Promise.all([
          import("../spark-connect.ts"),
          import("../../pipeline/output-store.ts"),
          import("../../pipeline/report.ts"),
          import("../pipeline-config.ts"),
          import("../../pipeline/train-summary.ts"),
        ]);
        const { configFromEnv, parsePipelineConfig, s3Access } = pipelineConfig;
        const config = parsePipelineConfig({
          env: configFromEnv(ctx.env),
          flags: {
            input: output,
            output,
            remote: raw.remote,
            ...(raw.s3Endpoint ? { s3: { endpoint: raw.s3Endpoint } } : {}),
          },
        });
        const { maxPoints, clusters, classifier } = parseConfig((await options()).optionsSchema, {
          maxPoints: raw.maxPoints,
          clusters: raw.clusters,
          classifier: raw.classifier,
        });
        warnTokenInArgv(ctx, raw.remote);
        const spark = connectSpark(ctx, config.remote, raw.tokenFile);
        try {
          const trained = classifier
            ? await readTrainSummary(outputStore(classifier, s3Access(config)), classifier)
            : undefined;
          const data = await regenerateReport(spark, config.output, outputStore(config.output, s3Access(config)), {
            maxPoints,
            ...(clusters !== undefined ? { clusters } : {}),
            ...(trained && classifier
              ? { classifier: { model: classifier, metrics: trained.metrics, testRows: trained.split.testRows } }
              : {}),
          });
          const p = data.projection;
          ctx.err(
            `report: ${p ? `${p.points.length} of ${p.total} projected images drawn, ` : ""}${data.variance?.explained.length ?? 0} components on the variance curve, ${data.errorGroups} distinct errors`,
          );
          ctx.out(reportUri(config.output));
        } finally {
          await spark.stop().catch(() => undefined);
        }
      },
    );
}
