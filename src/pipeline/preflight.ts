import { ConfigError, OrchardError } from "../errors.ts";
import { type S3Access, s3Location } from "../s3.ts";
import { checkOutputApart } from "./folder-overlap.ts";
import { type ImageInput, imageInput } from "./image-input.ts";
import { checkIncrementalAgainst } from "./incremental-plan.ts";
import type { InputListing } from "./input-listing.ts";
import { type ModelMetadata, OUTPUT_LAYOUT, outputPath } from "./output-layout.ts";
import { outputStore } from "./output-store.ts";
import type { PipelineOptions } from "./pipeline-options.ts";
import { type RunSummary, readRunSummary } from "./run-summary.ts";

/** What the checks before any Spark work found. */
export interface Preflight {
  /** The input the checks listed, for the steps that read it. */
  readonly input: ImageInput;
  /** The driver's listing of the input (undefined for file systems the driver cannot list). */
  readonly listing: InputListing | undefined;
  /** The saved model's metadata, for `--pca-model` (undefined when the run fits its own). */
  readonly modelMetadata: ModelMetadata | undefined;
  /** The published run an incremental run updates (undefined otherwise). */
  readonly previous?: RunSummary;
}

/**
 * The checks a run makes before any Spark work, each failing with a ConfigError that names the
 * flag: the output is a folder orchard can publish into (S3 or local) that neither contains nor
 * lies inside the input or the `--pca-model`, the input holds at least one image file, the output
 * does not exist unless the mode is `overwrite` (an incremental run needs it to hold a complete
 * earlier run it can update, see {@link readEarlierRun}), and a `--pca-model` is a model saved by
 * orchard.
 */
export async function preflight(options: PipelineOptions, s3?: S3Access): Promise<Preflight> {
  checkOutputPublishable(options.output);
  checkOutputApart(options.output, [
    { flag: "--input", uri: options.input },
    ...(options.pcaModel === undefined ? [] : [{ flag: "--pca-model", uri: options.pcaModel }]),
  ]);
  const input = imageInput({ uri: options.input, extensions: options.extensions, s3 });
  const [listing, previous, modelMetadata] = await Promise.all([
    checkInput(input),
    options.incremental
      ? readEarlierRun(options.output, s3)
      : options.mode === "overwrite"
        ? undefined
        : checkOutputAbsent(options.output, s3),
    options.pcaModel === undefined ? undefined : readModelMetadata(options.pcaModel, s3),
  ]);
  if (previous) {
    checkIncrementalAgainst(previous, {
      input: options.input,
      keepFeatures: options.keepFeatures,
      ...(options.model ? { model: options.model } : {}),
    });
  }
  return { input, listing, modelMetadata, ...(previous ? { previous } : {}) };
}

/**
 * The published run in `output` that an incremental run updates: its `run.json`, with the
 * `data/` and `files/` (the per-file state) it describes. Anything else is a ConfigError on
 * `--output`.
 */
export async function readEarlierRun(output: string, s3?: S3Access): Promise<RunSummary> {
  const store = outputStore(output, s3);
  const expected = "the output folder of an earlier complete orchard run (with its run.json)";
  let previous: RunSummary;
  try {
    previous = await readRunSummary(store, output);
  } catch (cause) {
    throw new ConfigError({
      field: "--output",
      expected,
      message: `--output ${output} holds no earlier run for --incremental to update (run.json: ${describeFailure(cause)}); run without --incremental first`,
      cause,
    });
  }
  const [data, files] = await Promise.all([store.exists(OUTPUT_LAYOUT.data), store.exists(OUTPUT_LAYOUT.files)]);
  if (!data || !files || !Array.isArray(previous.history)) {
    throw new ConfigError({
      field: "--output",
      expected,
      message: `--output ${output} has no ${!data ? "data/" : "files/ (the per-file state, written by orchard run since incremental runs exist)"} to update; run once with --overwrite, then --incremental`,
    });
  }
  return previous;
}

/** Lists the input; refuses one that is missing, unreadable or holds no image file. */
export async function checkInput(input: ImageInput): Promise<InputListing | undefined> {
  let listing: InputListing | undefined;
  try {
    listing = await input.list();
  } catch (cause) {
    throw new ConfigError({
      field: "--input",
      expected: "an existing, readable folder of images",
      message: `cannot read the input ${input.uri}: ${describeFailure(cause)}`,
      cause,
    });
  }
  if (listing && listing.files + listing.emptyFiles.length === 0) {
    throw new ConfigError({
      field: "--input",
      expected: "a folder holding image files",
      message: `no image files under ${input.uri} (extensions: ${input.extensions.join(", ")})`,
    });
  }
  return listing;
}

/**
 * Refuses an output folder the driver cannot publish into: it moves the run's parts into place
 * and writes `run.json` itself (publish-output.ts), on a local folder or on S3 only.
 */
export function checkOutputPublishable(output: string): void {
  if (s3Location(output) || output.startsWith("file:") || !/^[a-z][a-z0-9+.-]*:/i.test(output)) return;
  throw new ConfigError({
    field: "--output",
    expected: "an s3a:// (or s3://) URI, a file:// URI or a local path",
    message: `orchard publishes its output itself and cannot on ${output.split(":")[0]}://; write to s3a://, file:// or a local path`,
  });
}

/** Refuses an output folder that already exists (local or S3; other file systems are left to Spark). */
export async function checkOutputAbsent(output: string, s3?: S3Access): Promise<void> {
  if (await outputExists(output, s3)) {
    throw new ConfigError({
      field: "--output",
      expected: "a folder that does not exist yet, or --overwrite",
      message: `the output ${output} already exists; pass --overwrite to replace it, or choose another --output`,
    });
  }
}

async function outputExists(output: string, s3?: S3Access): Promise<boolean> {
  // Other file systems (hdfs://, ...) are left to Spark's own check.
  if (!s3Location(output) && !output.startsWith("file:")) return false;
  try {
    return await outputStore(output, s3).holdsAnything();
  } catch (cause) {
    throw new ConfigError({
      field: "--output",
      expected: "a folder orchard can check and write",
      message: `cannot check the output ${output}: ${describeFailure(cause)}`,
      cause,
    });
  }
}

/** Reads `pca-model/orchard.json`; a folder without it is not a model saved by orchard. */
async function readModelMetadata(modelUri: string, s3?: S3Access): Promise<ModelMetadata> {
  let text: string;
  try {
    text = new TextDecoder().decode(await outputStore(modelUri, s3).get(OUTPUT_LAYOUT.modelMetadata));
  } catch (cause) {
    throw new ConfigError({
      field: "--pca-model",
      expected: "a pca-model/ folder saved by orchard run or fit",
      message: `no model saved by orchard at ${modelUri} (${outputPath(modelUri, OUTPUT_LAYOUT.modelMetadata)}: ${describeFailure(cause)})`,
      cause,
    });
  }
  let parsed: Partial<ModelMetadata> = {};
  try {
    parsed = JSON.parse(text) as Partial<ModelMetadata>;
  } catch {
    // Not JSON: reported below as a file without k and featureDimension.
  }
  if (typeof parsed?.k !== "number" || typeof parsed.featureDimension !== "number") {
    throw new ConfigError({
      field: "--pca-model",
      expected: "a pca-model/ folder saved by orchard run or fit",
      message: `${outputPath(modelUri, OUTPUT_LAYOUT.modelMetadata)} does not hold k and featureDimension`,
    });
  }
  return { k: parsed.k, featureDimension: parsed.featureDimension, model: parsed.model ?? null };
}

const FAILURE_WORDS: Record<string, string> = {
  ENOENT: "no such file or folder",
  EACCES: "permission denied",
  EPERM: "permission denied",
  ENOTDIR: "not a folder",
  EISDIR: "a folder, not a file",
  ELOOP: "too many symbolic links",
  NoSuchBucket: "no such bucket",
  NoSuchKey: "not found",
  NotFound: "not found",
  AccessDenied: "access denied",
  InvalidAccessKeyId: "the S3 access key is not valid",
  SignatureDoesNotMatch: "the S3 secret key does not match",
};

/**
 * A failure in the user's words: a Node file-system error by what it means (`ENOENT` -> "no
 * such file or folder"), an S3 error by its name (`NoSuchBucket` -> "no such bucket"), an orchard
 * error by its cause, anything else by its message.
 */
export function describeFailure(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  const code = (cause as NodeJS.ErrnoException).code;
  const words = (code && FAILURE_WORDS[code]) ?? FAILURE_WORDS[cause.name];
  if (words) return words;
  if (cause instanceof OrchardError && cause.cause !== undefined) return describeFailure(cause.cause);
  return cause.message;
}
