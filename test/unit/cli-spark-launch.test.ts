import { describe, expect, it } from "vitest";
import { checkJava, parseJavaVersion } from "../../src/cli/local/java-runtime.ts";
import { redact } from "../../src/cli/local/redact.ts";
import {
  CONNECT_SERVER_CLASS,
  LOCAL_DRIVER_JAVA_OPTIONS,
  sparkLaunchCommand,
  TOKEN_ENV,
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

describe("sparkLaunchCommand", () => {
  it("runs SparkConnectServer through spark-submit bound to loopback with the S3A jars", () => {
    const { command, args } = sparkLaunchCommand(spec, { PATH: "/usr/bin" });
    expect(command).toBe("/opt/spark/bin/spark-submit");
    expect(args.slice(0, 4)).toEqual(["--master", "local[2]", "--class", CONNECT_SERVER_CLASS]);
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

  it("lets user settings override the defaults (applied last)", () => {
    const { args } = sparkLaunchCommand({ ...spec, conf: { "spark.ui.enabled": "true" } }, {});
    expect(confOf(args)["spark.ui.enabled"]).toBe("true");
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
