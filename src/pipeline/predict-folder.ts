import type { ActionOptions } from "../connect/data-frame.ts";
import { col } from "../connect/functions.ts";
import type { SparkSession } from "../connect/spark-session.ts";
import type { S3Access } from "../s3.ts";
import type { Classifier } from "./classifier.ts";
import { PREDICTION_COLUMNS } from "./classifier.ts";
import { clusterShape, featurizePartitions } from "./cluster-cores.ts";
import { emptyFileRows, featurize } from "./featurize.ts";
import { imageInput } from "./image-input.ts";
import { readImages } from "./ingest.ts";
import { OUTPUT_LAYOUT, outputPath } from "./output-layout.ts";
import { outputStore } from "./output-store.ts";
import { PipelineError } from "./pipeline-error.ts";
import { checkInput, checkOutputAbsent, checkOutputPublishable } from "./preflight.ts";
import { abandonAttempt, newAttempt, publishOutput } from "./publish-output.ts";

/** What `orchard predict` needs, already validated. */
export interface PredictFolderOptions {
  /** The classifier folder (recorded in run.json). */
  readonly model: string;
  /** Folder of images, as the Spark server sees it. */
  readonly input: string;
  /** Output folder: `data/` (Parquet, one row per image) and `run.json`. */
  readonly output: string;
  readonly extensions: readonly string[];
  readonly mode: "overwrite" | "errorifexists";
  readonly sidecar: string;
  readonly bridge?: string;
  /** The sidecar's secret file on the Spark server's machine (see `PipelineOptions.sidecarSecretFile`). */
  readonly sidecarSecretFile?: string;
  /** The CNN the bridges must find the sidecar serving. */
  readonly expectedModel?: { readonly name: string; readonly sha256: string | null };
  readonly partitions?: number;
}

/** `run.json` of `orchard predict`. */
export interface PredictSummary {
  readonly orchardVersion: 1;
  readonly command: "predict";
  /** The run that published this output (its attempt folder's name), as in `orchard run`'s run.json. */
  readonly runId: string;
  readonly config: unknown;
  readonly model: string;
  readonly input: string;
  readonly output: string;
  readonly sparkVersion: string;
  /** Files listed, rows written, rows whose image failed (kept, with `error`). */
  readonly counts: { readonly filesIn: number; readonly rowsOut: number; readonly failed: number };
  readonly partitions: number;
  readonly wallMs: number;
  readonly imagesPerSecond: number;
}

/**
 * Classifies every image under `input` with `classifier` on the cluster (featurized through the
 * sidecars like `orchard run`) and writes `output/data/` as Parquet, one row per file:
 * `path, label, probability, top5 array<struct<label,probability>>, error`; a file that could not
 * be classified keeps its row with the error. Fails when rows in != rows out. Published like
 * `orchard run`'s output (publish-output.ts): written into `output/_attempts/<runId>/`, checked,
 * then moved into place with `run.json` last; a failed run leaves the previous output as it was.
 */
export async function predictFolder(
  spark: SparkSession,
  classifier: Classifier,
  options: PredictFolderOptions,
  context: { s3?: S3Access; configForRecord?: unknown; actionOptions?: ActionOptions } = {},
): Promise<PredictSummary> {
  const started = performance.now();
  checkOutputPublishable(options.output);
  const input = imageInput({ uri: options.input, extensions: options.extensions, s3: context.s3 });
  const [listing] = await Promise.all([
    checkInput(input),
    options.mode === "overwrite" ? undefined : checkOutputAbsent(options.output, context.s3),
  ]);
  const sparkVersion = await spark.version();
  const images = readImages(spark, input);
  const files = listing?.files ?? (await images.select("path").count(context.actionOptions));
  const emptyFiles = listing?.emptyFiles ?? [];
  const filesIn = files + emptyFiles.length;
  const cluster = await clusterShape(spark);
  const partitions = options.partitions ?? featurizePartitions(files, cluster.cores);
  const featurized = await input.withDriverListing(spark, () =>
    featurize(spark, images.repartition(partitions), {
      sidecar: options.sidecar,
      ...(options.bridge ? { bridge: options.bridge } : {}),
      ...(options.sidecarSecretFile && cluster.serverMachine ? { secretFile: options.sidecarSecretFile } : {}),
      ...(options.expectedModel ? { expectModel: options.expectedModel } : {}),
      view: "orchard_predict_images",
    }),
  );
  const all = emptyFiles.length ? featurized.unionByName(emptyFileRows(spark, emptyFiles)) : featurized;
  const store = outputStore(options.output, context.s3);
  const attempt = newAttempt(options.output);
  let publishing = false;
  try {
    const data = outputPath(attempt.uri, OUTPUT_LAYOUT.data);
    await classifier
      .classify(all)
      .select(...PREDICTION_COLUMNS)
      .write.mode("errorifexists")
      .parquet(data, undefined, context.actionOptions);
    const written = spark.read.parquet(data);
    const [rowsOut, failed] = await Promise.all([
      written.count(context.actionOptions),
      written.where(col("error").isNotNull()).count(context.actionOptions),
    ]);
    if (rowsOut !== filesIn) {
      throw new PipelineError({ message: `predict wrote ${rowsOut} rows for ${filesIn} input files: rows were lost` });
    }
    const wallMs = Math.round(performance.now() - started);
    const summary: PredictSummary = {
      orchardVersion: 1,
      command: "predict",
      runId: attempt.runId,
      config: context.configForRecord ?? null,
      model: options.model,
      input: options.input,
      output: options.output,
      sparkVersion,
      counts: { filesIn, rowsOut, failed },
      partitions,
      wallMs,
      imagesPerSecond: filesIn / (wallMs / 1000),
    };
    publishing = true;
    await publishOutput(store, {
      attempt,
      parts: [OUTPUT_LAYOUT.data],
      mode: "replace",
      // An --overwrite of another command's output: its other parts do not belong to this run.json.
      withdrawn: [OUTPUT_LAYOUT.files, OUTPUT_LAYOUT.pcaModel, OUTPUT_LAYOUT.reportHtml],
      runJson: `${JSON.stringify(summary, null, 2)}\n`,
    });
    return summary;
  } finally {
    if (!publishing) await abandonAttempt(store, attempt).catch(() => undefined);
  }
}
