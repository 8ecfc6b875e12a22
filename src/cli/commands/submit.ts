import { randomBytes } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { basename, extname, resolve } from "node:path";
import type { Command } from "commander";
import { z } from "zod";
import { ConfigError, OrchardError } from "../../errors.ts";
import { type S3Access, s3CompatibleAccess } from "../../s3.ts";
import type { CliContext } from "../cli-context.ts";
import { parseConfig } from "../config-parse.ts";
import { EXIT, ExitWith } from "../exit-codes.ts";
import {
  type DriverRuntime,
  type DriverSpec,
  driverCommand,
  driverRuntime,
  JAVASCRIPT_EXTENSIONS,
  PIPELINE_DRIVERS,
  startDriver,
  TYPESCRIPT_EXTENSIONS,
  withSignals,
} from "../local/driver-process.ts";
import { freePort } from "../local/ports.ts";
import { collect, httpUrlOption, masterOption, secondsOption, sparkConfOption } from "../option-schemas.ts";

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

export const submitOptions = z.object({
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

/**
 * Whether a signal that reached `orchard submit` is passed on to the driver. The driver runs in
 * submit's process group: a terminal's Ctrl-C reaches it directly, so the first SIGINT is not
 * repeated when submit's stdin is a terminal (a driver that stops gently on one Ctrl-C and at
 * once on a second, as `orchard run` does, would otherwise see two). Any other signal, or a
 * SIGINT sent with `kill` to a submit without a terminal, is forwarded; so is a second Ctrl-C.
 */
export function forwardsSignal(signal: NodeJS.Signals, sigintCount: number, interactive: boolean): boolean {
  return !(signal === "SIGINT" && interactive && sigintCount === 1);
}

/** Runs a validated plan: Spark Connect up, the driver with SPARK_REMOTE, Spark down; the driver's exit code. */
export async function runSubmit(
  plan: SubmitPlan,
  ctx: CliContext,
  runtime: DriverRuntime = driverRuntime(plan.driver.kind === "script" ? plan.driver.path : undefined),
): Promise<number> {
  // Loaded when a submit runs, not when the program is built: `orchard --help` stays fast.
  const { assertSparkInstalled, startLocalSpark } = await import("../local/spark-server.ts");
  assertSparkInstalled(ctx.layout);
  // Resolved before Spark starts: a TypeScript driver without tsx costs no Spark start.
  const command = driverCommand(plan.driver, runtime);
  const label = plan.driver.kind === "pipeline" ? `orchard ${plan.driver.command}` : plan.driver.path;
  const say = (line: string) => ctx.err(`orchard submit: ${line}`);
  const port = await freePort();
  // A fresh secret per application; it goes to the server and the driver by environment only.
  const token = randomBytes(32).toString("base64url");
  const interactive = process.stdin.isTTY === true;
  const starting = new AbortController();
  let driver: ReturnType<typeof startDriver> | undefined;
  let sigints = 0;
  let stopping = false;

  return withSignals(
    (signal) => {
      if (signal === "SIGINT") sigints++;
      if (stopping) {
        say(`${signal}: still stopping the Spark Connect server`);
      } else if (driver) {
        if (forwardsSignal(signal, sigints, interactive)) driver.signal(signal);
      } else {
        starting.abort();
      }
    },
    async () => {
      say(`starting Spark Connect on 127.0.0.1:${port} (master ${plan.master}) for ${label} ...`);
      const server = await startLocalSpark({
        port,
        host: "127.0.0.1",
        master: plan.master,
        conf: plan.conf,
        jars: plan.jars,
        appName: plan.appName,
        token,
        ...(plan.s3 ? { s3: plan.s3 } : {}),
        logDir: ctx.runDir,
        layout: ctx.layout,
        env: ctx.env,
        startTimeoutMs: plan.startTimeoutMs,
        signal: starting.signal,
      });
      if (starting.signal.aborted) {
        // Interrupted in the last moments of the start-up: the driver never runs.
        await server.stop();
        throw new OrchardError("interrupted", { message: "interrupted while the Spark Connect server was starting" });
      }
      say(
        `Spark Connect answers at ${server.remote} (pid ${server.pid}, ${(server.startupMs / 1000).toFixed(1)} s, log ${server.logFile}); running ${label}`,
      );
      try {
        driver = startDriver(command, {
          ...ctx.env,
          SPARK_REMOTE: `${server.remote}/;token=${encodeURIComponent(token)}`,
        });
        const code = await driver.exited;
        say(`${label} exited with code ${code}`);
        return code;
      } finally {
        stopping = true;
        say(`stopping the Spark Connect server (pid ${server.pid})`);
        await server.stop();
      }
    },
  );
}

/**
 * `orchard submit [options] SCRIPT [ARGS...]`: spark-submit for a TypeScript or JavaScript
 * driver (or orchard's own `run`/`fit`/`transform`). `run` is how the tests replace the real runner.
 */
export function registerSubmitCommand(
  program: Command,
  ctx: CliContext,
  run: (plan: SubmitPlan, ctx: CliContext) => Promise<number> = runSubmit,
): void {
  // Options after SCRIPT belong to the script: only options before it are submit's.
  program.enablePositionalOptions();
  program
    .command("submit")
    .description(
      "spark-submit for a TypeScript/JavaScript driver: start Spark Connect as the application's driver " +
        "on --master, run SCRIPT with SPARK_REMOTE set (a fresh token), stop Spark, exit with SCRIPT's code",
    )
    .usage("[options] <script> [args...]")
    .argument("<script>", `driver script (.ts via tsx, .js/.mjs with node), or ${PIPELINE_DRIVERS.join("/")}`)
    .argument("[args...]", "arguments for the script, passed on untouched (options included)")
    .option(
      "--master <url>",
      "Spark master: local[N], local-cluster[W,C,MiB], spark://host:port, yarn (default local[2])",
    )
    .option("--conf <key=value>", "Spark setting, repeatable", collect)
    .option("--jars <list>", "comma-separated jars for the driver and executors, repeatable", collect)
    .option("--name <name>", "Spark application name (default orchard-submit-<script>)")
    .option(
      "--s3-endpoint <url>",
      "S3-compatible endpoint for s3a:// (default $ORCHARD_S3_ENDPOINT); keys from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY",
    )
    .option("--timeout <seconds>", "how long to wait for Spark to answer (default 180)")
    .passThroughOptions()
    .action(async (script: string, args: string[], raw: Record<string, unknown>) => {
      const plan = submitPlan(script, args, raw, ctx.env);
      const code = await run(plan, ctx);
      if (code !== EXIT.ok) throw new ExitWith(code);
    });
}
