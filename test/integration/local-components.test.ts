import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { canConnect, freePort } from "../../src/cli/local/ports.ts";
import { listObjects, uploadFolder } from "../../src/cli/local/s3-objects.ts";
import { LOCAL_DRIVER_JAVA_OPTIONS } from "../../src/cli/local/spark-launch.ts";
import { startLocalSpark } from "../../src/cli/local/spark-server.ts";
import { readTokenFile } from "../../src/cli/local/token-file.ts";
import { SetupError } from "../../src/errors.ts";
import { SparkSession } from "../../src/index.ts";
import { s3Client } from "../../src/s3.ts";
import { commandLine, isAlive } from "../../udf-server/src/process/managed-process.ts";
import { REPO_ROOT } from "./helpers/test-paths.ts";

const execFileP = promisify(execFile);

/** Pids of live processes whose command line configures a Connect server on `port`. */
function serversOnPort(port: number): number[] {
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((pid) => isAlive(pid) && (commandLine(pid) ?? "").includes(`spark.connect.grpc.binding.port=${port} `));
}

describe("local S3 server + Spark s3a://", () => {
  const s3 = inject("s3");
  const remote = inject("sparkRemote");
  let dir: string;
  let spark: SparkSession;
  const files = new Map<string, Buffer>();
  const prefix = `local-components/${randomBytes(4).toString("hex")}`;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "orchard-upload-"));
    for (const [name, size] of [
      ["a/one.bin", 17],
      ["a/two.bin", 4096],
      ["b/three.bin", 100_003],
    ] as const) {
      const bytes = randomBytes(size);
      mkdirSync(join(dir, name, ".."), { recursive: true });
      writeFileSync(join(dir, name), bytes);
      files.set(`${prefix}/${name}`, bytes);
    }
    spark = SparkSession.builder.remote(remote).create();
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await spark?.stop();
  });

  it("accepts a folder upload and lists exactly the uploaded objects", async () => {
    const client = await s3Client(s3);
    const keys = await uploadFolder(client, { bucket: s3.bucket, prefix, dir });
    expect(keys).toEqual([...files.keys()].sort());
    const listed = await listObjects(client, s3.bucket, `${prefix}/`);
    expect(listed.map((o) => [o.key, o.size])).toEqual([...files].map(([k, b]) => [k, b.length]).sort());
  });

  it("serves the uploaded bytes to Spark through s3a://", async () => {
    const rows = await spark.read
      .format("binaryFile")
      .option("recursiveFileLookup", "true")
      .load(`s3a://${s3.bucket}/${prefix}/`)
      .selectExpr("path", "length", "sha2(content, 256) AS sha")
      .orderBy("path")
      .collect();
    const expected = [...files]
      .map(([key, bytes]) => ({
        path: `s3a://${s3.bucket}/${key}`,
        length: bytes.length,
        sha: createHash("sha256").update(bytes).digest("hex"),
      }))
      .sort((a, b) => a.path.localeCompare(b.path));
    expect(rows.map((r) => ({ path: r.get("path"), length: Number(r.get("length")), sha: r.get("sha") }))).toEqual(
      expected,
    );
  });
});

describe("local Spark lifecycle", () => {
  it("starts a local master's JVM with C1 only (LOCAL_DRIVER_JAVA_OPTIONS) and Spark records it", async () => {
    const remote = inject("sparkRemote");
    const port = Number(new URL(remote.replace(/^sc:/, "http:")).port);
    const java = serversOnPort(port)
      .map((pid) => (commandLine(pid) ?? "").split(" "))
      .find((argv) => /\/java$/.test(argv[0] ?? ""));
    expect(java, `no java process serving port ${port}`).toBeDefined();
    const main = java?.indexOf("org.apache.spark.deploy.SparkSubmit") ?? -1;
    expect(main).toBeGreaterThan(0);
    // A JVM option: before the main class, not one of the application's arguments.
    expect(java?.slice(0, main)).toContain(LOCAL_DRIVER_JAVA_OPTIONS);
    const spark = SparkSession.builder.remote(remote).create();
    try {
      expect(await spark.conf.get("spark.driver.extraJavaOptions")).toContain(LOCAL_DRIVER_JAVA_OPTIONS);
    } finally {
      await spark.stop();
    }
  });

  it("refuses a taken port with a message naming the port and how to pick another", async () => {
    const port = await freePort();
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(port, "127.0.0.1", resolve));
    try {
      const attempt = startLocalSpark({ port, logDir: mkdtempSync(join(tmpdir(), "orchard-spark-")) });
      await expect(attempt).rejects.toBeInstanceOf(SetupError);
      await expect(attempt).rejects.toThrow(
        new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use; pick another with --port`),
      );
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  // A JVM plus a SparkContext cannot be up in 1 s, so the timeout path is taken on any machine.
  it("gives up after the start-up timeout: stops the process, shows the log tail, never the token", async () => {
    const port = await freePort();
    const logDir = mkdtempSync(join(tmpdir(), "orchard-spark-"));
    const token = `tok-${randomBytes(12).toString("hex")}`;
    try {
      const attempt = startLocalSpark({ port, token, logDir, startTimeoutMs: 1000 });
      const error = await attempt.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(SetupError);
      const message = (error as SetupError).message;
      expect(message).toMatch(new RegExp(`^Spark Connect server did not start within 1 s on 127\\.0\\.0\\.1:${port}`));
      expect(message).toContain(`--- last lines of ${join(logDir, `spark-${port}.log`)} ---`);
      expect(message).not.toContain(token);
      expect(serversOnPort(port)).toEqual([]);
      expect(await canConnect("127.0.0.1", port)).toBe(false);
    } finally {
      rmSync(logDir, { recursive: true, force: true });
    }
  });

  it("orchard spark start / status / stop runs a real server on a free port and stops exactly it", async () => {
    const port = await freePort();
    const runDir = mkdtempSync(join(tmpdir(), "orchard-cli-"));
    const env: NodeJS.ProcessEnv = { ...process.env, ORCHARD_RUN_DIR: runDir };
    delete env.ORCHARD_SPARK_TOKEN;
    const orchard = (...args: string[]) =>
      execFileP(process.execPath, [join(REPO_ROOT, "bin", "orchard.mjs"), ...args], { env, cwd: REPO_ROOT }).then(
        (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
      );
    let pid: number | undefined;
    try {
      const started = await orchard("spark", "start", "--port", String(port), "--master", "local[1]");
      expect(started.stderr).not.toMatch(/orchard: /);
      expect(started.code).toBe(0);
      expect(started.stdout).toContain(`sc://127.0.0.1:${port}`);
      // It warms the JVM up in the background (PCA, Parquet, binaryFile, KMeans, Arrow), and that
      // finishes and leaves nothing behind.
      const warmUpLog = join(runDir, `spark-${port}-warm-up.log`);
      expect(started.stdout).toContain(
        `warming its JVM up in the background, so that the first run is as fast as the next (log: ${warmUpLog})`,
      );
      const deadline = Date.now() + 120_000;
      while (!/warmed up|orchard: /.test(readFileSync(warmUpLog, "utf8")) && Date.now() < deadline) await sleep(500);
      expect(readFileSync(warmUpLog, "utf8")).toMatch(/^warmed up the Spark Connect server on port \d+ in [\d.]+ s\n$/);
      expect(existsSync(join(runDir, `spark-${port}`, "warm-up"))).toBe(false);

      const status = await orchard("spark", "status", "--port", String(port), "--json");
      expect(status.code).toBe(0);
      const parsed = JSON.parse(status.stdout) as { running: boolean; listening: boolean; state: { pid: number } };
      expect(parsed).toMatchObject({ running: true, listening: true });
      pid = parsed.state.pid;
      expect(isAlive(pid)).toBe(true);

      // It requires the random token it was given, from the 0600 file next to its state.
      const token = readTokenFile(join(runDir, `spark-${port}.token`), "token file");
      const session = SparkSession.builder.remote(`sc://127.0.0.1:${port}`).token(token).create();
      try {
        expect(await session.range(0, 10).count()).toBe(10);
      } finally {
        await session.stop();
      }

      const stopped = await orchard("spark", "stop", "--port", String(port));
      expect(stopped.code).toBe(0);
      expect(stopped.stdout).toContain(`stopped the local Spark Connect server on port ${port}`);
      expect(isAlive(pid)).toBe(false);
      expect(await canConnect("127.0.0.1", port)).toBe(false);

      const after = await orchard("spark", "status", "--port", String(port));
      expect(after.code).toBe(3);
      expect(after.stderr).toContain(
        `orchard: no local Spark Connect server started by orchard is running on port ${port}`,
      );
      const noServer = await orchard("spark", "warm-up", "--port", String(port));
      expect(noServer.code).toBe(3);
      expect(noServer.stderr.trim()).toBe(
        `orchard: no local Spark Connect server started by orchard is running on port ${port} (start one with: orchard spark start --port ${port})`,
      );
    } finally {
      if (pid !== undefined && isAlive(pid)) process.kill(-pid, "SIGKILL");
      rmSync(runDir, { recursive: true, force: true });
    }
  });
});
