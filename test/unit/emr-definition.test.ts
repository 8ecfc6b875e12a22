import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildRunJobFlowRequest, instanceTypesOf, readDefinition } from "../../src/emr/cluster-definition.ts";
import { sparkRemoteFor, stepArgs } from "../../src/emr/cluster-ops.ts";
import { parseS3Uri } from "../../src/emr/s3-location.ts";

const EMR = join(import.meta.dirname, "..", "..", "emr");
const staging = { bucket: "ops", prefix: "orchard/stage" };

describe("the cluster definition (emr/cluster.json)", () => {
  it("is a RunJobFlow request for emr-spark-8.1.0 with what the issue asks for", () => {
    const req = buildRunJobFlowRequest(readDefinition(), { staging });
    expect(req.ReleaseLabel).toBe("emr-spark-8.1.0");
    expect(req.Applications).toEqual([{ Name: "Spark" }]);
    expect(req.LogUri).toBe("s3://ops/orchard/stage/logs/");
    expect(req.AutoTerminationPolicy?.IdleTimeout).toBe(3600);
    expect(req.EbsRootVolumeSize).toBe(30);
    expect(req.Instances?.Ec2KeyName).toBeUndefined(); // no SSH key: access through SSM
    expect(req.BootstrapActions?.[0]?.ScriptBootstrapAction).toEqual({
      Path: "s3://ops/orchard/stage/bootstrap/orchard-bootstrap.sh",
      Args: ["--staging", "s3://ops/orchard/stage"],
    });
    const props = req.Configurations?.find((c) => c.Classification === "spark-defaults")?.Properties ?? {};
    expect(props["spark.executorEnv.ORCHARD_SIDECAR"]).toBe("127.0.0.1:8815");
    expect(props["spark.executorEnv.OPENBLAS_NUM_THREADS"]).toBe("1");
    expect(props["spark.sql.parquet.fs.optimized.committer.optimization-enabled"]).toBe("true");
    expect(JSON.stringify(req)).not.toContain("{{");
    expect(req.Tags).toContainEqual({ Key: "orchard:staging", Value: "s3://ops/orchard/stage" });
  });

  it("takes the command line's overrides", () => {
    const req = buildRunJobFlowRequest(readDefinition(), {
      staging,
      overrides: {
        releaseLabel: "emr-spark-8.0.0",
        coreInstanceType: "c6i.4xlarge",
        coreCount: 5,
        spot: true,
        idleTimeoutSeconds: 600,
        subnetId: "subnet-0abc",
        logUri: "s3://logs/emr/",
        tags: { team: "vision" },
      },
    });
    expect(req.ReleaseLabel).toBe("emr-spark-8.0.0");
    const core = req.Instances?.InstanceGroups?.find((g) => g.InstanceRole === "CORE");
    const primary = req.Instances?.InstanceGroups?.find((g) => g.InstanceRole === "MASTER");
    expect(core).toMatchObject({ InstanceType: "c6i.4xlarge", InstanceCount: 5, Market: "SPOT" });
    expect(primary?.Market).toBe("ON_DEMAND");
    expect(req.AutoTerminationPolicy).toEqual({ IdleTimeout: 600 });
    expect(req.Instances?.Ec2SubnetId).toBe("subnet-0abc");
    expect(req.LogUri).toBe("s3://logs/emr/");
    expect(req.Tags).toContainEqual({ Key: "team", Value: "vision" });
    expect(instanceTypesOf(req).map((t) => t.type)).toEqual(["m6i.xlarge", "c6i.4xlarge"]);
  });

  it("a definition that is not JSON, or leaves a placeholder unknown, is a config error naming --definition", () => {
    const bad = join(EMR, "..", "package.json");
    expect(() => readDefinition(bad)).toThrow(/--definition/);
    const def = readDefinition();
    def.Name = "{{mystery}}";
    expect(() => buildRunJobFlowRequest(def, { staging })).toThrow(/invalid --definition.*\{\{mystery\}\}/);
  });

  it("s3:// and s3a:// name the same objects", () => {
    expect(parseS3Uri("s3a://b-1/x/y/", "--staging")).toEqual({ bucket: "b-1", prefix: "x/y" });
    expect(parseS3Uri("s3://b-1", "--staging")).toEqual({ bucket: "b-1", prefix: "" });
    expect(() => parseS3Uri("http://b/x", "--staging")).toThrow(/invalid --staging/);
  });
});

describe("steps and sessions", () => {
  it("a run step is orchard submit --master yarn on the primary node", () => {
    expect(stepArgs(["run", "--input", "s3://a/b"])).toEqual([
      "/usr/local/bin/orchard",
      "submit",
      "--master",
      "yarn",
      "--",
      "run",
      "--input",
      "s3://a/b",
    ]);
  });

  it("the session endpoint becomes a TLS Spark Connect URL", () => {
    expect(sparkRemoteFor("https://abc.emr.eu-west-1.amazonaws.com", "T0K")).toBe(
      "sc://abc.emr.eu-west-1.amazonaws.com:443/;use_ssl=true;token=T0K",
    );
    expect(sparkRemoteFor("sc://h:15002", undefined)).toBe("sc://h:15002/;use_ssl=true");
    expect(sparkRemoteFor("h.internal:8443", "x")).toBe("sc://h.internal:8443/;use_ssl=true;token=x");
  });
});

describe("the bootstrap action (emr/bootstrap.sh)", () => {
  const text = readFileSync(join(EMR, "bootstrap.sh"), "utf8");
  it("is valid bash, detects dnf and apt, binds the sidecar to loopback under systemd", () => {
    execFileSync("bash", ["-n", join(EMR, "bootstrap.sh")]);
    expect(text).toContain("command -v dnf");
    expect(text).toContain("command -v apt-get");
    expect(text).toContain("--host 127.0.0.1 --port");
    expect(text).toContain("Restart=on-failure");
    expect(text).not.toContain("0.0.0.0");
  });
  it("runs the sidecar as the executors' user (yarn), its secret file where cluster.json points the bridges", () => {
    const cluster = readFileSync(join(EMR, "cluster.json"), "utf8");
    const secretFile = /"spark\.executorEnv\.ORCHARD_SIDECAR_SECRET_FILE": "([^"]+)"/.exec(cluster)?.[1];
    expect(secretFile).toBe("/var/lib/orchard-sidecar/sidecar-8815.secret");
    expect(text).toContain('--secret-file "/var/lib/orchard-sidecar/sidecar-$SIDECAR_PORT.secret"');
    expect(text).toMatch(/^User=yarn$/m);
    expect(text).toMatch(/^StateDirectory=orchard-sidecar$/m);
    expect(text).not.toContain("DynamicUser=yes");
    // Bootstrap actions run before YARN exists: the unit is started once the user does.
    expect(text).toContain("id yarn");
  });
  it("fails with a clear message on a bad argument", () => {
    let stderr = "";
    try {
      execFileSync("bash", [join(EMR, "bootstrap.sh"), "--nope"], {
        env: {
          PATH: process.env.PATH,
          ORCHARD_BOOTSTRAP_ROOT: mkdtempSync(join(tmpdir(), "orchard-bootstrap-")),
        },
        stdio: ["ignore", "ignore", "pipe"],
      });
    } catch (err) {
      stderr = String((err as { stderr: Buffer }).stderr);
    }
    expect(stderr).toContain("orchard bootstrap FAILED: unknown argument '--nope'");
  });
});
