import { readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { z } from "zod";
import { redactUrl } from "../connect/connection-url.ts";
import { ConfigError } from "../errors.ts";
import { DEFAULT_EXTENSIONS, type PipelineOptions } from "../pipeline/pipeline-options.ts";
import type { S3Access } from "../s3.ts";
import { zodToConfigError } from "./config-parse.ts";
import {
  bridgeCommandOption,
  commandPathOption,
  deviceOption,
  positiveIntOption,
  sidecarAddressOption,
} from "./option-schemas.ts";

/**
 * The configuration of `orchard run | fit | transform | demo`, from three sources merged in this
 * order (later wins): a JSON config file (`--config`), the environment (`SPARK_REMOTE`,
 * `ORCHARD_SIDECAR`, `AWS_*`), and the command-line flags. Parsed and checked here, once; every
 * message names the field and the form it expects.
 */

/** A folder URI Spark can read or write: `s3a://bucket/prefix`, `s3://...` (read as s3a), `file:///abs`, or a local path. */
export const folderUri = z
  .string({ error: "a folder URI (s3a://bucket/prefix, file:///path or a local path)" })
  .min(1, { error: "a folder URI (s3a://bucket/prefix, file:///path or a local path)" })
  .transform((uri) => {
    if (/^s3:\/\//.test(uri)) return uri.replace(/^s3:/, "s3a:");
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri)) return uri;
    return pathToFileURL(isAbsolute(uri) ? uri : resolve(uri)).href;
  })
  .refine((uri) => /^(s3a|file|hdfs|abfss?|gs):\/\//.test(uri), {
    error: "s3a://, s3://, file://, hdfs://, abfs(s):// or gs:// (or a local path)",
  });

export const pipelineConfigSchema = z
  .object({
    remote: z
      .string()
      .regex(/^sc:\/\/[^/]/, { error: "a Spark Connect URL like sc://host:15002" })
      .default("sc://localhost:15002"),
    input: folderUri,
    output: folderUri,
    k: positiveIntOption("a positive whole number of components").optional(),
    variance: z.coerce
      .number({ error: "a share of variance in (0, 1], e.g. 0.95" })
      .gt(0, { error: "a share of variance in (0, 1], e.g. 0.95" })
      .lte(1, { error: "a share of variance in (0, 1], e.g. 0.95" })
      .optional(),
    model: z
      .string()
      .min(1, { error: "a model name (efficientnet-lite0) or a path to an .onnx file" })
      .default("efficientnet-lite0"),
    sample: positiveIntOption("a positive whole number of images per class").optional(),
    keepFeatures: z.coerce.boolean().default(false),
    extensions: z
      .array(z.string().regex(/^[a-z0-9]+$/i, { error: "extensions without dots, e.g. jpg" }))
      .nonempty()
      .default([...DEFAULT_EXTENSIONS]),
    partitions: positiveIntOption("a positive whole number of tasks").optional(),
    mode: z.enum(["overwrite", "errorifexists"], { error: "overwrite or errorifexists" }).default("errorifexists"),
    sidecar: sidecarAddressOption.default("127.0.0.1:8815"),
    /** How the images reach the sidecars (`--image-transport`): a `file:` input's paths, or the bytes. */
    imageTransport: z.enum(["path", "bytes"], { error: "path or bytes" }).default("path"),
    /** Where a sidecar this run starts runs the model (`--device`); a running sidecar keeps its own. */
    device: deviceOption.default("cpu"),
    /** The sidecar's secret file on each executor's node (ORCHARD_SIDECAR_SECRET_FILE); default: the node's run folder. */
    sidecarSecretFile: commandPathOption(
      "a file path (ORCHARD_SIDECAR_SECRET_FILE, the sidecar's secret file)",
    ).optional(),
    bridge: bridgeCommandOption.optional(),
    pcaModel: folderUri.optional(),
    /** `orchard run --incremental`: update the earlier run's output with what changed in the input. */
    incremental: z.coerce.boolean().default(false),
    /** With --incremental: fit the PCA again on every row. */
    refit: z.coerce.boolean().default(false),
    /** With --incremental: drop the rows of files no longer in the input. */
    prune: z.coerce.boolean().default(false),
    s3: z
      .object({
        endpoint: z.url({ error: "an http(s) URL, e.g. http://127.0.0.1:9000" }).optional(),
        region: z.string().default("us-east-1"),
        pathStyle: z.coerce.boolean().default(false),
        accessKeyId: z.string().optional(),
        secretAccessKey: z.string().optional(),
        sessionToken: z.string().optional(),
      })
      .default({ region: "us-east-1", pathStyle: false }),
  })
  .refine((c) => c.k === undefined || c.variance === undefined, {
    error: "one of --k or --variance, not both",
    path: ["k"],
  })
  .refine((c) => !(c.incremental && c.mode === "overwrite"), {
    error: "one of --incremental (update the earlier run's output) or --overwrite (replace it), not both",
    path: ["incremental"],
  })
  .refine((c) => !(c.incremental && c.sample !== undefined), {
    error: "no --sample with --incremental: an incremental run updates the output for the whole input",
    path: ["sample"],
  })
  .refine((c) => !(c.incremental && c.pcaModel !== undefined), {
    error: "no --pca-model with --incremental: new rows are projected with the output's own saved model",
    path: ["pcaModel"],
  })
  .refine((c) => c.incremental || !(c.refit || c.prune), {
    error: "--refit and --prune change an earlier run's output: only with --incremental",
    path: ["incremental"],
  })
  .refine((c) => !(c.incremental && !c.refit && (c.k !== undefined || c.variance !== undefined)), {
    error: "--k or --variance with --incremental only with --refit (otherwise the saved PCA, and its k, are kept)",
    path: ["k"],
  });

export type PipelineConfig = z.output<typeof pipelineConfigSchema>;

/** Reads a JSON config file; any problem is a ConfigError naming the file. */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (cause) {
    throw new ConfigError({
      field: "--config",
      expected: "a readable JSON file",
      message: `cannot read config file ${path}`,
      cause,
    });
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new TypeError("not an object");
    return parsed as Record<string, unknown>;
  } catch (cause) {
    throw new ConfigError({
      field: "--config",
      expected: "a JSON object",
      message: `config file ${path} is not a JSON object`,
      cause,
    });
  }
}

/** The settings the environment provides (the CLI edge is the only place that reads it). */
export function configFromEnv(env: Readonly<Record<string, string | undefined>>): Record<string, unknown> {
  const s3: Record<string, unknown> = {};
  const endpoint = env.ORCHARD_S3_ENDPOINT ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  if (endpoint) s3.endpoint = endpoint;
  if (env.AWS_REGION ?? env.AWS_DEFAULT_REGION) s3.region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  const accessKeyId = env.AWS_ACCESS_KEY_ID ?? env.ORCHARD_S3_ACCESS_KEY;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY ?? env.ORCHARD_S3_SECRET_KEY;
  if (accessKeyId) s3.accessKeyId = accessKeyId;
  if (secretAccessKey) s3.secretAccessKey = secretAccessKey;
  if (env.AWS_SESSION_TOKEN) s3.sessionToken = env.AWS_SESSION_TOKEN;
  if (env.ORCHARD_S3_PATH_STYLE) s3.pathStyle = env.ORCHARD_S3_PATH_STYLE === "true";
  return {
    ...(env.SPARK_REMOTE ? { remote: env.SPARK_REMOTE } : {}),
    ...(env.ORCHARD_SIDECAR ? { sidecar: env.ORCHARD_SIDECAR } : {}),
    ...(env.ORCHARD_SIDECAR_SECRET_FILE ? { sidecarSecretFile: env.ORCHARD_SIDECAR_SECRET_FILE } : {}),
    ...(Object.keys(s3).length ? { s3 } : {}),
  };
}

/** Merges file < env < flags (flags with undefined values do not override) and validates. */
export function parsePipelineConfig(sources: {
  file?: Record<string, unknown>;
  env?: Record<string, unknown>;
  flags: Record<string, unknown>;
}): PipelineConfig {
  const defined = (o: Record<string, unknown> = {}) =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  const file = defined(sources.file);
  const env = defined(sources.env);
  const flags = defined(sources.flags);
  const merged = {
    ...file,
    ...env,
    ...flags,
    s3: { ...(file.s3 as object), ...(env.s3 as object), ...(flags.s3 as object) },
  };
  const result = pipelineConfigSchema.safeParse(merged);
  if (!result.success) throw zodToConfigError(result.error);
  return result.data;
}

/** The typed options the pipeline takes. */
export function pipelineOptions(config: PipelineConfig, extra: Pick<PipelineOptions, "fitOnly"> = {}): PipelineOptions {
  return {
    input: config.input,
    output: config.output,
    reduction: config.k !== undefined ? { k: config.k } : { variance: config.variance ?? 0.95 },
    keepFeatures: config.keepFeatures,
    extensions: config.extensions,
    mode: config.mode,
    model: config.model,
    sidecar: config.sidecar,
    imageTransport: config.imageTransport,
    ...(config.bridge !== undefined ? { bridge: config.bridge } : {}),
    ...(config.sample !== undefined ? { samplePerClass: config.sample } : {}),
    ...(config.partitions !== undefined ? { partitions: config.partitions } : {}),
    ...(config.pcaModel !== undefined ? { pcaModel: config.pcaModel } : {}),
    ...(config.incremental
      ? {
          incremental: {
            refit: config.refit,
            prune: config.prune,
            ...(config.k !== undefined ? { reduction: { k: config.k } } : {}),
            ...(config.variance !== undefined ? { reduction: { variance: config.variance } } : {}),
          },
        }
      : {}),
    ...extra,
  };
}

/** S3 access for the driver's own small writes. */
export function s3Access(config: PipelineConfig): S3Access {
  return { ...config.s3, pathStyle: config.s3.pathStyle || config.s3.endpoint !== undefined };
}

/** The configuration as recorded in run.json: no keys, no tokens. */
export function configForRecord(config: PipelineConfig): Record<string, unknown> {
  const { s3, remote, ...rest } = config;
  return {
    ...rest,
    remote: redactUrl(remote),
    s3: { endpoint: s3.endpoint, region: s3.region, pathStyle: s3.pathStyle },
  };
}
