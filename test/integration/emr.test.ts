// `orchard emr` against a real AWS API server: moto in server mode (PyPI, pinned; `npm run setup --
// moto`), started here on a free loopback port and stopped afterwards. The CLI runs as a user runs
// it (node bin/orchard.mjs, --endpoint-url); the test reads back what it did through the SDK, and
// every EMR request orchard sent (moto's server-side request log) is validated with botocore's own
// ParamValidator against the EMR service model. Needs no Spark.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { DescribeClusterCommand, EMRClient, ListBootstrapActionsCommand, ListStepsCommand } from "@aws-sdk/client-emr";
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cacheRoot } from "../../scripts/lib/paths.ts";
import { canConnect, freePort } from "../../src/cli/local/ports.ts";
import { REPO_ROOT, TEST_LOG_DIR } from "./helpers/test-paths.ts";

const run = promisify(execFile);
const venv = join(cacheRoot(), "moto", "venv");
const REGION = "eu-west-1";
const BUCKET = "orchard-emr-test";
const PREFIX = "stage/run1";
const work = mkdtempSync(join(tmpdir(), "orchard-emr-test-"));
const recording = join(work, "moto-recording.jsonl");
let moto: ChildProcess | undefined;
let endpoint = "";
let emr: EMRClient;
let s3: S3Client;

const sha256 = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

/** The CLI's environment: fixed fake keys, no profile files, no instance metadata; `over` wins. */
function env(over: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const base: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    HOME: work,
    ORCHARD_CACHE: join(work, "cache"),
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    AWS_REGION: REGION,
    AWS_CONFIG_FILE: join(work, "no-aws-config"),
    AWS_SHARED_CREDENTIALS_FILE: join(work, "no-aws-credentials"),
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    ...over,
  };
  return Object.fromEntries(Object.entries(base).filter((e): e is [string, string] => e[1] !== undefined));
}

async function orchard(args: string[], over: Record<string, string | undefined> = {}) {
  try {
    const r = await run(process.execPath, [join(REPO_ROOT, "bin", "orchard.mjs"), ...args], {
      env: env(over),
      cwd: work,
      maxBuffer: 16 << 20,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

/** The lines of stderr that orchard wrote as its error (`orchard: ...`). */
const errorLines = (stderr: string) => stderr.split("\n").filter((l) => l.startsWith("orchard:"));

// Small stand-ins for the two npm tarballs and the model (the real model is 37 MB; staging is the
// same code for any size): a model folder whose manifest's checksums are right.
const packs = join(work, "packs");
const modelDir = join(work, "model");
function makeArtifacts(): void {
  mkdirSync(packs, { recursive: true });
  writeFileSync(join(packs, "orchard-0.1.0.tgz"), "orchard tarball stand-in\n");
  writeFileSync(join(packs, "orchard-udf-server-0.1.0.tgz"), "udf-server tarball stand-in\n");
  mkdirSync(modelDir, { recursive: true });
  const onnx = Buffer.from("not really onnx\n");
  const raw = Buffer.from("not really raw onnx\n");
  writeFileSync(join(modelDir, "model.onnx"), onnx);
  writeFileSync(join(modelDir, "model-raw.onnx"), raw);
  writeFileSync(
    join(modelDir, "manifest.json"),
    JSON.stringify({
      name: "tiny-test-model",
      file: "model.onnx",
      sha256: sha256(onnx),
      raw: { file: "model-raw.onnx", sha256: sha256(raw) },
    }),
  );
}

beforeAll(async () => {
  const server = join(venv, "bin", "moto_server");
  if (!existsSync(server)) throw new Error(`moto is not installed (${server}): run npm run setup -- moto`);
  makeArtifacts();
  const port = await freePort();
  mkdirSync(TEST_LOG_DIR, { recursive: true });
  const log = join(TEST_LOG_DIR, "moto.log");
  moto = spawn(server, ["-H", "127.0.0.1", "-p", String(port)], {
    env: { PATH: process.env.PATH, MOTO_ENABLE_RECORDING: "true", MOTO_RECORDER_FILEPATH: recording },
    stdio: ["ignore", "ignore", "pipe"],
  });
  moto.stderr?.on("data", (d: Buffer) => writeFileSync(log, d, { flag: "a" }));
  endpoint = `http://127.0.0.1:${port}`;
  const t0 = Date.now();
  while (!(await canConnect("127.0.0.1", port, 500))) {
    if (moto.exitCode !== null || Date.now() - t0 > 60_000) throw new Error(`moto did not start (log ${log})`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const credentials = { accessKeyId: "testing", secretAccessKey: "testing" };
  emr = new EMRClient({ endpoint, region: REGION, credentials });
  s3 = new S3Client({ endpoint, region: REGION, credentials, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET, CreateBucketConfiguration: { LocationConstraint: REGION } }));
}, 120_000);

afterAll(async () => {
  emr?.destroy();
  s3?.destroy();
  if (moto && moto.exitCode === null) {
    const exited = new Promise((r) => moto?.once("exit", r));
    moto.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (moto.exitCode === null) moto.kill("SIGKILL");
  }
  rmSync(work, { recursive: true, force: true });
});

const staging = `s3://${BUCKET}/${PREFIX}`;
const upArgs = () => [
  "emr",
  "up",
  "--staging",
  staging,
  "--endpoint-url",
  endpoint,
  "--package-dir",
  packs,
  "--model",
  modelDir,
  "--poll-seconds",
  "1",
];

describe("orchard emr against moto", () => {
  let clusterId = "";

  it("up stages everything, starts the cluster the definition describes and waits for WAITING", async () => {
    const r = await orchard(upArgs());
    expect(r.code, r.stderr).toBe(0);
    clusterId = r.stdout.trim();
    expect(clusterId).toMatch(/^j-[A-Z0-9]+$/);
    expect(r.stderr).toContain(`cluster ${clusterId} is WAITING`);

    const c = (await emr.send(new DescribeClusterCommand({ ClusterId: clusterId }))).Cluster;
    expect(c?.Status?.State).toBe("WAITING");
    expect(c?.ReleaseLabel).toBe("emr-spark-8.1.0");
    expect(c?.Applications?.map((a) => a.Name)).toContain("Spark");
    expect(c?.LogUri).toBe(`${staging}/logs/`);
    expect(c?.Ec2InstanceAttributes?.IamInstanceProfile).toBe("orchard-emr-instance-profile");
    expect(c?.ServiceRole).toBe("orchard-emr-service-role");
    expect(c?.SecurityConfiguration).toBe("orchard-default");
    expect(c?.EbsRootVolumeSize).toBe(30);
    expect(c?.Tags).toEqual(
      expect.arrayContaining([
        { Key: "orchard:staging", Value: staging },
        { Key: "for-use-with-amazon-emr-managed-policies", Value: "true" },
      ]),
    );
    const sparkDefaults = c?.Configurations?.find((x) => x.Classification === "spark-defaults")?.Properties;
    expect(sparkDefaults).toMatchObject({
      "spark.executorEnv.ORCHARD_SIDECAR": "127.0.0.1:8815",
      "spark.executorEnv.OPENBLAS_NUM_THREADS": "1",
      "spark.sql.parquet.fs.optimized.committer.optimization-enabled": "true",
      "spark.hadoop.fs.s3a.committer.name": "magic",
    });
    const actions = (await emr.send(new ListBootstrapActionsCommand({ ClusterId: clusterId }))).BootstrapActions;
    expect(actions?.map((a) => [a.ScriptPath, a.Args])).toEqual([
      [`${staging}/bootstrap/orchard-bootstrap.sh`, ["--staging", staging]],
    ]);

    // The staged objects, with their checksums in their metadata and in staging.json.
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${PREFIX}/` }));
    expect(listed.Contents?.map((o) => o.Key?.slice(PREFIX.length + 1)).sort()).toEqual([
      "bootstrap/orchard-bootstrap.sh",
      "models/tiny-test-model/manifest.json",
      "models/tiny-test-model/model-raw.onnx",
      "models/tiny-test-model/model.onnx",
      "packages/orchard-0.1.0.tgz",
      "packages/orchard-udf-server-0.1.0.tgz",
      "staging.json",
    ]);
    const manifestObj = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}/staging.json` }));
    const manifest = JSON.parse(
      await (manifestObj.Body as { transformToString(): Promise<string> }).transformToString(),
    );
    expect(manifest.format).toBe("orchard-staging/1");
    const bootstrapEntry = manifest.objects.find((o: { kind: string }) => o.kind === "bootstrap");
    expect(bootstrapEntry.sha256).toBe(sha256(readFileSync(join(REPO_ROOT, "emr", "bootstrap.sh"))));
    const onnx = manifest.objects.find((o: { key: string }) => o.key.endsWith("/model.onnx"));
    expect(onnx.sha256).toBe(sha256(readFileSync(join(modelDir, "model.onnx"))));
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}/${onnx.key}` }));
    expect(head.Metadata?.["orchard-sha256"]).toBe(onnx.sha256);
  });

  it("a second up skips every unchanged object", async () => {
    const r = await orchard([...upArgs(), "--no-wait"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("0 uploaded, 7 unchanged");
    expect(r.stderr).not.toContain("uploading");
  });

  it("submit adds a command-runner.jar step running orchard submit --master yarn", async () => {
    const args = ["run", "--input", "s3://photos/fruits", "--output", "s3://photos/out/run1", "--k", "50"];
    const r = await orchard(["emr", "submit", "--cluster-id", clusterId, "--endpoint-url", endpoint, "--", ...args]);
    expect(r.code, r.stderr).toBe(0);
    const stepId = r.stdout.trim();
    expect(stepId).toMatch(/^s-[A-Z0-9]+$/);
    const steps = (await emr.send(new ListStepsCommand({ ClusterId: clusterId }))).Steps ?? [];
    const step = steps.find((s) => s.Id === stepId);
    expect(step?.Config?.Jar).toBe("command-runner.jar");
    expect(step?.Config?.Args).toEqual(["/usr/local/bin/orchard", "submit", "--master", "yarn", "--", ...args]);
    expect(step?.ActionOnFailure).toBe("CONTINUE");
  });

  it("submit with a script stages it and runs it from S3", async () => {
    const script = join(work, "my-job.ts");
    writeFileSync(script, "console.log('hello from EMR');\n");
    const r = await orchard([
      "emr",
      "submit",
      "--cluster-id",
      clusterId,
      "--endpoint-url",
      endpoint,
      "--",
      script,
      "--x",
      "1",
    ]);
    expect(r.code, r.stderr).toBe(0);
    const steps = (await emr.send(new ListStepsCommand({ ClusterId: clusterId }))).Steps ?? [];
    const step = steps.find((s) => s.Id === r.stdout.trim());
    const key = `${PREFIX}/scripts/${sha256("console.log('hello from EMR');\n").slice(0, 16)}/my-job.ts`;
    expect(step?.Config?.Args?.slice(0, 2)).toEqual(["bash", "-c"]);
    expect(step?.Config?.Args?.slice(3)).toEqual(["orchard-step", `s3://${BUCKET}/${key}`, "--x", "1"]);
    await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
  });

  it("status shows the cluster and its steps", async () => {
    const r = await orchard(["emr", "status", "--cluster-id", clusterId, "--endpoint-url", endpoint, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ id: clusterId, releaseLabel: "emr-spark-8.1.0", staging });
    expect(s.steps).toHaveLength(2);
    const text = await orchard(["emr", "status", "--cluster-id", clusterId, "--endpoint-url", endpoint]);
    expect(text.stdout).toContain(`cluster ${clusterId} (orchard):`);
  });

  it("logs says clearly when a step's stderr is not in the log URI yet", async () => {
    const r = await orchard(["emr", "logs", "--cluster-id", clusterId, "--endpoint-url", endpoint]);
    expect(r.code).toBe(3);
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toContain(`${staging}/logs/${clusterId}/steps/`);
  });

  it("logs prints a step's stderr from the log URI once EMR has copied it there", async () => {
    const steps = (await emr.send(new ListStepsCommand({ ClusterId: clusterId }))).Steps ?? [];
    const stepId = steps[steps.length - 1]?.Id as string;
    const key = `${PREFIX}/logs/${clusterId}/steps/${stepId}/stderr.gz`;
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: gzipSync("line one\nline two\n") }));
    const r = await orchard([
      "emr",
      "logs",
      "--cluster-id",
      clusterId,
      "--step-id",
      stepId,
      "--endpoint-url",
      endpoint,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("line one\nline two\n");
  });

  it("connect says that the endpoint has no StartSession (moto implements none)", async () => {
    const r = await orchard(["emr", "connect", "--cluster-id", clusterId, "--endpoint-url", endpoint]);
    expect(r.code).toBe(3);
    expect(errorLines(r.stderr)).toEqual([
      expect.stringContaining("this EMR endpoint does not implement StartSession"),
    ]);
  });

  it("down terminates the cluster", async () => {
    const r = await orchard(["emr", "down", "--cluster-id", clusterId, "--endpoint-url", endpoint]);
    expect(r.code, r.stderr).toBe(0);
    const c = (await emr.send(new DescribeClusterCommand({ ClusterId: clusterId }))).Cluster;
    expect(c?.Status?.State).toMatch(/^TERMINAT/);
  });

  it.each([
    ["no region", [], { AWS_REGION: undefined }, "--region"],
    ["no credentials", [], { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined }, "no AWS credentials"],
    ["a bucket that does not exist", ["--staging", "s3://no-such-bucket-here/x"], {}, "invalid --staging"],
    ["an unknown instance type", ["--core-instance-type", "c9z.huge"], {}, "invalid --core-instance-type"],
    ["a malformed instance type", ["--primary-instance-type", "big"], {}, "invalid --primary-instance-type"],
  ])("bad configuration (%s): one line naming it, exit 2", async (_what, extra, over, named) => {
    const r = await orchard([...upArgs(), "--no-wait", ...extra], over);
    expect(r.code, r.stderr).toBe(2);
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(named);
    expect(r.stdout).toBe("");
  });

  it("every EMR request orchard sent is valid for botocore's EMR service model", async () => {
    const { stdout } = await run(
      join(venv, "bin", "python"),
      [join(REPO_ROOT, "test/integration/python/validate_aws_requests.py"), recording],
      { maxBuffer: 64 << 20 },
    );
    const report = JSON.parse(stdout) as {
      botocore: string;
      requests: { operation: string; errors: string; params: Record<string, unknown> }[];
    };
    const operations = new Set(report.requests.map((r) => r.operation));
    for (const op of [
      "ListSupportedInstanceTypes",
      "DescribeSecurityConfiguration",
      "CreateSecurityConfiguration",
      "RunJobFlow",
      "DescribeCluster",
      "AddJobFlowSteps",
      "ListSteps",
      "TerminateJobFlows",
      "StartSession",
    ]) {
      expect(operations, op).toContain(op);
    }
    expect(report.requests.filter((r) => r.errors !== "").map((r) => `${r.operation}: ${r.errors}`)).toEqual([]);
    // What moto does not keep, checked on the request itself: the idle auto-termination.
    const runJobFlow = report.requests.find((r) => r.operation === "RunJobFlow");
    expect(runJobFlow?.params.AutoTerminationPolicy).toEqual({ IdleTimeout: 3600 });

    // The validator does catch a bad request (a control, so an always-empty report cannot pass).
    const bad = join(work, "bad.jsonl");
    const body = JSON.stringify({ Name: "x", Instances: { InstanceCount: "two" }, Bogus: 1 });
    writeFileSync(
      bad,
      `${JSON.stringify({ headers: { "X-Amz-Target": "ElasticMapReduce.RunJobFlow" }, body, body_encoded: false })}\n`,
    );
    const control = JSON.parse(
      (
        await run(join(venv, "bin", "python"), [
          join(REPO_ROOT, "test/integration/python/validate_aws_requests.py"),
          bad,
        ])
      ).stdout,
    );
    expect(control.requests[0].errors).toMatch(/Unknown parameter.*Bogus/s);
    expect(control.requests[0].errors).toMatch(/InstanceCount/);
  });
});
