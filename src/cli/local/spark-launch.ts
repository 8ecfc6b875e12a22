import { join } from "node:path";
import type { S3Access } from "../../s3.ts";
import { outputCommitterConf } from "./output-committer.ts";

/** Default Spark Connect port (the same as PySpark's `sc://localhost`). */
export const DEFAULT_SPARK_PORT = 15002;

/** What `spark-submit` needs to start a Spark Connect server. */
export interface SparkLaunchSpec {
  readonly sparkHome: string;
  readonly s3aJars: readonly string[];
  readonly host: string;
  readonly port: number;
  readonly master: string;
  readonly conf: Readonly<Record<string, string>>;
  readonly token?: string;
  /** The S3 store Spark's `s3a://` file system should use. */
  readonly s3?: S3Access;
  /** Working folder of the server (its current directory and SQL warehouse). */
  readonly workDir: string;
  /** More jars for the driver and executors (`--jars`), after the S3A jars. */
  readonly jars?: readonly string[];
  /** The Spark application's name (`--name`); `orchard-connect-<port>` by default. */
  readonly appName?: string;
  /** More variables the server gets as given, after the inherited ones are trimmed (see {@link serverEnv}). */
  readonly extraEnv?: Readonly<Record<string, string>>;
}

/** The class spark-submit runs: Spark's own Connect server (what `start-connect-server.sh` starts). */
export const CONNECT_SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer";

/** Spark reads the Connect pre-shared token from this variable when its conf is unset. */
export const TOKEN_ENV = "SPARK_CONNECT_AUTHENTICATE_TOKEN";

/**
 * JVM options of the local server's driver JVM, which on a `local[...]` master is also the
 * executor: C1 only (`-XX:TieredStopAtLevel=1`). The JVM's part of a featurize is moving bytes
 * (pipe I/O, base64, parsing the features) around code that runs a few times per query (task and
 * Hadoop-configuration deserialization, planning); C2 kept compiling that code run after run, and
 * on a 2-core machine its compiler threads took more CPU than the executor tasks and took it from
 * the sidecar (bench/README.md, "Profile of featurize"; bench/profile/jvm-options-ab.ts). A
 * `spark.driver.extraJavaOptions` given in `conf` replaces it.
 */
export const LOCAL_DRIVER_JAVA_OPTIONS = "-XX:TieredStopAtLevel=1";

const CREDENTIAL_ENV = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"] as const;

/** Attempts per task on a local master, as `spark.task.maxFailures` gives a cluster by default. */
export const LOCAL_TASK_ATTEMPTS = 4;

/**
 * The master orchard starts a local driver on: `local`, `local[N]` and `local[*]` get task retries
 * (`local[N,F]` with F = {@link LOCAL_TASK_ATTEMPTS}), because Spark runs a local master's tasks
 * once whatever `spark.task.maxFailures` says, so one failed task (a sidecar that stopped answering,
 * a bridge that could not reach it) would fail the whole job where a cluster retries it. A master
 * that names its F already, and any non-local master, is kept as given.
 */
export function withTaskRetries(master: string): string {
  if (master === "local") return `local[1,${LOCAL_TASK_ATTEMPTS}]`;
  const m = /^local\[(\d+|\*)\]$/.exec(master);
  return m ? `local[${m[1]},${LOCAL_TASK_ATTEMPTS}]` : master;
}

/**
 * The masters for which Spark generates its own RPC secret when `spark.authenticate` is on
 * (`local`, `local[N]`, `local[*]`, `local[N,F]`; Spark's SecurityManager.initializeAuth). Others
 * (`local-cluster`, `spark://`, `yarn`, `k8s://`) need a secret the cluster's operator sets.
 */
const LOCAL_MASTER = /^local(\[(\d+|\*)(\s*,\s*\d+)?\])?$/;

/** Inherited variables the server keeps by exact name: the system, the locale, Kerberos, proxies. */
const KEPT_NAMES = new Set([
  "PATH",
  "HOME",
  "USER",
  "LOGNAME",
  "TMPDIR",
  "TMP",
  "TEMP",
  "LANG",
  "LANGUAGE",
  "TZ",
  "JAVA_HOME",
  "KRB5CCNAME",
  "KRB5_CONFIG",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
  "http_proxy",
  "https_proxy",
  "no_proxy",
  // The bridges Spark's TRANSFORM runs are Node programs.
  "NODE_OPTIONS",
]);

/**
 * Inherited variables the server keeps by prefix: the locale (`LC_*`), Spark's and Hadoop's own
 * settings (`SPARK_*`, `HADOOP_*`, `YARN_*`), and orchard's (`ORCHARD_*`: the bridges and a
 * sidecar they start read `ORCHARD_CACHE`, `ORCHARD_RUN_DIR`, `ORCHARD_SIDECAR_*`).
 */
const KEPT_PREFIXES = ["LC_", "SPARK_", "HADOOP_", "YARN_", "ORCHARD_"] as const;

/**
 * The AWS variables S3A's default credential chain reads (environment keys, the container and
 * instance-metadata providers, the region): kept only when orchard does not give the server its
 * own S3 keys, so that `s3a://` on AWS works with the caller's credentials.
 */
const AWS_CHAIN_ENV = new Set([
  ...CREDENTIAL_ENV,
  "AWS_REGION",
  "AWS_DEFAULT_REGION",
  "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
  "AWS_CONTAINER_CREDENTIALS_FULL_URI",
  "AWS_CONTAINER_AUTHORIZATION_TOKEN",
  "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
  "AWS_EC2_METADATA_DISABLED",
  "AWS_EC2_METADATA_SERVICE_ENDPOINT",
  "AWS_CA_BUNDLE",
]);

/**
 * Inherited variables the server never gets, whatever the rules above say: client settings
 * (spark-submit refuses to start a server when `SPARK_REMOTE` is set), client tokens, and secrets
 * in orchard's own namespace (the S3 keys of `orchard s3`/`spark start`, a token or secret).
 */
const DROPPED =
  /^(SPARK_REMOTE|SPARK_CONNECT_TOKEN|SPARK_CONNECT_AUTHENTICATE_TOKEN)$|^ORCHARD_.*(TOKEN|SECRET|PASSWORD|_KEY)$/;

/**
 * The environment the Spark server inherits from `baseEnv`: only what it needs (see
 * docs/security.md, "Environment"). Everything else — other programs' credentials, a client's
 * token, cloud keys orchard replaces with its own — stays out of the server and of the commands
 * its executors run, which inherit the server's environment.
 */
export function serverEnv(
  baseEnv: Readonly<Record<string, string | undefined>>,
  { keepAwsChain }: { keepAwsChain: boolean },
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(baseEnv)) {
    if (value === undefined || DROPPED.test(key)) continue;
    const kept =
      KEPT_NAMES.has(key) ||
      KEPT_PREFIXES.some((prefix) => key.startsWith(prefix)) ||
      (keepAwsChain && AWS_CHAIN_ENV.has(key));
    if (kept) env[key] = value;
  }
  return env;
}

/**
 * Builds the `spark-submit` command line and the child's environment ({@link serverEnv} of
 * `baseEnv`, plus the spec's). Secrets (the Connect token, the S3 keys) only ever go into the
 * environment, never into the arguments, because command lines are visible to every user of the
 * machine (`ps`) and end up in logs; the environment is readable by the same user only.
 */
export function sparkLaunchCommand(
  spec: SparkLaunchSpec,
  baseEnv: Readonly<Record<string, string | undefined>>,
): { command: string; args: string[]; env: Record<string, string> } {
  const conf: Record<string, string> = {
    "spark.connect.grpc.binding.address": spec.host,
    "spark.connect.grpc.binding.port": String(spec.port),
    // Keep the driver's RPC, block manager and UI off the network: local mode needs none of them outside.
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.ui.enabled": "false",
    // Local masters: Spark's RPC (driver, block manager) requires a secret it generates itself,
    // so no other local process can talk to the driver's internal ports either.
    ...(LOCAL_MASTER.test(spec.master) ? { "spark.authenticate": "true" } : {}),
    "spark.sql.warehouse.dir": join(spec.workDir, "warehouse"),
    // Parquet commits through the S3A magic committer on s3a:// (see output-committer.ts).
    ...outputCommitterConf(spec.s3aJars),
    ...(/^local(?:\[|$)/.test(spec.master) ? { "spark.driver.extraJavaOptions": LOCAL_DRIVER_JAVA_OPTIONS } : {}),
    ...(spec.s3 ? s3aConf(spec.s3) : {}),
    ...spec.conf,
  };
  const args = [
    "--master",
    withTaskRetries(spec.master),
    "--class",
    CONNECT_SERVER_CLASS,
    "--name",
    spec.appName ?? `orchard-connect-${spec.port}`,
  ];
  const jars = [...spec.s3aJars, ...(spec.jars ?? [])];
  if (jars.length > 0) args.push("--jars", jars.join(","));
  for (const [key, value] of Object.entries(conf)) args.push("--conf", `${key}=${value}`);
  args.push("spark-internal");

  const env = serverEnv(baseEnv, { keepAwsChain: !(spec.s3 && hasKeys(spec.s3)) });
  Object.assign(env, spec.extraEnv ?? {});
  env.SPARK_HOME = spec.sparkHome;
  env.SPARK_LOCAL_IP = "127.0.0.1";
  if (spec.token) env[TOKEN_ENV] = spec.token;
  if (spec.s3) {
    env.AWS_REGION = spec.s3.region;
    if (hasKeys(spec.s3)) {
      for (const key of CREDENTIAL_ENV) delete env[key];
      env.AWS_ACCESS_KEY_ID = spec.s3.accessKeyId;
      env.AWS_SECRET_ACCESS_KEY = spec.s3.secretAccessKey;
      if (spec.s3.sessionToken) env.AWS_SESSION_TOKEN = spec.s3.sessionToken;
    }
  }
  return { command: join(spec.sparkHome, "bin", "spark-submit"), args, env };
}

function hasKeys(s3: S3Access): s3 is S3Access & { accessKeyId: string; secretAccessKey: string } {
  return Boolean(s3.accessKeyId && s3.secretAccessKey);
}

/**
 * Hadoop S3A settings for `s3`: its endpoint (AWS's own when absent), region and addressing. Its
 * keys, when it has them, come from the server's environment; without them S3A's default chain applies.
 */
export function s3aConf(s3: S3Access): Record<string, string> {
  return {
    ...(s3.endpoint
      ? {
          "spark.hadoop.fs.s3a.endpoint": s3.endpoint,
          "spark.hadoop.fs.s3a.connection.ssl.enabled": String(s3.endpoint.startsWith("https:")),
        }
      : {}),
    "spark.hadoop.fs.s3a.endpoint.region": s3.region,
    "spark.hadoop.fs.s3a.path.style.access": String(s3.pathStyle),
    ...(hasKeys(s3)
      ? {
          "spark.hadoop.fs.s3a.aws.credentials.provider":
            "software.amazon.awssdk.auth.credentials.EnvironmentVariableCredentialsProvider",
        }
      : {}),
  };
}
