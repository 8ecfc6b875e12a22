import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { cacheRootFromEnv } from "@orchard/udf-server/cache-root";
import { commandLine, isAlive, stopProcessGroup, tailFile } from "@orchard/udf-server/process";
import { SparkSession } from "../../connect/spark-session.ts";
import { OrchardError, SetupError } from "../../errors.ts";
import type { S3Access } from "../../s3.ts";
import { type InstallLayout, installLayout, SPARK_VERSION, setupHint } from "./install-layout.ts";
import { checkJava } from "./java-runtime.ts";
import { canConnect, dialHost, isPortFree, urlHost } from "./ports.ts";
import { redact } from "./redact.ts";
import { readState, removeState, type ServerState, writeState } from "./server-state.ts";
import { CONNECT_SERVER_CLASS, DEFAULT_SPARK_PORT, sparkLaunchCommand } from "./spark-launch.ts";
import { warmUpSpark } from "./spark-warm-up.ts";
import { newToken, removeTokenFile, sparkTokenFile, writeTokenFile } from "./token-file.ts";

/** Log line the Connect server prints once its gRPC service listens (`... started at: 127.0.0.1:15002`). */
const STARTED_LINE = /Spark Connect server started at: \S*:(\d+)/;

export interface LocalSparkOptions {
  /** gRPC port; 15002 by default. */
  port?: number;
  /** Address the Connect service binds; loopback by default. */
  host?: string;
  /** Spark master; `local[2]` by default. */
  master?: string;
  /** Extra Spark settings (`spark.sql.shuffle.partitions`, ...), applied last. */
  conf?: Record<string, string>;
  /**
   * Pre-shared bearer token clients must send (Spark's `spark.connect.authenticate.token`), passed
   * to the server through its environment and kept in a 0600 file next to its state file
   * ({@link sparkTokenFile}), where orchard's commands find it. A fresh random one by default;
   * `false` starts a server that accepts any local client (an explicit opt-out).
   */
  token?: string | false;
  /** More variables for the server, after its inherited environment is trimmed. */
  extraEnv?: Readonly<Record<string, string>>;
  /** S3-compatible store for `s3a://` paths; its keys go through the server's environment. */
  s3?: S3Access;
  /** Folder for the server log, its state file and its working folder. */
  logDir: string;
  /** Where Spark and the S3A jars are installed; from `ORCHARD_CACHE` (in `env`) by default. */
  layout?: InstallLayout;
  /** Environment the server inherits (PATH, JAVA_HOME, ...); this process's by default. */
  env?: Readonly<Record<string, string | undefined>>;
  /** How long to wait for the server to answer; 180 s by default. */
  startTimeoutMs?: number;
  /** More jars for the driver and executors (`--jars`). */
  jars?: readonly string[];
  /** The Spark application's name; `orchard-connect-<port>` by default. */
  appName?: string;
  /** Aborting it during start-up stops the half-started server and rejects with an interrupted error. */
  signal?: AbortSignal;
  /**
   * Before returning, runs a small job of each kind a pipeline run is made of ({@link warmUpSpark}),
   * so that the first run finds the JVM warm; its time is in `startupMs` and `warmUpMs`. Off by default.
   */
  warmUp?: boolean;
}

/** A running local Spark Connect server started by {@link startLocalSpark}. */
export interface LocalSpark {
  readonly pid: number;
  readonly port: number;
  /** `sc://host:port` without the token. */
  readonly remote: string;
  readonly logFile: string;
  /** The 0600 file holding the token clients must send; undefined for a server started with `token: false`. */
  readonly tokenFile: string | undefined;
  /** Milliseconds from spawn to "answering" (and warmed up, when asked). */
  readonly startupMs: number;
  /** Milliseconds the warm-up took; undefined when none was asked for. */
  readonly warmUpMs: number | undefined;
  /** Stops exactly this server (its process group) and waits until it is gone. */
  stop(): Promise<void>;
}

/** The working folder of the local server on `port` whose log and state are in `logDir` (removed when it stops). */
export function sparkWorkDir(logDir: string, port: number): string {
  return join(logDir, `spark-${port}`);
}

/** Throws a {@link SetupError} naming the command to run when Spark or its S3A jars are not installed in `layout`. */
export function assertSparkInstalled(layout: InstallLayout): void {
  if (!existsSync(join(layout.sparkHome, "bin", "spark-submit"))) {
    throw new SetupError({
      component: "spark",
      message: `Spark ${SPARK_VERSION} is not installed (looked in ${layout.sparkHome}): ${setupHint("spark")}`,
    });
  }
  const missingJar = layout.s3aJars.find((jar) => !existsSync(jar));
  if (missingJar) {
    throw new SetupError({
      component: "spark",
      message: `the S3A jar ${missingJar} is missing: ${setupHint("spark")}`,
    });
  }
}

/**
 * Starts Apache Spark's Connect server (spark-submit with `SparkConnectServer`, like Spark's
 * `sbin/start-connect-server.sh`) on loopback, detached in its own process group, and waits until
 * it listens and has logged that it started. Throws a {@link SetupError} when Java or Spark is
 * missing, when the port is taken, or when it does not come up in time (with the redacted log tail).
 */
export async function startLocalSpark(options: LocalSparkOptions): Promise<LocalSpark> {
  const env = options.env ?? process.env;
  const host = options.host ?? "127.0.0.1";
  const port = options.port ?? DEFAULT_SPARK_PORT;
  const layout = options.layout ?? installLayout(cacheRootFromEnv(env, homedir()), env.ORCHARD_SPARK_HOME || undefined);
  const token = options.token === false ? undefined : (options.token ?? newToken());
  const secrets = [token, options.s3?.accessKeyId, options.s3?.secretAccessKey, options.s3?.sessionToken];

  assertSparkInstalled(layout);
  checkJava(env);
  if (!(await isPortFree(host, port))) throw portTaken(host, port);

  // The folder of the token file: private when this creates it (an existing one keeps its mode).
  mkdirSync(options.logDir, { recursive: true, mode: 0o700 });
  const workDir = sparkWorkDir(options.logDir, port);
  mkdirSync(workDir, { recursive: true });
  const logFile = join(options.logDir, `spark-${port}.log`);
  const {
    command,
    args,
    env: childEnv,
  } = sparkLaunchCommand(
    {
      sparkHome: layout.sparkHome,
      s3aJars: layout.s3aJars,
      host,
      port,
      master: options.master ?? "local[2]",
      conf: options.conf ?? {},
      token,
      s3: options.s3,
      workDir,
      ...(options.extraEnv ? { extraEnv: options.extraEnv } : {}),
      ...(options.jars ? { jars: options.jars } : {}),
      ...(options.appName ? { appName: options.appName } : {}),
    },
    env,
  );

  // Written before the server starts, so that it is never up without its token on record.
  const tokenFile = token ? sparkTokenFile(options.logDir, port) : undefined;
  if (tokenFile && token) writeTokenFile(tokenFile, token);
  const out = openSync(logFile, "w", 0o600);
  const started = Date.now();
  const child = spawn(command, args, { cwd: workDir, env: childEnv, detached: true, stdio: ["ignore", out, out] });
  closeSync(out);
  let exited: number | null | undefined;
  child.once("exit", (code, signal) => {
    exited = code ?? (signal ? -1 : null);
  });
  const spawnError = new Promise<Error>((resolve) => child.once("error", resolve));
  child.unref();
  const pid = child.pid;
  if (pid === undefined) {
    if (tokenFile) removeTokenFile(tokenFile);
    const err = await spawnError;
    throw new SetupError({ component: "spark", message: `could not start ${command}: ${err.message}`, cause: err });
  }

  const stop = async () => {
    await stopProcessGroup(pid);
    rmSync(workDir, { recursive: true, force: true });
    const state = readState(options.logDir, "spark", port);
    if (state?.pid === pid) removeState(options.logDir, "spark", port);
    if (tokenFile && (state === undefined || state.pid === pid)) removeTokenFile(tokenFile);
  };
  const fail = async (message: string) => {
    await stopProcessGroup(pid);
    if (tokenFile) removeTokenFile(tokenFile);
    const tail = redact(tailFile(logFile, 25), secrets);
    return new SetupError({
      component: "spark",
      message: tail ? `${message}\n--- last lines of ${logFile} ---\n${tail}` : message,
    });
  };

  const timeoutMs = options.startTimeoutMs ?? 180_000;
  const deadline = started + timeoutMs;
  const interrupted = async () => {
    await stop();
    return new OrchardError("interrupted", { message: "interrupted while the Spark Connect server was starting" });
  };
  for (;;) {
    if (options.signal?.aborted) throw await interrupted();
    const log = readLog(logFile);
    if (/BindException|Address already in use|Failed to bind/.test(log)) {
      await stopProcessGroup(pid);
      if (tokenFile) removeTokenFile(tokenFile);
      throw portTaken(host, port);
    }
    if (exited !== undefined) throw await fail(`Spark Connect server exited during start-up (code ${exited})`);
    const startedOn = STARTED_LINE.exec(log)?.[1];
    if (startedOn !== undefined && Number(startedOn) !== port) {
      throw await fail(`Spark Connect server bound port ${startedOn} instead of ${port}`);
    }
    if (startedOn !== undefined && (await canConnect(dialHost(host), port))) break;
    if (Date.now() > deadline) {
      throw await fail(
        `Spark Connect server did not start within ${Math.round(timeoutMs / 1000)} s on ${host}:${port}`,
      );
    }
    await sleep(250);
  }

  const remote = `sc://${urlHost(dialHost(host))}:${port}`;
  // Listening is not serving: the server is up once a real Connect RPC (Config) answers.
  const probeBuilder = SparkSession.builder.remote(remote);
  if (token) probeBuilder.token(token, "the server's token");
  const probe = probeBuilder.create();
  let warmUpMs: number | undefined;
  try {
    for (;;) {
      if (options.signal?.aborted) throw await interrupted();
      try {
        await probe.version();
        break;
      } catch (err) {
        if (Date.now() > deadline || exited !== undefined) {
          throw await fail(`Spark Connect server on ${host}:${port} does not answer RPCs: ${(err as Error).message}`);
        }
        await sleep(250);
      }
    }
    if (options.warmUp) {
      const t = Date.now();
      try {
        await warmUpSpark(probe, workDir);
      } catch (err) {
        throw await fail(
          `Spark Connect server on ${host}:${port} answers but failed its warm-up: ${(err as Error).message}`,
        );
      }
      warmUpMs = Date.now() - t;
    }
  } finally {
    await probe.stop().catch(() => undefined);
  }
  writeState(options.logDir, {
    component: "spark",
    pid,
    host,
    port,
    url: remote,
    logFile,
    startedAt: new Date(started).toISOString(),
    authenticated: token !== undefined,
    ...(tokenFile ? { tokenFile } : {}),
  });
  return { pid, port, remote, logFile, tokenFile, startupMs: Date.now() - started, warmUpMs, stop };
}

/** Status of a local Spark server recorded in `runDir`. */
export interface LocalSparkStatus {
  readonly running: boolean;
  /** Whether the gRPC port accepts connections. */
  readonly listening: boolean;
  readonly state?: ServerState;
}

/**
 * Reports whether the server the CLI recorded for `port` is still running (its pid alive and
 * still a Spark Connect server) and listening. A stale record is removed.
 */
export async function localSparkStatus({
  runDir,
  port = DEFAULT_SPARK_PORT,
}: {
  runDir: string;
  port?: number;
}): Promise<LocalSparkStatus> {
  const state = readState(runDir, "spark", port);
  if (!state) return { running: false, listening: false };
  if (!ownsPid(state.pid)) {
    removeState(runDir, "spark", port);
    removeTokenFile(sparkTokenFile(runDir, port));
    return { running: false, listening: false };
  }
  const listening = await canConnect(dialHost(state.host), state.port);
  return { running: true, listening, state };
}

/**
 * Stops the server the CLI recorded for `port` (exactly that pid and its process group) and
 * waits until it has exited. Returns false when there was nothing recorded to stop.
 */
export async function stopLocalSpark({
  runDir,
  port = DEFAULT_SPARK_PORT,
}: {
  runDir: string;
  port?: number;
}): Promise<boolean> {
  const state = readState(runDir, "spark", port);
  if (!state) return false;
  const mine = ownsPid(state.pid);
  if (mine) await stopProcessGroup(state.pid);
  removeState(runDir, "spark", port);
  removeTokenFile(sparkTokenFile(runDir, port));
  return mine;
}

function ownsPid(pid: number): boolean {
  if (!isAlive(pid)) return false;
  const cmd = commandLine(pid);
  return cmd === undefined || cmd.includes(CONNECT_SERVER_CLASS);
}

function readLog(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

function portTaken(host: string, port: number): SetupError {
  return new SetupError({
    component: "spark",
    message: `port ${port} on ${host} is already in use; pick another with --port <n> (or stop whatever listens there)`,
  });
}
