/**
 * The option schemas (zod) of `orchard shell`, loaded when a command runs so that `orchard --help`
 * does not load zod.
 */
import { z } from "zod";
import { sidecarAddressOption } from "../option-schemas.ts";

export const shellOptions = z.object({
  remote: z
    .string()
    .regex(/^sc:\/\/[^/]/, { error: "a Spark Connect URL like sc://host:15002" })
    .default("sc://localhost:15002"),
  sidecar: sidecarAddressOption.default("127.0.0.1:8815"),
  model: z.string().min(1).default("efficientnet-lite0"),
  start: z.boolean().default(true),
  progress: z.boolean().default(true),
});
