/**
 * What `orchard submit` is asked to do, validated (zod) without touching Spark: its options and
 * the driver. Loaded when submit runs, so that `orchard --help` does not load zod.
 */
import { existsSync, statSync } from "node:fs";
import { basename, extname, resolve } from "node:path";
import { z } from "zod";
import { ConfigError } from "../../errors.ts";
import { type S3Access, s3CompatibleAccess } from "../../s3.ts";
import { parseConfig } from "../config-parse.ts";
import {
  type DriverSpec,
  JAVASCRIPT_EXTENSIONS,
  PIPELINE_DRIVERS,
  TYPESCRIPT_EXTENSIONS,
} from "../local/driver-process.ts";
import { httpUrlOption, masterOption, secondsOption, sparkConfOption } from "../option-schemas.ts";

/** Jar lists as spark-submit takes them: comma-separated, and here also repeatable. */
const jarsOption = z
  .array(z.string())
  .default([])
  .transform((lists) => lists.flatMap((l) => l.split(",")).filter((j) => j.length > 0))
  .pipe(
    z.array(
      z.string().refine((jar) => /^[a-z][a-z0-9+.-]*:\/\//i.test(jar) || existsSync(jar), {
        error: "jar files that exist (comma-separated paths, or URLs such as https://... or hdfs://...)",
      }),
    ),
  );

const submitOptions = z.object({
  master: masterOption.default("local[2]"),
  conf: sparkConfOption,
  jars: jarsOption,
  name: z
    .string()
    .regex(/^[\w.:@-]+$/, { error: "an application name of letters, digits and ._:@-" })
    .optional(),
  s3Endpoint: httpUrlOption.optional(),
  timeout: secondsOption.default(180),
});

/** Everything `orchard submit` needs, validated: the Spark side and the driver. */
export interface SubmitPlan {
  readonly master: string;
  readonly conf: Record<string, string>;
  readonly jars: readonly string[];
  readonly appName: string;
  readonly s3?: S3Access;
  readonly startTimeoutMs: number;
  readonly driver: DriverSpec;
}

/**
 * Validates `orchard submit`'s options and its SCRIPT (a pipeline command, or an existing `.ts`/`.js`
 * file), without touching Spark. ARGS are the driver's, passed on untouched.
 */
export function submitPlan(
  script: string,
  args: readonly string[],
  raw: Record<string, unknown>,
  env: Readonly<Record<string, string | undefined>>,
  cwd = process.cwd(),
): SubmitPlan {
  const opts = parseConfig(submitOptions, raw);
  const driver = driverSpec(script, args, cwd);
  const endpoint = opts.s3Endpoint ?? (env.ORCHARD_S3_ENDPOINT || undefined);
  return {
    master: opts.master,
    conf: opts.conf,
    jars: opts.jars,
    appName: opts.name ?? `orchard-submit-${driver.kind === "pipeline" ? driver.command : appNameOf(driver.path)}`,
    ...(endpoint ? { s3: s3FromEnv(env, endpoint) } : {}),
    startTimeoutMs: opts.timeout * 1000,
    driver,
  };
}

function driverSpec(script: string, args: readonly string[], cwd: string): DriverSpec {
  const pipeline = PIPELINE_DRIVERS.find((c) => c === script);
  if (pipeline) return { kind: "pipeline", command: pipeline, args: [...args] };
  const ext = extname(script).toLowerCase();
  const known = [...TYPESCRIPT_EXTENSIONS, ...JAVASCRIPT_EXTENSIONS] as readonly string[];
  if (!known.includes(ext)) {
    throw new ConfigError({
      field: "SCRIPT",
      expected: `a driver script (${known.join(", ")}) or one of orchard's commands (${PIPELINE_DRIVERS.join(", ")})`,
      message: `invalid SCRIPT ${JSON.stringify(script)}: expected a driver script (${known.join(", ")}) or one of orchard's commands (${PIPELINE_DRIVERS.join(", ")})`,
    });
  }
  const path = resolve(cwd, script);
  if (!existsSync(path) || !statSync(path).isFile()) {
    throw new ConfigError({
      field: "SCRIPT",
      expected: "an existing file",
      message: `driver script ${script} does not exist (looked for ${path})`,
    });
  }
  return { kind: "script", path, args: [...args] };
}

function appNameOf(path: string): string {
  return basename(path, extname(path)).replace(/[^\w.-]/g, "_") || "driver";
}

function s3FromEnv(env: Readonly<Record<string, string | undefined>>, endpoint: string): S3Access {
  const accessKey = env.AWS_ACCESS_KEY_ID || env.ORCHARD_S3_ACCESS_KEY;
  const secretKey = env.AWS_SECRET_ACCESS_KEY || env.ORCHARD_S3_SECRET_KEY;
  if (!accessKey || !secretKey) {
    throw new ConfigError({
      field: "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY",
      expected: "both set in the environment (or ORCHARD_S3_ACCESS_KEY / ORCHARD_S3_SECRET_KEY) for the S3 endpoint",
    });
  }
  return s3CompatibleAccess(endpoint, { accessKeyId: accessKey, secretAccessKey: secretKey });
}
