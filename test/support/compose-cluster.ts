import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join, resolve } from "node:path";
import { freePort } from "../../src/cli/local/ports.ts";

// docker/compose.yaml as a user brings it up, for the docker-cluster test and bench/cluster: the
// engine (scripts/setup-docker.sh starts one as root when none answers), orchard's node image
// (scripts/setup-docker-image.sh, rebuilt only when its inputs change), fresh secrets, free loopback
// ports, `up -d --wait`, and `down -v` of exactly the project this module created.

const REPO_ROOT = resolve(import.meta.dirname, "..", "..");
const COMPOSE_FILE = join(REPO_ROOT, "docker", "compose.yaml");

/** A finished command: its exit code and output. */
export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command from the repository root, with `input` on its standard input when given; resolves
 * with its exit code and output (never rejects).
 */
export function sh(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  timeout = 1_200_000,
  input?: string,
): Promise<Ran> {
  return new Promise((done) => {
    const child = execFile(
      file,
      args,
      { cwd: REPO_ROOT, env, timeout, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        done({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

/**
 * What an orchard user on the host has: the given variables, and none of the test's or bench's own
 * servers (no SPARK_REMOTE, sidecar or S3 endpoint unless given).
 */
export function userEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
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

/** A compose project of docker/compose.yaml that this process brought up. */
export interface ComposeCluster {
  readonly project: string;
  /** The node image's tag (`orchard/node:<hash>`). */
  readonly image: string;
  /** The Connect token the cluster requires. */
  readonly token: string;
  readonly accessKey: string;
  readonly secretKey: string;
  readonly bucket: string;
  /** Host ports, on 127.0.0.1: Connect and MinIO's S3 API. */
  readonly ports: { readonly connect: number; readonly s3: number };
  /** How long the image build/check and `up --wait` took (ms). */
  readonly timings: { readonly image: number; readonly up: number };
  /** `docker compose -p <project> -f docker/compose.yaml ARGS`. */
  compose(args: string[], timeout?: number): Promise<Ran>;
  /** The Connect URL from the host, with `token` (default: the right one). */
  remote(token?: string): string;
  /** MinIO's endpoint from the host. */
  readonly s3Endpoint: string;
  /** The environment of the orchard CLI on the host against this cluster. */
  hostEnv(token?: string): NodeJS.ProcessEnv;
  /** `down -v --remove-orphans`; safe to call twice. */
  down(): Promise<Ran>;
}

/** Options of {@link startComposeCluster}. */
export interface ComposeClusterOptions {
  /** Project name prefix (default `orchard`). */
  prefix?: string;
  /** Extra variables for compose (e.g. ORCHARD_WORKER_CORES). */
  env?: NodeJS.ProcessEnv;
}

/**
 * Brings a fresh compose project up and waits until every service is healthy (Connect holding both
 * workers' cores). On failure it takes the project down again and throws with the services' logs.
 */
export async function startComposeCluster(options: ComposeClusterOptions = {}): Promise<ComposeCluster> {
  const engine = await sh("bash", [join(REPO_ROOT, "scripts", "setup-docker.sh")]);
  if (engine.code !== 0) throw new Error(`scripts/setup-docker.sh failed: ${engine.stderr}`);
  const t0 = performance.now();
  const built = await sh(
    "bash",
    [join(REPO_ROOT, "scripts", "setup-docker-image.sh"), "--print-tag"],
    process.env,
    2_400_000,
  );
  if (built.code !== 0) throw new Error(`scripts/setup-docker-image.sh failed: ${built.stderr}`);
  const image = built.stdout.trim();
  const imageMs = performance.now() - t0;

  const project = `${options.prefix ?? "orchard"}-${process.pid}-${Date.now().toString(36)}`;
  const token = randomBytes(18).toString("base64url");
  const accessKey = `orchard${randomBytes(4).toString("hex")}`;
  const secretKey = randomBytes(18).toString("base64url");
  const bucket = "orchard";
  const ports = { connect: await freePort(), s3: await freePort() };
  const composeEnv = userEnv({
    ...options.env,
    ORCHARD_IMAGE: image,
    ORCHARD_SPARK_TOKEN: token,
    ORCHARD_S3_ACCESS_KEY: accessKey,
    ORCHARD_S3_SECRET_KEY: secretKey,
    ORCHARD_S3_BUCKET: bucket,
    ORCHARD_CONNECT_PORT: String(ports.connect),
    ORCHARD_S3_PORT: String(ports.s3),
  });
  const compose = (args: string[], timeout?: number) =>
    sh("docker", ["compose", "-p", project, "-f", COMPOSE_FILE, ...args], composeEnv, timeout);
  const s3Endpoint = `http://127.0.0.1:${ports.s3}`;
  const remote = (t = token) => `sc://127.0.0.1:${ports.connect}/;token=${t}`;
  let up = true;
  const down = async (): Promise<Ran> => {
    if (!up) return { code: 0, stdout: "", stderr: "" };
    up = false;
    return compose(["down", "-v", "--remove-orphans", "--timeout", "10"], 300_000);
  };

  const t1 = performance.now();
  const started = await compose(["up", "-d", "--wait", "--wait-timeout", "420"], 600_000);
  if (started.code !== 0) {
    const logs = await compose(["logs", "--no-color", "--tail", "40"]);
    await down();
    throw new Error(`docker compose up failed (${started.code}): ${started.stderr}\n${logs.stdout}`);
  }
  return {
    project,
    image,
    token,
    accessKey,
    secretKey,
    bucket,
    ports,
    timings: { image: Math.round(imageMs), up: Math.round(performance.now() - t1) },
    compose,
    remote,
    s3Endpoint,
    hostEnv: (t = token) =>
      userEnv({
        SPARK_REMOTE: remote(t),
        ORCHARD_S3_ENDPOINT: s3Endpoint,
        ORCHARD_S3_ACCESS_KEY: accessKey,
        ORCHARD_S3_SECRET_KEY: secretKey,
      }),
    down,
  };
}
