import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../src/cli/local/ports.ts";
import type { LocalSpark } from "../../src/cli/local/spark-server.ts";
import { SparkAuthenticationError, SparkConnectionError } from "../../src/connect/errors.ts";
import { SparkSession } from "../../src/connect/spark-session.ts";
import { ConfigError } from "../../src/errors.ts";
import { startExtraSpark } from "./helpers/extra-spark.ts";
import { REPO_ROOT, testLayout } from "./helpers/test-paths.ts";
import { type CertFiles, makeCa, makeLeaf, startTlsProxy, type TlsProxy } from "./helpers/tls-proxy.ts";

const run = promisify(execFile);

/**
 * Client TLS as an EMR Spark Connect session needs it, against Debian's nginx terminating TLS in
 * front of a real Spark Connect server that requires a bearer token (nginx checks none: Spark
 * does). The CAs and certificates are made here with the openssl CLI: `ca` signs the server's and
 * a client's certificate; `other` is a CA nobody trusts, with a client certificate of its own.
 */
const token = randomBytes(18).toString("base64url");
const dir = mkdtempSync(join(tmpdir(), "orchard-tls-"));
let spark: LocalSpark | undefined;
let proxy: TlsProxy | undefined;
let ca: CertFiles;
let other: CertFiles;
let client: CertFiles;
let otherClient: CertFiles;

beforeAll(async () => {
  const starting = startExtraSpark({ token, conf: { "spark.sql.shuffle.partitions": "2" } });
  ca = await makeCa(dir, "ca");
  other = await makeCa(dir, "other");
  const server = await makeLeaf(dir, "server", ca, "server");
  client = await makeLeaf(dir, "client", ca, "client");
  otherClient = await makeLeaf(dir, "other-client", other, "client");
  spark = await starting;
  proxy = await startTlsProxy({
    dir,
    upstreamPort: spark.port,
    tlsPort: await freePort(),
    mtlsPort: await freePort(),
    server,
    clientCa: ca.cert,
  });
}, 300_000);

afterAll(async () => {
  await proxy?.stop();
  await spark?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The proxy's URL with TLS and a token (`null`: none). */
const tlsUrl = (port: number, tok: string | null = token) =>
  `sc://localhost:${port}/;use_ssl=true${tok === null ? "" : `;token=${tok}`}`;

async function failure(p: Promise<unknown>): Promise<Error> {
  return p.then(
    () => {
      throw new Error("expected a failure");
    },
    (e: unknown) => e as Error,
  );
}

/** Everything a failure shows a user or a log: message and stack, of the error and its causes. */
function shown(err: Error): string {
  const parts: string[] = [];
  for (let e: unknown = err; e instanceof Error; e = e.cause) parts.push(e.message, e.stack ?? "");
  return parts.join("\n");
}

describe("TLS with a custom CA, the token checked by Spark", () => {
  it("runs queries through the proxy with the CA as a file path", async () => {
    const session = SparkSession.builder
      .remote(tlsUrl((proxy as TlsProxy).tlsPort))
      .tls({ ca: ca.cert })
      .create();
    try {
      expect(session.remoteUrl).toBe(`sc://localhost:${(proxy as TlsProxy).tlsPort}/;token=<redacted>;use_ssl=true`);
      expect(await session.version()).toMatch(/^4\./);
      // A result of many Arrow batches and an upload both cross nginx.
      const rows = await session.range(0, 200_000, 1, 2).selectExpr("id", "id * 3 AS t").collect();
      expect(rows.length).toBe(200_000);
      expect(rows[199_999]?.get("t")).toBe(599_997n);
      const df = session.createDataFrame(
        Array.from({ length: 1000 }, (_, i) => ({ i, s: `row ${i}` })),
        "i int, s string",
      );
      expect(await df.where("i % 10 = 0").count()).toBe(100);
    } finally {
      await session.stop();
    }
  });

  it("takes the CA as PEM text from ORCHARD_SPARK_CA, and .tls() alone turns TLS on", async () => {
    const saved = process.env.ORCHARD_SPARK_CA;
    process.env.ORCHARD_SPARK_CA = readFileSync(ca.cert, "utf8");
    try {
      const viaEnv = SparkSession.builder.remote(tlsUrl((proxy as TlsProxy).tlsPort)).create();
      expect(await viaEnv.version()).toMatch(/^4\./);
      await viaEnv.stop();
      // No use_ssl in the URL: .tls() turns TLS on, and the token may then go to any host.
      const viaBuilder = SparkSession.builder
        .remote(`sc://localhost:${(proxy as TlsProxy).tlsPort}/;token=${token}`)
        .tls()
        .create();
      expect((await viaBuilder.range(3).collect()).length).toBe(3);
      await viaBuilder.stop();
    } finally {
      if (saved === undefined) delete process.env.ORCHARD_SPARK_CA;
      else process.env.ORCHARD_SPARK_CA = saved;
    }
  });

  it("a wrong CA: a connection error that says certificate verification failed, at once", async () => {
    for (const tls of [{ ca: other.cert }, undefined]) {
      const builder = SparkSession.builder.remote(tlsUrl((proxy as TlsProxy).tlsPort));
      const session = (tls ? builder.tls(tls) : builder).create();
      const started = Date.now();
      const err = await failure(session.version());
      const ms = Date.now() - started;
      expect(err).toBeInstanceOf(SparkConnectionError);
      expect((err as SparkConnectionError).problem).toBe("tls-verify");
      expect(err.message).toMatch(/TLS certificate verification failed \(unable to verify the first certificate\)/);
      expect(err.message).toContain("ORCHARD_SPARK_CA");
      expect(err.message).not.toContain("orchard spark start");
      expect(err.message).not.toContain("\n");
      expect(shown(err)).not.toContain(token);
      // Not retried: a certificate that does not verify stays so (6 retries took ~4 s).
      expect(ms).toBeLessThan(1500);
      await session.stop();
    }
  });

  it("a wrong token over TLS: Spark's refusal, as an authentication error without the token", async () => {
    const wrong = `${token}x`;
    const session = SparkSession.builder
      .remote(tlsUrl((proxy as TlsProxy).tlsPort, wrong))
      .tls({ ca: ca.cert })
      .create();
    const err = await failure(session.range(1).collect());
    expect(err).toBeInstanceOf(SparkAuthenticationError);
    expect((err as SparkAuthenticationError).grpcCode).toBe("UNAUTHENTICATED");
    expect(err.message).toContain("Invalid authentication token");
    expect(err.message).toContain("token=<redacted>");
    expect(shown(err)).not.toContain(token);
    await session.stop();

    const none = SparkSession.builder
      .remote(tlsUrl((proxy as TlsProxy).tlsPort, null))
      .tls({ ca: ca.cert })
      .create();
    const missing = await failure(none.version());
    expect(missing).toBeInstanceOf(SparkAuthenticationError);
    expect(missing.message).toContain("No authentication token provided");
    await none.stop();
  });

  it("TLS to the plaintext Spark port, and plaintext to the TLS port: each says what to change", async () => {
    const tlsToPlain = SparkSession.builder
      .remote(tlsUrl((spark as LocalSpark).port))
      .tls({ ca: ca.cert })
      .create();
    const e1 = await failure(tlsToPlain.version());
    expect(e1).toBeInstanceOf(SparkConnectionError);
    expect(e1.message).toContain("TLS handshake failed (wrong version number)");
    expect(e1.message).toContain("drop use_ssl=true");
    await tlsToPlain.stop();

    const plainToTls = SparkSession.builder
      .remote(`sc://localhost:${(proxy as TlsProxy).tlsPort}/;token=${token}`)
      .create();
    const e2 = await failure(plainToTls.version());
    expect(e2).toBeInstanceOf(SparkConnectionError);
    expect(e2.message).toContain("add ;use_ssl=true");
    await plainToTls.stop();
  });
});

describe("mutual TLS (nginx requires a client certificate signed by the CA)", () => {
  it("works with the client certificate and key, given as files or through the environment", async () => {
    const session = SparkSession.builder
      .remote(tlsUrl((proxy as TlsProxy).mtlsPort))
      .tls({ ca: ca.cert, cert: client.cert, key: client.key })
      .create();
    expect(await session.version()).toMatch(/^4\./);
    expect(await session.range(1000).count()).toBe(1000);
    await session.stop();

    const saved = { ...process.env };
    Object.assign(process.env, { ORCHARD_SPARK_CA: ca.cert, ORCHARD_SPARK_CERT: client.cert });
    process.env.ORCHARD_SPARK_KEY = readFileSync(client.key, "utf8");
    try {
      const viaEnv = SparkSession.builder.remote(tlsUrl((proxy as TlsProxy).mtlsPort)).create();
      expect(await viaEnv.version()).toMatch(/^4\./);
      await viaEnv.stop();
    } finally {
      for (const k of ["ORCHARD_SPARK_CA", "ORCHARD_SPARK_CERT", "ORCHARD_SPARK_KEY"]) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
  });

  it("without a client certificate, or with one of an untrusted CA: a clear connection error", async () => {
    const cases = [
      { tls: { ca: ca.cert }, says: "needs a client certificate" },
      {
        tls: { ca: ca.cert, cert: otherClient.cert, key: otherClient.key },
        says: "may not trust the client certificate",
      },
    ];
    for (const { tls, says } of cases) {
      const session = SparkSession.builder
        .remote(tlsUrl((proxy as TlsProxy).mtlsPort))
        .tls(tls)
        .create();
      const err = await failure(session.version());
      expect(err).toBeInstanceOf(SparkConnectionError);
      expect((err as SparkConnectionError).problem).toBe("http");
      expect(err.message).toContain("the server answered HTTP 400 instead of gRPC");
      expect(err.message).toContain(says);
      expect(shown(err)).not.toContain(token);
      // stop() has no session to release and does not fail.
      await session.stop();
    }
  });

  it("a key that does not match the certificate is refused before any connection, naming no key", () => {
    let err: unknown;
    try {
      SparkSession.builder
        .remote(tlsUrl((proxy as TlsProxy).mtlsPort))
        .tls({ ca: ca.cert, cert: client.cert, key: readFileSync(otherClient.key, "utf8") })
        .create();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).field).toBe("tls.key");
    expect((err as Error).message).toBe("invalid tls.key: PEM text is not the private key of tls.cert");
  });
});

describe("the orchard CLI over TLS", () => {
  it("a wrong CA in ORCHARD_SPARK_CA: one line naming the problem, exit 3, no stack", async () => {
    const input = join(dir, "images", "apple_red");
    mkdirSync(input, { recursive: true });
    const apples = join(testLayout().cacheRoot, "data", "fruits", "Training", "apple_red");
    copyFileSync(join(apples, readdirSync(apples).sort()[0] as string), join(input, "1.jpg"));
    const out = await run(
      process.execPath,
      [
        join(REPO_ROOT, "bin", "orchard.mjs"),
        "run",
        "--input",
        join(dir, "images"),
        "--output",
        join(dir, "out"),
        "--no-start",
      ],
      {
        cwd: REPO_ROOT,
        env: {
          ...process.env,
          SPARK_REMOTE: tlsUrl((proxy as TlsProxy).tlsPort),
          ORCHARD_SPARK_CA: other.cert,
          ORCHARD_DEBUG: "",
        },
        timeout: 120_000,
      },
    ).then(
      () => ({ code: 0, stderr: "" }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(out.code).toBe(3);
    const lines = out.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^orchard: cannot reach Spark Connect at sc:\/\/localhost:\d+\/;token=<redacted>;use_ssl=true: TLS certificate verification failed/,
    );
    expect(out.stderr).not.toContain(token);
    expect(out.stderr).not.toMatch(/\n\s+at /);
  });
});
