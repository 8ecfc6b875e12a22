// emr/bootstrap.sh in a Debian container (debian:bookworm-slim, the docker/ base) against moto's S3:
// `orchard emr up` stages the real npm tarballs and the real model into moto, the bootstrap installs
// Node.js (bookworm's nodejs is 18: Node's build from the npm registry), OpenBLAS, orchard and the
// model (checksums checked), starts the sidecar (no systemd in a container: ORCHARD_BOOTSTRAP_NO_SYSTEMD=1)
// and then `orchard sidecar status` inside the container answers `health`; a second run is the
// idempotence check. Opt-in (ORCHARD_TEST_EMR_BOOTSTRAP=1): it needs a Docker engine, the base
// image, and the container needs Debian's archive and the npm registry (~5 min, ~200 MB).
// moto listens on the docker bridge's address (the container cannot reach the host's loopback).
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { CreateBucketCommand, PutBucketPolicyCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, describe, expect, it } from "vitest";
import { cacheRoot } from "../../scripts/lib/paths.ts";
import { canConnect, freePort } from "../../src/cli/local/ports.ts";
import { REPO_ROOT } from "./helpers/test-paths.ts";

const run = promisify(execFile);
const enabled = process.env.ORCHARD_TEST_EMR_BOOTSTRAP === "1";
const work = mkdtempSync(join(tmpdir(), "orchard-emr-bootstrap-"));
const container = `orchard-emr-bootstrap-${process.pid}`;
const stops: (() => Promise<void>)[] = [];

afterAll(async () => {
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
  rmSync(work, { recursive: true, force: true });
});

async function bridgeAddress(): Promise<string> {
  const { stdout } = await run("docker", [
    "network",
    "inspect",
    "bridge",
    "--format",
    "{{(index .IPAM.Config 0).Gateway}}",
  ]);
  return stdout.trim();
}

describe.skipIf(!enabled)("emr/bootstrap.sh in a Debian container against moto's S3", () => {
  it("installs orchard and the model, and the sidecar answers health", { timeout: 1_200_000 }, async () => {
    const host = await bridgeAddress();
    const port = await freePort(host);
    const moto = spawn(join(cacheRoot(), "moto", "venv", "bin", "moto_server"), ["-H", host, "-p", String(port)], {
      stdio: "ignore",
    });
    stops.push(async () => {
      moto.kill("SIGTERM");
    });
    for (let i = 0; !(await canConnect(host, port, 500)); i++) {
      if (i > 100) throw new Error("moto did not start");
      await new Promise((r) => setTimeout(r, 200));
    }
    const endpoint = `http://${host}:${port}`;
    const s3 = new S3Client({
      endpoint,
      region: "eu-west-1",
      forcePathStyle: true,
      credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    });
    await s3.send(
      new CreateBucketCommand({
        Bucket: "orchard-boot",
        CreateBucketConfiguration: { LocationConstraint: "eu-west-1" },
      }),
    );
    // The container has no AWS credentials (on EMR the instance profile signs `aws s3 cp`): this
    // moto bucket lets anonymous GetObject, for this test only.
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
    await run("npm", ["pack", "--workspaces", "--include-workspace-root", "--pack-destination", packs], {
      cwd: REPO_ROOT,
      maxBuffer: 64 << 20,
    });
    const env = {
      ...process.env,
      AWS_ACCESS_KEY_ID: "testing",
      AWS_SECRET_ACCESS_KEY: "testing",
      AWS_REGION: "eu-west-1",
      AWS_EC2_METADATA_DISABLED: "true",
    };
    const staging = "s3://orchard-boot/stage";
    await run(
      process.execPath,
      [
        join(REPO_ROOT, "bin", "orchard.mjs"),
        "emr",
        "up",
        "--staging",
        staging,
        "--endpoint-url",
        endpoint,
        "--package-dir",
        packs,
        "--no-wait",
      ],
      { env, maxBuffer: 16 << 20 },
    );

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
    stops.push(async () => {
      await run("docker", ["rm", "-f", container]).catch(() => undefined);
    });
    const script = [
      `bash /opt/orchard-bootstrap.sh --staging ${staging} || exit 10`,
      "t0=$(date +%s)",
      `bash /opt/orchard-bootstrap.sh --staging ${staging} > /tmp/second.log 2>&1 || { cat /tmp/second.log; exit 11; }`,
      'echo "second run: $(( $(date +%s) - t0 )) s"; grep -c downloading /tmp/second.log || true',
      "for i in $(seq 60); do orchard sidecar status --port 8815 && exit 0; sleep 5; done",
      "tail -50 /var/log/orchard-sidecar.log; exit 12",
    ].join("\n");
    const r = await run(
      "docker",
      [
        "run",
        "--rm",
        "--name",
        container,
        "-v",
        `${join(REPO_ROOT, "emr", "bootstrap.sh")}:/opt/orchard-bootstrap.sh:ro`,
        ...caArgs,
        "-e",
        `ORCHARD_S3_ENDPOINT=${endpoint}`,
        "-e",
        "ORCHARD_BOOTSTRAP_NO_SYSTEMD=1",
        "-e",
        "ORCHARD_BOOTSTRAP_ROLE=executor",
        "debian:bookworm-slim",
        "bash",
        "-c",
        script,
      ],
      { maxBuffer: 64 << 20 },
    ).catch((err: { code?: number; stdout?: string; stderr?: string }) => err);
    const out = `${r.stdout ?? ""}\n${r.stderr ?? ""}`;
    expect((r as { code?: number }).code ?? 0, out.slice(-4000)).toBe(0);
    expect(out).toContain("orchard bootstrap");
    expect(out).toMatch(/running: 127\.0\.0\.1:8815/);
    // The second run downloaded nothing again: every file already had its checksum.
    expect(out).toMatch(/second run: \d+ s\n0\n/);
  });
});
