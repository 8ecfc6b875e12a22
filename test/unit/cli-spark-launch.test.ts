import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkJava, parseJavaVersion } from "../../src/cli/local/java-runtime.ts";
import { HADOOP_CLOUD_JAR, OUTPUT_COMMITTER_CONF } from "../../src/cli/local/output-committer.ts";
import { redact } from "../../src/cli/local/redact.ts";
import {
  CONNECT_SERVER_CLASS,
  LOCAL_DRIVER_JAVA_OPTIONS,
  serverEnv,
  sparkLaunchCommand,
  TOKEN_ENV,
  withTaskRetries,
} from "../../src/cli/local/spark-launch.ts";
import { SetupError } from "../../src/errors.ts";
import { s3CompatibleAccess } from "../../src/s3.ts";

const spec = {
  sparkHome: "/opt/spark",
  s3aJars: ["/jars/hadoop-aws.jar", "/jars/bundle.jar"],
  host: "127.0.0.1",
  port: 15123,
  master: "local[2]",
  conf: { "spark.sql.shuffle.partitions": "4" },
  workDir: "/tmp/work",
};

function confOf(args: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  args.forEach((a, i) => {
    if (a === "--conf") {
      const kv = args[i + 1] as string;
      out[kv.slice(0, kv.indexOf("="))] = kv.slice(kv.indexOf("=") + 1);
    }
  });
  return out;
}

describe("withTaskRetries", () => {
  it("gives local masters 4 attempts per task and keeps every other master as given", () => {
    expect(withTaskRetries("local")).toBe("local[1,4]");
    expect(withTaskRetries("local[2]")).toBe("local[2,4]");
    expect(withTaskRetries("local[*]")).toBe("local[*,4]");
    expect(withTaskRetries("local[2,1]")).toBe("local[2,1]");
    expect(withTaskRetries("local-cluster[2,1,1024]")).toBe("local-cluster[2,1,1024]");
    expect(withTaskRetries("spark://h:7077")).toBe("spark://h:7077");
    expect(withTaskRetries("yarn")).toBe("yarn");
  });
});

describe("sparkLaunchCommand", () => {
  it("runs SparkConnectServer through spark-submit bound to loopback with the S3A jars", () => {
    const { command, args } = sparkLaunchCommand(spec, { PATH: "/usr/bin" });
    expect(command).toBe("/opt/spark/bin/spark-submit");
    expect(args.slice(0, 4)).toEqual(["--master", "local[2,4]", "--class", CONNECT_SERVER_CLASS]);
    expect(args[args.indexOf("--jars") + 1]).toBe("/jars/hadoop-aws.jar,/jars/bundle.jar");
    expect(args.at(-1)).toBe("spark-internal");
    expect(confOf(args)).toMatchObject({
      "spark.connect.grpc.binding.address": "127.0.0.1",
      "spark.connect.grpc.binding.port": "15123",
      "spark.driver.host": "127.0.0.1",
      "spark.driver.bindAddress": "127.0.0.1",
      "spark.ui.enabled": "false",
      "spark.sql.shuffle.partitions": "4",
    });
  });

  it("commits Parquet through spark-hadoop-cloud and the S3A magic committer when that jar is given", () => {
    const withCloud = confOf(
      sparkLaunchCommand({ ...spec, s3aJars: [...spec.s3aJars, `/jars/${HADOOP_CLOUD_JAR}`] }, {}).args,
    );
    expect(withCloud).toMatchObject({
      "spark.sql.sources.commitProtocolClass": "org.apache.spark.internal.io.cloud.PathOutputCommitProtocol",
      "spark.sql.parquet.output.committer.class": "org.apache.spark.internal.io.cloud.BindingParquetOutputCommitter",
      "spark.hadoop.fs.s3a.committer.name": "magic",
    });
    // Without the jar the class would not load at the first write: Spark's default protocol stays.
    expect(confOf(sparkLaunchCommand(spec, {}).args)["spark.sql.sources.commitProtocolClass"]).toBeUndefined();
    // A caller's conf still wins.
    const overridden = sparkLaunchCommand(
      { ...spec, s3aJars: [`/jars/${HADOOP_CLOUD_JAR}`], conf: { "spark.hadoop.fs.s3a.committer.name": "directory" } },
      {},
    );
    expect(confOf(overridden.args)["spark.hadoop.fs.s3a.committer.name"]).toBe("directory");
  });

  it("gives the docker image's Connect server the same committer settings", () => {
    const node = readFileSync(join(import.meta.dirname, "..", "..", "docker", "bin", "orchard-node"), "utf8");
    for (const [key, value] of Object.entries(OUTPUT_COMMITTER_CONF)) expect(node).toContain(`${key}=${value}`);
  });

  it("runs a local master's driver JVM with C1 only, unless the caller sets its Java options", () => {
    expect(confOf(sparkLaunchCommand(spec, {}).args)["spark.driver.extraJavaOptions"]).toBe(LOCAL_DRIVER_JAVA_OPTIONS);
    expect(LOCAL_DRIVER_JAVA_OPTIONS).toBe("-XX:TieredStopAtLevel=1");
    const own = { ...spec, conf: { "spark.driver.extraJavaOptions": "-Dx=y" } };
    expect(confOf(sparkLaunchCommand(own, {}).args)["spark.driver.extraJavaOptions"]).toBe("-Dx=y");
    const cluster = { ...spec, master: "local-cluster[2,1,1024]" };
    expect(confOf(sparkLaunchCommand(cluster, {}).args)["spark.driver.extraJavaOptions"]).toBeUndefined();
  });

  it("appends extra jars after the S3A jars and takes an application name", () => {
    const { args } = sparkLaunchCommand({ ...spec, jars: ["/x/a.jar", "https://r/b.jar"], appName: "nightly" }, {});
    expect(args[args.indexOf("--jars") + 1]).toBe("/jars/hadoop-aws.jar,/jars/bundle.jar,/x/a.jar,https://r/b.jar");
    expect(args[args.indexOf("--name") + 1]).toBe("nightly");
    expect(sparkLaunchCommand(spec, {}).args).toContain("orchard-connect-15123");
  });

  it("passes the token and S3 keys only through the environment, never the arguments", () => {
    const s3 = s3CompatibleAccess("http://127.0.0.1:9000", {
      accessKeyId: "AKEYVALUE",
      secretAccessKey: "SECRETVALUE123",
    });
    const { args, env } = sparkLaunchCommand({ ...spec, token: "TOKENVALUE", s3 }, { PATH: "/usr/bin" });
    const joined = args.join(" ");
    for (const secret of ["TOKENVALUE", "AKEYVALUE", "SECRETVALUE123"]) expect(joined).not.toContain(secret);
    expect(env[TOKEN_ENV]).toBe("TOKENVALUE");
    expect(env.AWS_ACCESS_KEY_ID).toBe("AKEYVALUE");
    expect(env.AWS_SECRET_ACCESS_KEY).toBe("SECRETVALUE123");
    expect(confOf(args)).toMatchObject({
      "spark.hadoop.fs.s3a.endpoint": "http://127.0.0.1:9000",
      "spark.hadoop.fs.s3a.path.style.access": "true",
      "spark.hadoop.fs.s3a.connection.ssl.enabled": "false",
    });
    expect(confOf(args)["spark.hadoop.fs.s3a.aws.credentials.provider"]).toMatch(
      /EnvironmentVariableCredentialsProvider$/,
    );
  });

  it("does not leak an inherited token into a server started without one, and replaces inherited AWS keys", () => {
    const s3 = s3CompatibleAccess("https://s3.example:443", { accessKeyId: "NEWKEY", secretAccessKey: "NEWSECRET1" });
    const { env, args } = sparkLaunchCommand(
      { ...spec, s3 },
      { PATH: "/usr/bin", [TOKEN_ENV]: "inherited", AWS_SESSION_TOKEN: "old-session", AWS_ACCESS_KEY_ID: "OLD" },
    );
    expect(env[TOKEN_ENV]).toBeUndefined();
    expect(env.AWS_SESSION_TOKEN).toBeUndefined();
    expect(env.AWS_ACCESS_KEY_ID).toBe("NEWKEY");
    expect(env.PATH).toBe("/usr/bin");
    expect(confOf(args)["spark.hadoop.fs.s3a.connection.ssl.enabled"]).toBe("true");
  });

  it.each([
    ["local", "true"],
    ["local[2]", "true"],
    ["local[*]", "true"],
    ["local[2,3]", "true"],
    ["local-cluster[2,1,1024]", undefined],
    ["spark://h:7077", undefined],
    ["yarn", undefined],
  ])("master %s: spark.authenticate %s (Spark generates the secret for local masters only)", (master, expected) => {
    expect(confOf(sparkLaunchCommand({ ...spec, master }, {}).args)["spark.authenticate"]).toBe(expected);
  });

  it("lets user settings override the defaults (applied last)", () => {
    const { args } = sparkLaunchCommand({ ...spec, conf: { "spark.ui.enabled": "true" } }, {});
    expect(confOf(args)["spark.ui.enabled"]).toBe("true");
  });
});

describe("the server's environment: only what it needs", () => {
  // [variable, kept when orchard gives the server its own S3 keys, kept otherwise]
  const table: [string, boolean, boolean][] = [
    ["PATH", true, true],
    ["HOME", true, true],
    ["USER", true, true],
    ["TMPDIR", true, true],
    ["LANG", true, true],
    ["LC_ALL", true, true],
    ["TZ", true, true],
    ["JAVA_HOME", true, true],
    ["SPARK_CONF_DIR", true, true],
    ["SPARK_SUBMIT_OPTS", true, true],
    ["HADOOP_CONF_DIR", true, true],
    ["YARN_CONF_DIR", true, true],
    ["KRB5CCNAME", true, true],
    ["HTTPS_PROXY", true, true],
    ["NODE_OPTIONS", true, true],
    ["ORCHARD_CACHE", true, true],
    ["ORCHARD_RUN_DIR", true, true],
    ["ORCHARD_SIDECAR_MODEL", true, true],
    ["AWS_ACCESS_KEY_ID", false, true],
    ["AWS_SECRET_ACCESS_KEY", false, true],
    ["AWS_SESSION_TOKEN", false, true],
    ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", false, true],
    ["AWS_PROFILE", false, false],
    ["SPARK_REMOTE", false, false],
    ["SPARK_CONNECT_TOKEN", false, false],
    ["SPARK_CONNECT_AUTHENTICATE_TOKEN", false, false],
    ["ORCHARD_SPARK_TOKEN", false, false],
    ["ORCHARD_S3_ACCESS_KEY", false, false],
    ["ORCHARD_S3_SECRET_KEY", false, false],
    ["ORCHARD_SIDECAR_SECRET", false, false],
    ["GITHUB_TOKEN", false, false],
    ["DATABASE_URL", false, false],
    ["SSH_AUTH_SOCK", false, false],
    ["NPM_CONFIG_TOKEN", false, false],
    ["DISPLAY", false, false],
  ];
  it.each(table)("%s: kept with orchard's S3 keys %s, without %s", (name, withKeys, withoutKeys) => {
    expect(name in serverEnv({ [name]: "v" }, { keepAwsChain: false })).toBe(withKeys);
    expect(name in serverEnv({ [name]: "v" }, { keepAwsChain: true })).toBe(withoutKeys);
  });

  it("the spawned environment is the trimmed one plus the server's own settings", () => {
    const s3 = s3CompatibleAccess("http://127.0.0.1:9000", { accessKeyId: "AK", secretAccessKey: "SECRET123" });
    const { env } = sparkLaunchCommand(
      { ...spec, token: "TOK", s3, extraEnv: { ORCHARD_EXTRA: "x" } },
      { PATH: "/usr/bin", GITHUB_TOKEN: "ghp", AWS_PROFILE: "prod", SPARK_REMOTE: "sc://x" },
    );
    expect(Object.keys(env).sort()).toEqual(
      [
        "PATH",
        "ORCHARD_EXTRA",
        "SPARK_HOME",
        "SPARK_LOCAL_IP",
        TOKEN_ENV,
        "AWS_REGION",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
      ].sort(),
    );
  });
});

describe("parseJavaVersion", () => {
  it.each([
    ['openjdk version "17.0.15" 2025-04-15', 17],
    ['java version "1.8.0_392"', 8],
    ['openjdk version "21" 2023-09-19', 21],
    ["no java here", undefined],
  ])("%s -> %s", (out, expected) => {
    expect(parseJavaVersion(out)).toBe(expected);
  });
});

describe("redact", () => {
  it("replaces every occurrence of each secret and ignores empty ones", () => {
    expect(redact("key=abc token=xyz again abc", ["abc", "xyz", "", undefined])).toBe("key=*** token=*** again ***");
  });
});

describe("checkJava", () => {
  it("explains what to install when no java is on PATH or JAVA_HOME", () => {
    expect(() => checkJava({ PATH: "/nonexistent-orchard-bin" })).toThrow(SetupError);
    expect(() => checkJava({ PATH: "/nonexistent-orchard-bin" })).toThrow(
      /^Java 17 or newer is required to run Spark, and none was found \(set JAVA_HOME or put java on PATH/,
    );
  });
});
