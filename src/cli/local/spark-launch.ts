import { join } from "node:path";
import type { S3Access } from "../../s3.ts";

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

/**
 * Builds the `spark-submit` command line and the child's environment. Secrets (the Connect
 * token, the S3 keys) only ever go into the environment, never into the arguments, because
 * command lines are visible to every user of the machine (`ps`) and end up in logs.
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
    "spark.sql.warehouse.dir": join(spec.workDir, "warehouse"),
    ...(/^local(?:\[|$)/.test(spec.master) ? { "spark.driver.extraJavaOptions": LOCAL_DRIVER_JAVA_OPTIONS } : {}),
    ...(spec.s3 ? s3aConf(spec.s3) : {}),
    ...spec.conf,
  };
  const args = [
    "--master",
    spec.master,
    "--class",
    CONNECT_SERVER_CLASS,
    "--name",
    spec.appName ?? `orchard-connect-${spec.port}`,
  ];
  const jars = [...spec.s3aJars, ...(spec.jars ?? [])];
  if (jars.length > 0) args.push("--jars", jars.join(","));
  for (const [key, value] of Object.entries(conf)) args.push("--conf", `${key}=${value}`);
  args.push("spark-internal");

  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(baseEnv)) {
    // spark-submit refuses to start a server when SPARK_REMOTE (a client setting) is inherited.
    if (value !== undefined && key !== TOKEN_ENV && key !== "SPARK_REMOTE") env[key] = value;
  }
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
