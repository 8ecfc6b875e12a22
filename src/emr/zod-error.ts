import type { z } from "zod";
import { ConfigError } from "../errors.ts";

/** The first issue of a zod error on a file's content as a ConfigError naming the file and the field. */
export function zodToConfigError(error: z.ZodError, field: string): ConfigError {
  const issue = error.issues[0];
  const path = (issue?.path ?? []).map(String).join(".");
  return new ConfigError({
    field: path ? `${field} (${path})` : field,
    expected: issue?.message ?? "a valid value",
    cause: error,
  });
}
