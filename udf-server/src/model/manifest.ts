/**
 * manifest.json: what sits beside every model.onnx orchard loads. It names the graph's input and
 * outputs and the preprocessing the weights were trained with. Written by
 * `udf-server/model-build/convert.py` for catalog models; users write one for their own ONNX file.
 */
import { readFile } from "node:fs/promises";
import { z } from "zod";
import { ConfigError } from "../errors.ts";
import type { PreprocessSpec } from "../preprocess/spec.ts";

const rgb = z.tuple([z.number(), z.number(), z.number()]);

const manifestSchema = z.object({
  name: z.string().min(1),
  version: z.string().min(1),
  file: z.string().min(1).default("model.onnx"),
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  input: z.object({
    name: z.string().min(1),
    format: z.enum(["float32-nchw", "uint8-nhwc"]),
    size: z.tuple([z.number().int().positive(), z.number().int().positive()]),
    channels: z.literal("RGB").default("RGB"),
  }),
  preprocess: z.object({
    resize: z.enum(["center-crop", "stretch"]),
    cropFraction: z.number().gt(0).lte(1).default(1),
    mean: rgb,
    std: rgb.refine((s) => s.every((v) => v > 0), "std values must be > 0"),
  }),
  outputs: z.object({ features: z.string().min(1), logits: z.string().min(1).optional() }),
  /**
   * Optional second graph beside `file`, same outputs: it takes raw decoded RGB bytes of any size
   * (`[batch, height, width, 3]` uint8) and does the centre-crop resize and normalisation itself.
   */
  raw: z
    .object({
      file: z.string().min(1),
      sha256: z
        .string()
        .regex(/^[0-9a-f]{64}$/)
        .optional(),
      input: z.string().min(1).default("input"),
      format: z.literal("uint8-nhwc-any"),
    })
    .optional(),
  /**
   * The graphs multiply uint8 by int8 (orchard's INT8 models): x86-64 CPUs compute that exactly only
   * with VNNI, and the sidecar refuses to load them on one without (cpu-support.ts).
   */
  x86RequiresVnni: z.boolean().optional(),
  featureDim: z.number().int().positive(),
  classes: z.number().int().positive().optional(),
  labels: z.string().optional(),
  source: z.record(z.string(), z.unknown()).optional(),
});

/** A parsed manifest.json. */
export type ModelManifest = z.infer<typeof manifestSchema>;

/** Reads and validates `path`; a bad manifest is a `ConfigError` naming the field. */
export async function readManifest(path: string): Promise<ModelManifest> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, "utf8"));
  } catch (cause) {
    throw new ConfigError({
      field: "model manifest",
      expected: "a readable JSON file manifest.json beside the .onnx file",
      message: `cannot read model manifest ${path}: ${cause instanceof Error ? cause.message : String(cause)}`,
      cause,
    });
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join(".") || "(root)";
    throw new ConfigError({
      field: `manifest.${field}`,
      expected: issue?.message ?? "a valid model manifest",
      message: `invalid model manifest ${path}: ${field}: ${issue?.message ?? "invalid"}`,
    });
  }
  return parsed.data;
}

/** The preprocessing a manifest declares. */
export function preprocessSpec(m: ModelManifest): PreprocessSpec {
  return {
    size: m.input.size,
    resize: m.preprocess.resize,
    cropFraction: m.preprocess.cropFraction,
    mean: m.preprocess.mean,
    std: m.preprocess.std,
    inputFormat: m.input.format,
  };
}
