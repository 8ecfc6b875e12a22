import { randomBytes } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { SparkSession } from "../../src/connect/spark-session.ts";
import type { RunSummary } from "../../src/pipeline/run-summary.ts";
import { s3Client, s3CompatibleAccess } from "../../src/s3.ts";
import { type ComposeCluster, type Ran, sh, startComposeCluster } from "../support/compose-cluster.ts";
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
const work = mkdtempSync(join(tmpdir(), "orchard-docker-"));
const CLASSES = 2;
const PER_CLASS = 20;

let cluster: ComposeCluster | undefined;
const timings: Record<string, number> = {};
const the = (): ComposeCluster => {
  if (!cluster) throw new Error("the compose cluster is not up");
  return cluster;
};
const compose = (args: string[], timeout?: number) => the().compose(args, timeout);
const orchard = (args: string[], env: NodeJS.ProcessEnv) =>
  sh(process.execPath, [join(REPO_ROOT, "bin", "orchard.mjs"), ...args], env);
/** The bridge the cluster's executors run: the image's, on every node's PATH. */
const CLUSTER_BRIDGE = "orchard-bridge";
/** The driver `orchard submit` runs on the cluster's master node. */
const CLUSTER_DRIVER = join(REPO_ROOT, "test", "integration", "fixtures", "cluster-driver.mjs");

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

  beforeAll(async () => {
    // The engine (started as root when none answers), the image (built only when its inputs
    // changed), fresh secrets and ports, `up -d --wait`.
    const c = await startComposeCluster({ prefix: "orchard-it" });
    cluster = c;
    timings.image = c.timings.image;
    timings.composeUp = c.timings.up;
    expect(c.image).toMatch(/^orchard\/node:[0-9a-f]{12}$/);
    const { bucket } = cluster;

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
      ["s3", "upload", imagesDir, "--to", `s3://${bucket}/in`, "--endpoint", c.s3Endpoint],
      c.hostEnv(),
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
        c.hostEnv(),
      ),
    );
    expect(clusterRun.code, clusterRun.stderr).toBe(0);
    const client = await s3Client(
      s3CompatibleAccess(c.s3Endpoint, {
        accessKeyId: c.accessKey,
        secretAccessKey: c.secretKey,
      }),
    );
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
    await cluster?.down();
    rmSync(work, { recursive: true, force: true });
    console.log(`[docker-cluster] timings (ms): ${JSON.stringify(timings)}`);
  }, 600_000);

  it("keeps one row per image: rows in == rows out, through the token", () => {
    expect(clusterSummary.counts).toEqual({ filesIn: files.length, rowsOut: files.length, failed: 0 });
    expect(clusterRun.stdout).toMatch(new RegExp(`images: +${files.length} in, ${files.length} rows out, 0 failed`));
    expect(clusterRun.stdout + clusterRun.stderr).not.toContain(the().token);
    expect(JSON.stringify(clusterSummary)).not.toContain(the().token);
    expect(clusterSummary.k).toBe(5);
  });

  it("writes the report to the compose MinIO, and `orchard s3 download` fetches it", async () => {
    const to = join(work, "report.html");
    const ran = await orchard(
      ["s3", "download", `s3://${the().bucket}/out/report.html`, "--to", to, "--endpoint", the().s3Endpoint],
      the().hostEnv(),
    );
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toMatch(
      new RegExp(`^downloaded s3://${the().bucket}/out/report\\.html \\(\\d+ bytes\\) to ${to}`),
    );
    const html = readFileSync(to, "utf8");
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).toContain(`${files.length}`);
  });

  it("gives the same features per image as a local run (cosine >= 0.999), and the same explained variance", async () => {
    const cluster = await featuresOf(the().remote(), `s3a://${the().bucket}/out/data`);
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
        ...["--input", `s3a://${the().bucket}/in`, "--output", `s3a://${the().bucket}/out-wrong`],
        ...["--k", "5", "--no-start", "--quiet", "--bridge", CLUSTER_BRIDGE],
      ],
      the().hostEnv(wrong),
    );
    expect(ran.code).not.toBe(0);
    expect(ran.stderr).toMatch(
      new RegExp(
        `^orchard: Spark Connect at sc://127\\.0\\.0\\.1:${the().ports.connect}\\S* refused the request .*token`,
        "m",
      ),
    );
    expect(ran.stderr).not.toContain(wrong);
    expect(ran.stderr).not.toContain(the().token);
  });

  it("publishes only on 127.0.0.1, only Connect and MinIO's S3 API", async () => {
    const ids = await sh("docker", ["ps", "-q", "--filter", `label=com.docker.compose.project=${the().project}`]);
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
    ).toEqual([`connect 15002/tcp ${the().ports.connect}`, `minio 9000/tcp ${the().ports.s3}`].sort());
    const port = await compose(["port", "connect", "15002"]);
    expect(port.stdout.trim()).toBe(`127.0.0.1:${the().ports.connect}`);
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

  it("runs `orchard submit --master spark://spark-master:7077` on a cluster node: the job runs on the workers' executors, the exit code propagates, the server is gone, no token in any output", async () => {
    // The Connect application holds both workers' cores: stop it so that the submitted one gets them.
    const stopped = await compose(["stop", "connect"], 120_000);
    expect(stopped.code, stopped.stderr).toBe(0);
    // Beside the image's orchard install, where `import "orchard"` resolves.
    const copied = await compose(["cp", CLUSTER_DRIVER, "spark-master:/opt/orchard/cluster-driver.mjs"], 60_000);
    expect(copied.code, copied.stderr).toBe(0);
    const n = 1000;
    const ran = await compose(
      [
        ...["exec", "-T", "spark-master", "orchard", "submit", "--master", "spark://spark-master:7077"],
        // The executors on the workers connect back to this node's driver (orchard keeps it on loopback unless told).
        ...["--conf", "spark.driver.host=spark-master", "--conf", "spark.driver.bindAddress=0.0.0.0"],
        ...["--conf", "spark.executor.cores=1", "--conf", "spark.executor.memory=1g"],
        ...["/opt/orchard/cluster-driver.mjs", String(n), "5"],
      ],
      600_000,
    );
    expect(ran.code, ran.stderr).toBe(5);
    expect(ran.stdout).toMatch(/^connected to sc:\/\/127\.0\.0\.1:\d+\/;token=<redacted>$/m);
    expect(ran.stdout).toContain("application orchard-submit-cluster-driver on master spark://spark-master:7077");
    expect(ran.stdout).toContain(`sum of the first ${n} squares: ${(n * (n + 1) * (2 * n + 1)) / 6}`);
    expect(Number(/cores granted by the master: (\d+)/.exec(ran.stdout)?.[1])).toBeGreaterThanOrEqual(1);
    expect(ran.stderr).toContain("cluster-driver.mjs exited with code 5");
    expect(ran.stdout + ran.stderr).not.toMatch(/token=(?!<redacted>)/);

    // Afterwards no Connect server runs on that node, and the master lists the application as finished.
    const left = await compose(["exec", "-T", "spark-master", "pgrep", "-f", "SparkConnectServer"], 60_000);
    expect(left.code, left.stdout).toBe(1);
    const apps = await compose(
      [
        ...["exec", "-T", "spark-master", "node", "-e"],
        'fetch("http://spark-master:8080/json/").then((r) => r.json()).then((j) => console.log(JSON.stringify({ active: j.activeapps.map((a) => a.name), completed: j.completedapps.map((a) => a.name) })))',
      ],
      60_000,
    );
    expect(apps.code, apps.stderr).toBe(0);
    const { active, completed } = JSON.parse(apps.stdout) as { active: string[]; completed: string[] };
    expect(active).not.toContain("orchard-submit-cluster-driver");
    expect(completed).toContain("orchard-submit-cluster-driver");
  }, 900_000);

  it("leaves no container, network or volume after `down -v`", async () => {
    const down = await the().down();
    expect(down.code, down.stderr).toBe(0);
    for (const kind of ["ps -a", "network ls", "volume ls"]) {
      const ran = await sh("docker", [
        ...kind.split(" "),
        "-q",
        "--filter",
        `label=com.docker.compose.project=${the().project}`,
      ]);
      expect(ran.code).toBe(0);
      expect(ran.stdout.trim(), kind).toBe("");
    }
  });
});
