// emr/bootstrap.sh on a node that boots systemd, as an EMR node does: a Debian container
// (debian:bookworm-slim, the docker/ base, plus Debian's systemd) whose PID 1 is systemd, against
// moto's S3. `orchard emr up` stages the real npm tarballs and the real model into moto; the
// bootstrap installs Node.js (bookworm's nodejs is 18: Node's build from the npm registry), OpenBLAS,
// orchard and the model (checksums checked) and installs orchard-sidecar.service. As on EMR, the
// `yarn` user does not exist yet when bootstrap actions run: the unit must start once it does, run
// the sidecar as yarn on 127.0.0.1:8815 with its secret in its state folder, and be restarted by
// systemd when the sidecar dies. A second bootstrap run downloads nothing. ~5 min the first time
// (apt and the npm registry from inside the container). Set ORCHARD_SKIP_DOCKER=1 to skip (no
// Docker engine and no root to start one), as for the docker-cluster test.
// moto listens on the docker bridge's address (the container cannot reach the host's loopback).
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, statfsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { CreateBucketCommand, PutBucketPolicyCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cacheRoot } from "../../scripts/lib/paths.ts";
import { canConnect, freePort } from "../../src/cli/local/ports.ts";
import { type Ran, sh } from "../support/compose-cluster.ts";
import { runOrchard } from "./helpers/orchard-cli.ts";
import { REPO_ROOT } from "./helpers/test-paths.ts";

const skip = process.env.ORCHARD_SKIP_DOCKER === "1";
const work = mkdtempSync(join(tmpdir(), "orchard-emr-bootstrap-"));
const container = `orchard-emr-bootstrap-${process.pid}`;
const image = "orchard-test/systemd-node:bookworm";
const staging = "s3://orchard-boot/stage";
const stops: (() => Promise<unknown>)[] = [];
/** statfs(2)'s f_type of a cgroup v2 mount. */
const CGROUP2_SUPER_MAGIC = 0x63677270;
let endpoint = "";

// Debian's systemd on the same base as docker/'s image; the classic builder reads it from stdin.
const DOCKERFILE = [
  "FROM debian:bookworm-slim",
  "RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends systemd systemd-sysv && rm -rf /var/lib/apt/lists/*",
  "STOPSIGNAL SIGRTMIN+3",
  'CMD ["/sbin/init"]',
].join("\n");

afterAll(async () => {
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
  rmSync(work, { recursive: true, force: true });
});

/** Runs BASH inside the node as root; resolves with its exit code and output. */
const inNode = (bash: string, env: Record<string, string> = {}, timeout = 600_000): Promise<Ran> =>
  sh(
    "docker",
    ["exec", ...Object.entries(env).flatMap(([k, v]) => ["-e", `${k}=${v}`]), container, "bash", "-c", bash],
    process.env,
    timeout,
  );

const output = (r: Ran) => `${r.stdout}\n${r.stderr}`;

/** Polls BASH in the node until it exits 0 (every 2 s, at most `seconds`); returns the last run. */
async function untilOk(bash: string, seconds: number): Promise<Ran> {
  let last = await inNode(bash);
  for (let waited = 0; last.code !== 0 && waited < seconds; waited += 2) {
    await sleep(2000);
    last = await inNode(bash);
  }
  return last;
}

const bootstrap = () =>
  inNode(`bash /opt/orchard-bootstrap.sh --staging ${staging}`, {
    ORCHARD_S3_ENDPOINT: endpoint,
    ORCHARD_BOOTSTRAP_ROLE: "executor",
  });
const unit = (property: string) =>
  inNode(`systemctl show -p ${property} --value orchard-sidecar.service`).then((r) => r.stdout.trim());
const health = "orchard sidecar status --port 8815";

/**
 * The host's address on Docker's default bridge, where containers reach it: the gateway IPAM names,
 * or (dockerd leaves it out of IPAM when it picked the subnet itself) the bridge interface's own.
 */
async function bridgeAddress(): Promise<string> {
  const inspected = await sh("docker", ["network", "inspect", "bridge", "--format", "{{json .}}"]);
  const network = JSON.parse(inspected.stdout) as {
    IPAM: { Config: { Gateway?: string }[] };
    Options: Record<string, string>;
  };
  const gateway = network.IPAM.Config.find((c) => c.Gateway)?.Gateway;
  if (gateway) return gateway;
  // Not os.networkInterfaces(): libuv leaves out interfaces without carrier, as a bridge with no
  // container attached yet is.
  const name = network.Options["com.docker.network.bridge.name"] ?? "docker0";
  const shown = await sh("ip", ["-4", "-o", "addr", "show", "dev", name]);
  const address = /\binet (\d+\.\d+\.\d+\.\d+)\//.exec(shown.stdout)?.[1];
  if (!address) throw new Error(`Docker's default bridge (${name}) has no IPv4 address on this host: ${shown.stderr}`);
  return address;
}

beforeAll(async () => {
  if (skip) return;
  const engine = await sh("bash", [join(REPO_ROOT, "scripts", "setup-docker.sh")]);
  if (engine.code !== 0) throw new Error(`scripts/setup-docker.sh failed: ${engine.stderr}`);
  const built = await sh("docker", ["build", "-q", "-t", image, "-"], process.env, 1_200_000, DOCKERFILE);
  if (built.code !== 0) throw new Error(`building ${image} failed: ${output(built)}`);

  const host = await bridgeAddress();
  const port = await freePort(host);
  const moto = spawn(join(cacheRoot(), "moto", "venv", "bin", "moto_server"), ["-H", host, "-p", String(port)], {
    stdio: "ignore",
  });
  stops.push(async () => moto.kill("SIGTERM"));
  for (let i = 0; !(await canConnect(host, port, 500)); i++) {
    if (i > 100) throw new Error("moto did not start");
    await sleep(200);
  }
  endpoint = `http://${host}:${port}`;
  const s3 = new S3Client({
    endpoint,
    region: "eu-west-1",
    forcePathStyle: true,
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
  });
  await s3.send(
    new CreateBucketCommand({ Bucket: "orchard-boot", CreateBucketConfiguration: { LocationConstraint: "eu-west-1" } }),
  );
  // The node has no AWS credentials (on EMR the instance profile signs `aws s3 cp`): this moto
  // bucket lets anonymous GetObject, for this test only.
  await s3.send(
    new PutBucketPolicyCommand({
      Bucket: "orchard-boot",
      Policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: "arn:aws:s3:::orchard-boot/*" },
        ],
      }),
    }),
  );
  s3.destroy();

  const packs = join(work, "packs");
  mkdirSync(packs);
  const packed = await sh(
    "npm",
    ["pack", "--workspaces", "--include-workspace-root", "--pack-destination", packs],
    process.env,
    900_000,
  );
  if (packed.code !== 0) throw new Error(`npm pack failed: ${packed.stderr}`);
  const up = await runOrchard(
    ["emr", "up", "--staging", staging, "--endpoint-url", endpoint, "--package-dir", packs, "--no-wait"],
    {
      env: {
        ...process.env,
        AWS_ACCESS_KEY_ID: "testing",
        AWS_SECRET_ACCESS_KEY: "testing",
        AWS_REGION: "eu-west-1",
        AWS_EC2_METADATA_DISABLED: "true",
      },
    },
  );
  if (up.code !== 0) throw new Error(`orchard emr up failed: ${up.stderr}`);

  // A TLS-intercepting egress proxy's CA, when the host has one, is passed in as a bundle.
  const caBundle = "/etc/ssl/certs/ca-certificates.crt";
  const caArgs = existsSync(caBundle)
    ? [
        "-v",
        `${caBundle}:/host-ca.crt:ro`,
        "-e",
        "CURL_CA_BUNDLE=/host-ca.crt",
        "-e",
        "NODE_EXTRA_CA_CERTS=/host-ca.crt",
      ]
    : [];
  stops.push(() => sh("docker", ["rm", "-f", container]));
  // systemd as PID 1 needs its own /run and the cgroup hierarchy, which Docker gives a container of
  // its own on cgroup v2 hosts; on cgroup v1 hosts (this machine kind) the host's is bound read-only.
  // Not privileged: the unit's sandboxing (ProtectSystem, PrivateTmp, ...) must work without it.
  const cgroup2 = statfsSync("/sys/fs/cgroup").type === CGROUP2_SUPER_MAGIC;
  const started = await sh("docker", [
    "run",
    "-d",
    "--name",
    container,
    "--tmpfs",
    "/run",
    "--tmpfs",
    "/run/lock",
    ...(cgroup2 ? [] : ["-v", "/sys/fs/cgroup:/sys/fs/cgroup:ro"]),
    "-v",
    `${join(REPO_ROOT, "emr", "bootstrap.sh")}:/opt/orchard-bootstrap.sh:ro`,
    ...caArgs,
    image,
  ]);
  if (started.code !== 0) throw new Error(`docker run failed: ${output(started)}`);
  // "degraded" is fine: units a container cannot run (e.g. getty) fail without concerning us.
  const booted = await untilOk("systemctl is-system-running | grep -Eq '^(running|degraded)$'", 120);
  if (booted.code !== 0) {
    const state = await inNode("systemctl is-system-running; systemctl --failed --no-pager");
    throw new Error(`systemd did not finish booting in the node: ${output(state)}`);
  }
}, 1_800_000);

describe.skipIf(skip)("emr/bootstrap.sh on a systemd node against moto's S3", () => {
  it("installs orchard and the model, and starts the sidecar unit once the yarn user exists", {
    timeout: 1_200_000,
  }, async () => {
    const first = await bootstrap();
    expect(first.code, output(first).slice(-4000)).toBe(0);
    expect(first.stdout).toContain("the yarn user does not exist yet");
    expect(await unit("UnitFileState")).toBe("enabled");
    expect(await unit("ActiveState")).toBe("inactive");

    // EMR installs YARN (and its user) after the bootstrap actions.
    const yarn = await inNode("useradd --system --user-group --no-create-home --shell /usr/sbin/nologin yarn");
    expect(yarn.code, output(yarn)).toBe(0);
    const answered = await untilOk(health, 300);
    expect(answered.code, `${output(answered)}\n${output(await inNode("tail -40 /var/log/orchard-sidecar.log"))}`).toBe(
      0,
    );
    expect(answered.stdout).toMatch(/running: 127\.0\.0\.1:8815/);
    const pid = await unit("MainPID");
    expect((await inNode(`stat -c %U /proc/${pid}`)).stdout.trim()).toBe("yarn"); // no procps in minbase
    // Its fresh secret: in its state folder, readable by yarn (the bridges) and no one else.
    const secret = await inNode("stat -c '%U %a' /var/lib/orchard-sidecar/sidecar-8815.secret");
    expect(secret.stdout.trim()).toBe("yarn 600");
    // Bound to loopback only.
    const listening = await inNode("cat /proc/net/tcp");
    expect(listening.stdout).toMatch(/^\s*\d+: 0100007F:226F 00000000:0000 0A /m);

    // A sidecar that dies is restarted by systemd (Restart=on-failure, RestartSec=5).
    await inNode(`kill -9 ${pid}`);
    const restarted = await untilOk(
      `[ "$(systemctl show -p MainPID --value orchard-sidecar.service)" != "${pid}" ] && ${health}`,
      180,
    );
    expect(restarted.code, output(restarted)).toBe(0);
    expect(Number(await unit("NRestarts"))).toBeGreaterThanOrEqual(1);

    // Idempotent: a second run checks every file's checksum and downloads nothing.
    const second = await bootstrap();
    expect(second.code, output(second).slice(-4000)).toBe(0);
    expect(second.stdout).not.toContain("downloading");
    expect(await unit("ActiveState")).toBe("active");
  });
});
