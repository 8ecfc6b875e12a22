import type { z } from "zod";
import { ConfigError } from "../errors.ts";

/**
 * Validates raw options with a zod schema once, at the edge. A failure becomes a
 * {@link ConfigError} naming the field (as the command-line flag, `--kebab-case`, unless
 * `style: "path"`) and the expected form (the schema's message for that check).
 */
export function parseConfig<S extends z.ZodType>(
  schema: S,
  raw: unknown,
  style: "flag" | "path" = "flag",
): z.output<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  throw zodToConfigError(result.error, style);
}

/** Turns the first issue of a ZodError into a ConfigError (`invalid --port: expected ...`). */
export function zodToConfigError(error: z.ZodError, style: "flag" | "path" = "flag"): ConfigError {
  const issue = error.issues[0];
  const path = issue?.path ?? [];
  return new ConfigError({ field: fieldName(path, style), expected: issue?.message ?? "a valid value", cause: error });
}

/** `["maxBatch"]` -> `--max-batch`; `["conf", 2]` -> `--conf[2]`; with `path` style `conf[2]`. */
export function fieldName(path: readonly PropertyKey[], style: "flag" | "path" = "flag"): string {
  if (path.length === 0) return style === "flag" ? "options" : "config";
  const [head, ...rest] = path;
  const first = style === "flag" ? `--${String(head).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}` : String(head);
  return first + rest.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("");
}
