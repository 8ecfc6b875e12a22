/**
 * The option schemas (zod) of `orchard estimate`, loaded when a command runs so that `orchard --help`
 * does not load zod.
 */
import { z } from "zod";
import { positiveIntOption } from "../option-schemas.ts";

export const estimateOptions = z.object({
  images: positiveIntOption("a number of images >= 1"),
  instanceType: z.string().min(1).default("c6i.2xlarge"),
  primaryInstanceType: z.string().min(1).default("m6i.xlarge"),
  nodes: positiveIntOption("a number of core nodes >= 1").default(2),
  region: z.string().min(1).default("us-east-1"),
  startupMinutes: z.coerce
    .number({ error: "a number of minutes >= 0" })
    .min(0, { error: "a number of minutes >= 0" })
    .default(12),
  throughput: z.string().min(1, { error: "a JSON file written by bench/pipeline" }).optional(),
  prices: z.string().min(1, { error: "a JSON price table" }).optional(),
  json: z.boolean().default(false),
});
