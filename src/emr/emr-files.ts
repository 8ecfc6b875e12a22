/**
 * The files in `emr/` (shipped with orchard: the repository's in a checkout, the package's when
 * installed) and the `{{name}}` placeholders they hold, filled in by `orchard emr up`.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError, SetupError } from "../errors.ts";

/** The names of the files in `emr/`. */
export const EMR_FILES = {
  definition: "cluster.json",
  bootstrap: "bootstrap.sh",
  securityConfiguration: "security-configuration.json",
  blockPublicAccess: "block-public-access.json",
  instancePolicy: "iam/instance-profile-policy.json",
  prices: "prices.json",
  throughput: "throughput.json",
} as const;

/** The `emr/` folder beside this module's package root (src/emr/ and dist/emr/ sit at the same depth). */
export function emrDir(): string {
  const dir = fileURLToPath(new URL("../../emr/", import.meta.url));
  if (!existsSync(join(dir, EMR_FILES.definition))) {
    throw new SetupError({ component: "emr", message: `orchard's emr/ files are missing: ${dir} has no cluster.json` });
  }
  return dir;
}

/** Path of one file of `emr/`. */
export function emrFile(name: string): string {
  return join(emrDir(), name);
}

/** Reads a JSON file; a missing or malformed one is a ConfigError naming `field`. */
export function readJsonFile(path: string, field: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError({ field, expected: `a readable JSON file (${path} cannot be read)`, cause: err });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ConfigError({
      field,
      expected: `a JSON document (${path}: ${err instanceof Error ? err.message : String(err)})`,
      cause: err,
    });
  }
}

/**
 * Replaces `{{name}}` in every string of a JSON value. A placeholder without a value is a
 * ConfigError naming `field`, so a definition never reaches AWS with a `{{...}}` left in it.
 */
export function fillPlaceholders<T>(value: T, vars: Readonly<Record<string, string>>, field: string): T {
  const fill = (v: unknown): unknown => {
    if (typeof v === "string") {
      return v.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
        const got = vars[name];
        if (got === undefined) {
          throw new ConfigError({
            field,
            expected: `only the placeholders ${Object.keys(vars).join(", ")} (found {{${name}}})`,
          });
        }
        return got;
      });
    }
    if (Array.isArray(v)) return v.map(fill);
    if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fill(x)]));
    return v;
  };
  return fill(value) as T;
}
