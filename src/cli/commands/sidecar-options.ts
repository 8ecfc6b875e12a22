/**
 * The option schemas (zod) of `orchard sidecar`, loaded when a command runs so that `orchard --help`
 * does not load zod.
 */
import { DEFAULT_SIDECAR_PORT } from "@orchard/udf-server/defaults";
import { z } from "zod";
import { deviceOption, hostOption, portOption, positiveIntOption, secondsOption } from "../option-schemas.ts";

export const sidecarStartOptions = z.object({
  port: portOption.default(DEFAULT_SIDECAR_PORT),
  host: hostOption.default("127.0.0.1"),
  model: z.string().min(1, { error: "a catalog model name or a path to an .onnx file" }).default("efficientnet-lite0"),
  threads: positiveIntOption("an integer >= 1").optional(),
  device: deviceOption.default("cpu"),
  maxBatch: positiveIntOption("an integer from 1 to 1024")
    .max(1024, { error: "an integer from 1 to 1024" })
    .default(16),
  maxWaitMs: z.coerce
    .number({ error: "an integer >= 0 (ms)" })
    .int()
    .min(0, { error: "an integer >= 0 (ms)" })
    .default(5),
  idleExit: z.coerce.number({ error: "an integer >= 0 (s)" }).int().min(0, { error: "an integer >= 0 (s)" }).default(0),
  timeout: secondsOption.default(300),
});

export const sidecarPortOptions = z.object({
  port: portOption.default(DEFAULT_SIDECAR_PORT),
  json: z.boolean().default(false),
});
