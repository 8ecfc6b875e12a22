/**
 * The option schemas (zod) of `orchard report`, loaded when a command runs so that `orchard --help`
 * does not load zod.
 */
import { z } from "zod";
import { DEFAULT_MAX_POINTS } from "../../pipeline/report-options.ts";
import { folderUri } from "../pipeline-config.ts";

const points = "a positive whole number of points";
export const optionsSchema = z.object({
  maxPoints: z.coerce
    .number({ error: points })
    .int({ error: points })
    .positive({ error: points })
    .default(DEFAULT_MAX_POINTS),
  clusters: z.coerce
    .number({ error: "a whole number of clusters >= 2" })
    .int({ error: "a whole number of clusters >= 2" })
    .min(2, { error: "a whole number of clusters >= 2" })
    .optional(),
  classifier: folderUri.optional(),
});
