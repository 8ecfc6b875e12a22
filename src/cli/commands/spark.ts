import type { Command } from "commander";
import { ConfigError, SetupError } from "../../errors.ts";
import { type S3Access, s3CompatibleAccess } from "../../s3.ts";
import type { CliContext } from "../cli-context.ts";
import { parseConfig } from "../config-parse.ts";
import { SPARK_VERSION } from "../local/install-layout.ts";
import { DEFAULT_SPARK_PORT } from "../local/spark-launch.ts";
import { collect } from "../repeatable-option.ts";

/** Environment variable holding the bearer token a started server requires (never a flag's value). */
const SPARK_TOKEN_ENV = "ORCHARD_SPARK_TOKEN";

// The option schemas (zod) load when a command runs, not when the program is built.
const options = () => import("./spark-options.ts");

// Loaded when a command runs, not when the program is built: `orchard --help` stays fast.
const sparkServer = () => import("../local/spark-server.ts");

/** `orchard spark start|stop|status|warm-up`: the local Spark Connect server. */
export function registerSparkCommand(program: Command, ctx: CliContext): void {
  const spark = program.command("spark").description("start, stop or inspect a local Spark Connect server");

  spark
    .command("start")
    .description(
      `start Spark ${SPARK_VERSION} Connect on loopback (detached; pid, log and token file in ${ctx.runDir}). ` +
        `Clients must send a bearer token: a fresh random one, or --token-file's, or $${SPARK_TOKEN_ENV}; ` +
        "orchard's own commands find it in the token file.",
    )
    .option("--port <n>", `gRPC port (default ${DEFAULT_SPARK_PORT})`)
    .option("--host <addr>", "address to bind (default 127.0.0.1)")
    .option("--master <url>", "Spark master (default local[2])")
    .option("--conf <key=value>", "extra Spark setting, repeatable", collect)
    .option(
      "--s3-endpoint <url>",
      "S3-compatible endpoint for s3a:// paths; keys from ORCHARD_S3_ACCESS_KEY / ORCHARD_S3_SECRET_KEY",
    )
    .option("--timeout <seconds>", "how long to wait for start-up (default 180)")
    .option("--token-file <file>", `take the token from this file (mode 0600) instead of a random one`)
    .option("--no-token", "accept any local client, without a token (any local user can then run commands as you)")
    .option("--no-warm-up", "do not warm its JVM up in the background (orchard spark warm-up) once it answers")
    .action(async (raw: Record<string, unknown>) => {
      const opts = parseConfig((await options()).sparkStartOptions, raw);
      const { assertSparkInstalled, localSparkStatus, startLocalSpark } = await sparkServer();
      const token = await serverToken(ctx, opts);
      const existing = await localSparkStatus({ runDir: ctx.runDir, port: opts.port });
      if (existing.running && existing.state) {
        ctx.out(`a local Spark Connect server already runs at ${existing.state.url} (pid ${existing.state.pid})`);
        return;
      }
      // A configuration mistake is reported before anything about the installation.
      const s3 = opts.s3Endpoint ? s3FromEnv(ctx, opts.s3Endpoint) : undefined;
      assertSparkInstalled(ctx.layout);
      ctx.err(`starting Spark Connect on ${opts.host}:${opts.port} (master ${opts.master}) ...`);
      const server = await startLocalSpark({
        port: opts.port,
        host: opts.host,
        master: opts.master,
        conf: opts.conf,
        token,
        s3,
        logDir: ctx.runDir,
        layout: ctx.layout,
        env: ctx.env,
        startTimeoutMs: opts.timeout * 1000,
      });
      ctx.out(
        `Spark Connect server started: ${server.remote} (pid ${server.pid}, ${(server.startupMs / 1000).toFixed(1)} s)`,
      );
      ctx.out(`log: ${server.logFile}`);
      if (server.tokenFile) {
        ctx.out(
          `token: ${server.tokenFile} (mode 0600; orchard's commands use it; other clients: SPARK_CONNECT_TOKEN)`,
        );
      } else {
        ctx.err("warning: this server accepts any local client (--no-token): every local user can run commands as you");
      }
      if (opts.warmUp) {
        const { startBackgroundWarmUp } = await import("../local/background-warm-up.ts");
        const log = startBackgroundWarmUp({ runDir: ctx.runDir, port: server.port, env: ctx.env });
        ctx.out(`warming its JVM up in the background, so that the first run is as fast as the next (log: ${log})`);
      }
      ctx.out(`use it: SPARK_REMOTE=${server.remote}; stop it: orchard spark stop --port ${server.port}`);
    });

  spark
    .command("warm-up")
    .description(
      "run a small job of each kind a pipeline run uses (PCA, Parquet, binaryFile, KMeans, Arrow) on the local " +
        "server on a port, so that its JVM has loaded and compiled them (spark start does it in the background)",
    )
    .option("--port <n>", `gRPC port (default ${DEFAULT_SPARK_PORT})`)
    .action(async (raw: Record<string, unknown>) => {
      const opts = parseConfig((await options()).sparkPortOptions, raw);
      const { localSparkStatus, sparkWorkDir } = await sparkServer();
      const status = await localSparkStatus({ runDir: ctx.runDir, port: opts.port });
      if (!status.running || !status.state) {
        throw notRunning(opts.port);
      }
      const [{ connectSpark }, { warmUpSpark }] = await Promise.all([
        import("../spark-connect.ts"),
        import("../local/spark-warm-up.ts"),
      ]);
      const session = connectSpark(ctx, status.state.url);
      const started = Date.now();
      try {
        await warmUpSpark(session, sparkWorkDir(ctx.runDir, opts.port));
      } finally {
        await session.stop().catch(() => undefined);
      }
      ctx.out(
        `warmed up the Spark Connect server on port ${opts.port} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
    });

  spark
    .command("stop")
    .description("stop the local Spark Connect server orchard started on a port (exactly that process)")
    .option("--port <n>", `gRPC port (default ${DEFAULT_SPARK_PORT})`)
    .action(async (raw: Record<string, unknown>) => {
      const opts = parseConfig((await options()).sparkPortOptions, raw);
      const { stopLocalSpark } = await sparkServer();
      const stopped = await stopLocalSpark({ runDir: ctx.runDir, port: opts.port });
      ctx.out(
        stopped
          ? `stopped the local Spark Connect server on port ${opts.port}`
          : `no local Spark Connect server started by orchard on port ${opts.port}`,
      );
    });

  spark
    .command("status")
    .description("show whether the local Spark Connect server on a port runs (exit code 3 when it does not)")
    .option("--port <n>", `gRPC port (default ${DEFAULT_SPARK_PORT})`)
    .option("--json", "print the status as JSON")
    .action(async (raw: Record<string, unknown>) => {
      const opts = parseConfig((await options()).sparkPortOptions, raw);
      const { localSparkStatus } = await sparkServer();
      const status = await localSparkStatus({ runDir: ctx.runDir, port: opts.port });
      if (opts.json) ctx.out(JSON.stringify({ port: opts.port, ...status }));
      if (!status.running || !status.state) {
        throw notRunning(opts.port);
      }
      if (!opts.json) {
        const s = status.state;
        ctx.out(
          `running: ${s.url} (pid ${s.pid}, since ${s.startedAt}${status.listening ? "" : ", NOT accepting connections"})`,
        );
        ctx.out(
          `authentication: ${s.authenticated ? `bearer token${s.tokenFile ? ` (${s.tokenFile})` : ""}` : "none"}`,
        );
        ctx.out(`log: ${s.logFile}`);
      }
    });
}

/** The error of a command about a local server on `port` that is not running. */
function notRunning(port: number): SetupError {
  return new SetupError({
    component: "spark",
    message: `no local Spark Connect server started by orchard is running on port ${port} (start one with: orchard spark start --port ${port})`,
  });
}

/** The server's token: --token-file's, else ORCHARD_SPARK_TOKEN, else a fresh random one; `false` for --no-token. */
async function serverToken(
  ctx: CliContext,
  opts: { token: boolean; tokenFile?: string | undefined },
): Promise<string | false | undefined> {
  if (!opts.token) {
    if (opts.tokenFile) {
      throw new ConfigError({ field: "--no-token", expected: "either --no-token or --token-file, not both" });
    }
    return false;
  }
  if (opts.tokenFile) {
    const { readTokenFile } = await import("../local/token-file.ts");
    return readTokenFile(opts.tokenFile, "--token-file");
  }
  return ctx.env[SPARK_TOKEN_ENV] || undefined;
}

function s3FromEnv(ctx: CliContext, endpoint: string): S3Access {
  const accessKey = ctx.env.ORCHARD_S3_ACCESS_KEY;
  const secretKey = ctx.env.ORCHARD_S3_SECRET_KEY;
  if (!accessKey || !secretKey) {
    throw new ConfigError({
      field: "ORCHARD_S3_ACCESS_KEY / ORCHARD_S3_SECRET_KEY",
      expected: "both set in the environment when --s3-endpoint is given",
    });
  }
  return s3CompatibleAccess(endpoint, { accessKeyId: accessKey, secretAccessKey: secretKey });
}
