import { randomBytes } from "node:crypto";
import type { Command } from "commander";
import { OrchardError } from "../../errors.ts";
import type { CliContext } from "../cli-context.ts";
import { EXIT, ExitWith } from "../exit-codes.ts";
import {
  type DriverRuntime,
  driverCommand,
  driverRuntime,
  PIPELINE_DRIVERS,
  startDriver,
  withSignals,
} from "../local/driver-process.ts";
import { freePort } from "../local/ports.ts";
import { collect } from "../repeatable-option.ts";
import type { SubmitPlan } from "./submit-options.ts";

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
      // The option schemas (zod) load when submit runs, not when the program is built.
      const { submitPlan } = await import("./submit-options.ts");
      const plan = submitPlan(script, args, raw, ctx.env);
      const code = await run(plan, ctx);
      if (code !== EXIT.ok) throw new ExitWith(code);
    });
}
