/**
 * The option schemas (zod) of `orchard spark`, loaded when a command runs so that `orchard --help`
 * does not load zod.
 */
import { z } from "zod";
import { DEFAULT_SPARK_PORT } from "../local/spark-launch.ts";
import {
  hostOption,
  httpUrlOption,
  masterOption,
  portOption,
  secondsOption,
  sparkConfOption,
} from "../option-schemas.ts";

export const sparkStartOptions = z.object({
  port: portOption.default(DEFAULT_SPARK_PORT),
  host: hostOption.default("127.0.0.1"),
  master: masterOption.default("local[2]"),
  conf: sparkConfOption,
  s3Endpoint: httpUrlOption.optional(),
  timeout: secondsOption.default(180),
  /** `--no-token` sets it false. */
  token: z.boolean().default(true),
  tokenFile: z.string().min(1, { error: "a path to a file holding the token" }).optional(),
  /** `--no-warm-up` sets it false. */
  warmUp: z.boolean().default(true),
});

export const sparkPortOptions = z.object({
  port: portOption.default(DEFAULT_SPARK_PORT),
  json: z.boolean().default(false),
});
