/**
 * The option schemas (zod) of `orchard train` and `orchard predict`, loaded when a command runs so
 * that `orchard --help` does not load zod.
 */
import { z } from "zod";
import { positiveIntOption } from "../option-schemas.ts";
import { folderUri } from "../pipeline-config.ts";

const fraction = "a share of the rows in (0, 1), e.g. 0.2";
export const trainOptions = z
  .object({
    testFraction: z.coerce.number({ error: fraction }).gt(0, { error: fraction }).lt(1, { error: fraction }).optional(),
    testFolder: z
      .string()
      .regex(/^[^/\s]+$/, { error: "a folder name without slashes, e.g. Test" })
      .optional(),
    seed: z.coerce.number({ error: "a whole number" }).int({ error: "a whole number" }).default(42),
    regParam: z.coerce.number({ error: "a number >= 0" }).min(0, { error: "a number >= 0" }).optional(),
    maxIter: positiveIntOption("a positive whole number of iterations").optional(),
    clusters: z.coerce
      .number({ error: "a whole number of clusters >= 2" })
      .int({ error: "a whole number of clusters >= 2" })
      .min(2, { error: "a whole number of clusters >= 2" })
      .optional(),
  })
  .refine((o) => o.testFraction === undefined || o.testFolder === undefined, {
    error: "one of --test-fraction or --test-folder, not both",
    path: ["testFraction"],
  });

export const predictOptions = z.object({
  model: folderUri,
});
