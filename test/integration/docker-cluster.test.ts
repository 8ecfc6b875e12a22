import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { freePort } from "../../src/cli/local/ports.ts";
import { SparkSession } from "../../src/connect/spark-session.ts";
import type { RunSummary } from "../../src/pipeline/run-summary.ts";
import { s3Client, s3CompatibleAccess } from "../../src/s3.ts";
import { cosine } from "../support/vectors.ts";
import { cliEnv } from "./helpers/cli-env.ts";
import { REPO_ROOT, testLayout } from "./helpers/test-paths.ts";

// docker/ as a user runs it (issue 11): orchard's node image built (cached by its inputs' hash),
// `docker compose up -d --wait` of a Spark standalone cluster with two workers, each feeding its own
// sidecar, a Connect server that requires a token, and MinIO; images uploaded with `orchard s3
// upload`, `orchard run` from the host through the token, and the answer compared with a run of
// the same images on the test's local Spark. Everything stays on loopback and the compose network
// this test creates, and the compose project is torn down whatever happens.
// Set ORCHARD_SKIP_DOCKER=1 to skip (no Docker engine and no root to start one).

const skip = process.env.ORCHARD_SKIP_DOCKER === "1";
const project = `orchard-it-${process.pid}-${Date.now().toString(36)}`;
const composeFile = join(REPO_ROOT, "docker", "compose.yaml");
const work = mkdtempSync(join(tmpdir(), "orchard-docker-"));
const token = randomBytes(18).toString("base64url");
const accessKey = `orchard${randomBytes(4).toString("hex")}`;
const secretKey = randomBytes(18).toString("base64url");
const bucket = "orchard";
const CLASSES = 2;
const PER_CLASS = 20;

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command; resolves with its exit code and output (never rejects). */
function sh(file: string, args: string[], env: NodeJS.ProcessEnv = process.env, timeout = 1_200_000): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: REPO_ROOT, env, timeout, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

/** What an orchard user on the host has: the compose secrets, none of the test's own servers. */
function userEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const key of [
    "SPARK_REMOTE",
    "ORCHARD_SIDECAR",
    "ORCHARD_S3_ENDPOINT",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
  ]) {
    if (!(key in extra)) delete env[key];
  }
  return env;
}

let ports = { connect: 0, s3: 0 };
let image = "";
const timings: Record<string, number> = {};
const composeEnv = () =>
  userEnv({
    ORCHARD_IMAGE: image,
    ORCHARD_SPARK_TOKEN: token,
    ORCHARD_S3_ACCESS_KEY: accessKey,
    ORCHARD_S3_SECRET_KEY: secretKey,
    ORCHARD_S3_BUCKET: bucket,
    ORCHARD_CONNECT_PORT: String(ports.connect),
    ORCHARD_S3_PORT: String(ports.s3),
  });
const compose = (args: string[], timeout?: number) =>
  sh("docker", ["compose", "-p", project, "-f", composeFile, ...args], composeEnv(), timeout);
const remoteWith = (t: string) => `sc://127.0.0.1:${ports.connect}/;token=${t}`;
const hostS3 = () => `http://127.0.0.1:${ports.s3}`;
const orchard = (args: string[], env: NodeJS.ProcessEnv) =>
  sh(process.execPath, [join(REPO_ROOT, "bin", "orchard.mjs"), ...args], env);
/** The host CLI against the compose cluster: its Connect port with a token, its MinIO's host port. */
const clusterEnv = (t = token) =>
  userEnv({
    SPARK_REMOTE: remoteWith(t),
    ORCHARD_S3_ENDPOINT: hostS3(),
    ORCHARD_S3_ACCESS_KEY: accessKey,
    ORCHARD_S3_SECRET_KEY: secretKey,
  });
/** The bridge the cluster's executors run: the image's, on every node's PATH. */
const CLUSTER_BRIDGE = "orchard-bridge";

async function timed<T>(name: string, f: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await f();
  } finally {
    timings[name] = Math.round(performance.now() - t0);
  }
}

/** Features per image (label/file name -> vector) of an output's data/, read through `remote`. */
async function featuresOf(remote: string, dataUri: string): Promise<Map<string, number[]>> {
  const spark = SparkSession.builder.remote(remote).getOrCreate();
  try {
    const rows = await spark.read.parquet(dataUri).select("path", "features", "error").collect();
    const out = new Map<string, number[]>();
    for (const row of rows) {
      expect(row.get("error")).toBeNull();
      const key = String(row.get("path")).split("/").slice(-2).join("/");
      out.set(key, Array.from(row.get("features") as ArrayLike<number>, Number));
    }
    return out;
  } finally {
    await spark.stop();
  }
}

async function sidecarInfo(service: string): Promise<{ rowsServed: number; pid: number }> {
  const ran = await compose(["exec", "-T", service, "orchard", "sidecar", "status", "--json"], 60_000);
  expect(ran.code, ran.stderr).toBe(0);
  const status = JSON.parse(ran.stdout) as { info: { rowsServed: number }; health: { pid: number } };
  return { rowsServed: status.info.rowsServed, pid: status.health.pid };
}

describe.skipIf(skip)("docker/: the compose cluster (2 workers, a sidecar each) runs the pipeline", () => {
  const imagesDir = join(work, "images");
  let files: string[] = [];
  let clusterRun: Ran;
  let clusterSummary: RunSummary;
  let localSummary: RunSummary;
  let upped = false;

  beforeAll(async () => {
    // The engine (started as root when none answers) and the image (built only when its inputs changed).
    const engine = await sh("bash", [join(REPO_ROOT, "scripts", "setup-docker.sh")]);
    expect(engine.code, `scripts/setup-docker.sh: ${engine.stderr}`).toBe(0);
    const built = await timed("image", () =>
      sh("bash", [join(REPO_ROOT, "scripts", "setup-docker-image.sh"), "--print-tag"], process.env, 2_400_000),
    );
    expect(built.code, `scripts/setup-docker-image.sh: ${built.stderr}`).toBe(0);
    image = built.stdout.trim();
    expect(image).toMatch(/^orchard\/node:[0-9a-f]{12}$/);

    ports = { connect: await freePort(), s3: await freePort() };
    upped = true; // from here on, afterAll takes the project down, whatever happens
    const up = await timed("composeUp", () => compose(["up", "-d", "--wait", "--wait-timeout", "420"], 600_000));
    if (up.code !== 0) {
      const logs = await compose(["logs", "--no-color", "--tail", "40"]);
      throw new Error(`docker compose up failed (${up.code}): ${up.stderr}\n${logs.stdout}`);
    }

    // 2 classes x 20 images of the sample set.
    const training = join(testLayout().cacheRoot, "data", "fruits", "Training");
    for (const label of readdirSync(training).sort().slice(0, CLASSES)) {
      mkdirSync(join(imagesDir, label), { recursive: true });
      for (const name of readdirSync(join(training, label)).sort().slice(0, PER_CLASS)) {
        copyFileSync(join(training, label, name), join(imagesDir, label, name));
        files.push(`${label}/${name}`);
      }
    }
    files = files.sort();
    const upload = await orchard(
      ["s3", "upload", imagesDir, "--to", `s3://${bucket}/in`, "--endpoint", hostS3()],
      clusterEnv(),
    );
    expect(upload.code, upload.stderr).toBe(0);
    expect(upload.stdout).toContain(`uploaded ${files.length} files to s3://${bucket}/in`);

    clusterRun = await timed("clusterRun", () =>
      orchard(
        [
          "run",
          ...["--input", `s3a://${bucket}/in`, "--output", `s3a://${bucket}/out`],
          ...["--k", "5", "--keep-features", "--no-start", "--bridge", CLUSTER_BRIDGE],
        ],
        clusterEnv(),
      ),
    );
    expect(clusterRun.code, clusterRun.stderr).toBe(0);
    const client = await s3Client(s3CompatibleAccess(hostS3(), { accessKeyId: accessKey, secretAccessKey: secretKey }));
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: "out/run.json" }));
    clusterSummary = JSON.parse(await (got.Body as { transformToString(): Promise<string> }).transformToString());

    // The same images on the test's local Spark and sidecar.
    const localRun = await timed("localRun", () =>
      orchard(
        ["run", "--input", imagesDir, "--output", join(work, "local-out"), "--k", "5", "--keep-features", "--no-start"],
        cliEnv(),
      ),
    );
    expect(localRun.code, localRun.stderr).toBe(0);
    localSummary = JSON.parse(readFileSync(join(work, "local-out", "run.json"), "utf8"));
  }, 3_000_000);

  afterAll(async () => {
    if (upped) await compose(["down", "-v", "--remove-orphans", "--timeout", "10"], 300_000);
    rmSync(work, { recursive: true, force: true });
    console.log(`[docker-cluster] timings (ms): ${JSON.stringify(timings)}`);
  }, 600_000);

  it("keeps one row per image: rows in == rows out, through the token", () => {
    expect(clusterSummary.counts).toEqual({ filesIn: files.length, rowsOut: files.length, failed: 0 });
    expect(clusterRun.stdout).toMatch(new RegExp(`images: +${files.length} in, ${files.length} rows out, 0 failed`));
    expect(clusterRun.stdout + clusterRun.stderr).not.toContain(token);
    expect(JSON.stringify(clusterSummary)).not.toContain(token);
    expect(clusterSummary.k).toBe(5);
  });

  it("writes the report to the compose MinIO, and `orchard s3 download` fetches it", async () => {
    const to = join(work, "report.html");
    const ran = await orchard(
      ["s3", "download", `s3://${bucket}/out/report.html`, "--to", to, "--endpoint", hostS3()],
      clusterEnv(),
    );
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toMatch(new RegExp(`^downloaded s3://${bucket}/out/report\\.html \\(\\d+ bytes\\) to ${to}`));
    const html = readFileSync(to, "utf8");
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).toContain(`${files.length}`);
  });

  it("gives the same features per image as a local run (cosine >= 0.999), and the same explained variance", async () => {
    const cluster = await featuresOf(remoteWith(token), `s3a://${bucket}/out/data`);
    const local = await featuresOf(inject("sparkRemote"), join(work, "local-out", "data"));
    expect([...cluster.keys()].sort()).toEqual(files);
    expect([...local.keys()].sort()).toEqual(files);
    let worst = 1;
    for (const key of files) {
      const a = cluster.get(key) as number[];
      const b = local.get(key) as number[];
      expect(a).toHaveLength(clusterSummary.featureDim);
      worst = Math.min(worst, cosine(a, b));
    }
    expect(worst).toBeGreaterThanOrEqual(0.999);
    const ours = clusterSummary.explainedVariance ?? [];
    const theirs = localSummary.explainedVariance ?? [];
    expect(ours).toHaveLength(5);
    ours.forEach((v, i) => {
      expect(Math.abs(v - (theirs[i] as number))).toBeLessThan(1e-3);
    });
  });

  it("has each worker's own sidecar serve a share of the rows", async () => {
    const served = [await sidecarInfo("spark-worker-1"), await sidecarInfo("spark-worker-2")].map((s) => s.rowsServed);
    for (const rows of served) expect(rows).toBeGreaterThan(0);
    // Every image was answered by one of them (a retried task may add some).
    expect(served.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(files.length);
  });

  it("refuses a wrong token with a clear one-line error", async () => {
    const wrong = `wrong-${randomBytes(6).toString("hex")}`;
    const ran = await orchard(
      [
        "run",
        ...["--input", `s3a://${bucket}/in`, "--output", `s3a://${bucket}/out-wrong`],
        ...["--k", "5", "--no-start", "--quiet", "--bridge", CLUSTER_BRIDGE],
      ],
      clusterEnv(wrong),
    );
    expect(ran.code).not.toBe(0);
    expect(ran.stderr).toMatch(
      new RegExp(
        `^orchard: Spark Connect at sc://127\\.0\\.0\\.1:${ports.connect}\\S* refused the request .*token`,
        "m",
      ),
    );
    expect(ran.stderr).not.toContain(wrong);
    expect(ran.stderr).not.toContain(token);
  });

  it("publishes only on 127.0.0.1, only Connect and MinIO's S3 API", async () => {
    const ids = await sh("docker", ["ps", "-q", "--filter", `label=com.docker.compose.project=${project}`]);
    const containers = ids.stdout.split("\n").filter(Boolean);
    expect(containers).toHaveLength(5);
    const inspected = await sh("docker", ["inspect", ...containers]);
    const bindings = (
      JSON.parse(inspected.stdout) as {
        Name: string;
        NetworkSettings: { Ports: Record<string, { HostIp: string; HostPort: string }[] | null> };
      }[]
    ).flatMap((c) =>
      Object.entries(c.NetworkSettings.Ports ?? {}).flatMap(([port, hosts]) =>
        (hosts ?? []).map((h) => ({ name: c.Name, port, host: h.HostIp, hostPort: Number(h.HostPort) })),
      ),
    );
    expect(bindings.map((b) => b.host)).toEqual(bindings.map(() => "127.0.0.1"));
    expect(
      bindings.map((b) => `${b.name.replace(/^\/.*?-(connect|minio)-\d+$/, "$1")} ${b.port} ${b.hostPort}`).sort(),
    ).toEqual([`connect 15002/tcp ${ports.connect}`, `minio 9000/tcp ${ports.s3}`].sort());
    const port = await compose(["port", "connect", "15002"]);
    expect(port.stdout.trim()).toBe(`127.0.0.1:${ports.connect}`);
  });

  it("restarts a worker's sidecar that dies", async () => {
    const before = await sidecarInfo("spark-worker-1");
    const killed = await compose(["exec", "-T", "spark-worker-1", "kill", "-KILL", String(before.pid)], 60_000);
    expect(killed.code, killed.stderr).toBe(0);
    const deadline = Date.now() + 90_000;
    let after: { pid: number } | undefined;
    while (Date.now() < deadline) {
      const ran = await compose(["exec", "-T", "spark-worker-1", "orchard", "sidecar", "status", "--json"], 60_000);
      if (ran.code === 0) {
        const pid = (JSON.parse(ran.stdout) as { health: { pid: number } }).health.pid;
        if (pid !== before.pid) {
          after = { pid };
          break;
        }
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(after?.pid).toBeGreaterThan(0);
  });

  it("leaves no container, network or volume after `down -v`", async () => {
    const down = await compose(["down", "-v", "--remove-orphans", "--timeout", "10"], 300_000);
    expect(down.code, down.stderr).toBe(0);
    upped = false;
    for (const kind of ["ps -a", "network ls", "volume ls"]) {
      const ran = await sh("docker", [
        ...kind.split(" "),
        "-q",
        "--filter",
        `label=com.docker.compose.project=${project}`,
      ]);
      expect(ran.code).toBe(0);
      expect(ran.stdout.trim(), kind).toBe("");
    }
  });
});
