import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SparkConnectClient } from "../../src/connect/client.ts";
import { parseConnectionUrl } from "../../src/connect/connection-url.ts";
import { SparkConnectionError } from "../../src/connect/errors.ts";
import { classifyStreamError } from "../../src/connect/execution.ts";
import { transportProblem } from "../../src/connect/grpc-errors.ts";
import { DEFAULT_RETRY } from "../../src/connect/retry-policy.ts";
import { SparkSession } from "../../src/connect/spark-session.ts";
import { resolveTls, tlsFromEnv } from "../../src/connect/tls-options.ts";
import { ConfigError } from "../../src/errors.ts";

// Certificates made with the openssl CLI: a CA and a client certificate it signs, and a key of
// another pair that matches neither.
const dir = mkdtempSync(join(tmpdir(), "orchard-tls-unit-"));
const file = (name: string) => join(dir, name);
let caPem: string;
let certPem: string;
let keyPem: string;
let otherKeyPem: string;

function openssl(...args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
}

beforeAll(() => {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl("req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "1", "-subj", "/CN=unit ca");
  openssl("req", "-new", ...ec, "-keyout", "client.key", "-out", "client.csr", "-subj", "/CN=unit client");
  openssl("x509", "-req", "-in", "client.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-out", "client.crt", "-days", "1");
  openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-out", "other.key");
  caPem = readFileSync(file("ca.crt"), "utf8");
  certPem = readFileSync(file("client.crt"), "utf8");
  keyPem = readFileSync(file("client.key"), "utf8");
  otherKeyPem = readFileSync(file("other.key"), "utf8");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function configError(f: () => unknown): ConfigError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

/** The base64 body of a PEM key, which no message may contain. */
const keyBody = (pem: string) => pem.split("\n")[1] as string;

describe("resolveTls", () => {
  it("reads each part as a file path, PEM text or PEM bytes", () => {
    const fromFiles = resolveTls({ ca: file("ca.crt"), cert: file("client.crt"), key: file("client.key") });
    expect(fromFiles.ca?.toString()).toBe(caPem);
    expect(fromFiles.cert?.toString()).toBe(certPem);
    expect(fromFiles.key?.toString()).toBe(keyPem);
    expect(resolveTls({ ca: caPem }).ca?.toString()).toBe(caPem);
    expect(resolveTls({ ca: new TextEncoder().encode(caPem) }).ca?.toString()).toBe(caPem);
    expect(resolveTls({})).toEqual({});
  });

  it("names the setting and the file, never the content", () => {
    const missing = configError(() => resolveTls({ ca: file("nope.pem") }));
    expect(missing.field).toBe("tls.ca");
    expect(missing.message).toBe(
      `invalid tls.ca: cannot read ${file("nope.pem")} (ENOENT); give PEM text or the path of a readable PEM file`,
    );
    const keyAsCa = configError(() => resolveTls({ ca: keyPem }));
    expect(keyAsCa.message).toBe("invalid tls.ca: PEM text is not a PEM certificate");
    expect(keyAsCa.message).not.toContain(keyBody(keyPem));
    const notAKey = configError(() => resolveTls({ cert: certPem, key: file("ca.crt") }));
    expect(notAKey.field).toBe("tls.key");
    expect(notAKey.message).toBe(`invalid tls.key: ${file("ca.crt")} is not an unencrypted PEM private key`);
  });

  it("wants a client certificate and its matching key together", () => {
    expect(configError(() => resolveTls({ cert: certPem })).field).toBe("tls.key");
    expect(configError(() => resolveTls({ key: keyPem })).field).toBe("tls.cert");
    const mismatch = configError(() => resolveTls({ cert: certPem, key: otherKeyPem }));
    expect(mismatch.message).toBe("invalid tls.key: PEM text is not the private key of tls.cert");
    expect(mismatch.message).not.toContain(keyBody(otherKeyPem));
  });

  it("labels values from the environment with their variable", () => {
    expect(tlsFromEnv({ ORCHARD_SPARK_CA: "/x.pem", ORCHARD_SPARK_CERT: "", OTHER: "y" })).toEqual({ ca: "/x.pem" });
    const err = configError(() => resolveTls({ ca: "/x.pem" }, { ca: "ORCHARD_SPARK_CA" }));
    expect(err.field).toBe("tls.ca");
    expect(err.message).toMatch(/^invalid ORCHARD_SPARK_CA: cannot read \/x\.pem \(ENOENT\)/);
  });
});

describe("SparkSession builder with TLS", () => {
  const env = (vars: Record<string, string | undefined>, body: () => void) => {
    const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
    for (const [k, v] of Object.entries(vars)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    try {
      body();
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  };

  it("keeps the key and the token out of what inspection shows", async () => {
    const spark = SparkSession.builder
      .remote("sc://emr.example:15002/;use_ssl=true;token=HIDDEN-VALUE")
      .tls({ ca: caPem, cert: certPem, key: keyPem })
      .create();
    const shown = inspect(spark, { depth: 8, showHidden: true });
    expect(shown).not.toContain(keyBody(keyPem));
    expect(shown).not.toContain("HIDDEN-VALUE");
    expect(spark.remoteUrl).toBe("sc://emr.example:15002/;token=<redacted>;use_ssl=true");
    await spark.stop();
  });

  it("reads ORCHARD_SPARK_CA only for a TLS URL, and .tls() values win over it", async () => {
    env({ ORCHARD_SPARK_CA: file("missing.pem"), ORCHARD_SPARK_CERT: undefined, ORCHARD_SPARK_KEY: undefined }, () => {
      const plain = SparkSession.builder.remote("sc://127.0.0.1:1").create();
      void plain.stop();
      const err = configError(() => SparkSession.builder.remote("sc://127.0.0.1:1/;use_ssl=true").create());
      expect(err.message).toContain("invalid ORCHARD_SPARK_CA: cannot read");
      // An option given as undefined is not given: the variable still applies.
      const unset = configError(() => SparkSession.builder.remote("sc://127.0.0.1:1").tls({ ca: undefined }).create());
      expect(unset.message).toContain("invalid ORCHARD_SPARK_CA: cannot read");
      const given = SparkSession.builder.remote("sc://127.0.0.1:1/;use_ssl=true").tls({ ca: caPem }).create();
      void given.stop();
    });
  });

  it(".tls() turns TLS on, lets a token go to any host, and conflicts with use_ssl=false", () => {
    const url = parseConnectionUrl("sc://emr.example:15002/;token=t", { tls: true });
    expect(url.useSsl).toBe(true);
    expect(() => parseConnectionUrl("sc://emr.example:15002/;token=t")).toThrow(ConfigError);
    expect(configError(() => parseConnectionUrl("sc://h:1/;use_ssl=false", { tls: true })).field).toBe(
      "remote.use_ssl",
    );
  });
});

describe("transport problems (grpc-js's own messages, as seen through nginx)", () => {
  const serviceError = (code: grpc.status, details: string): grpc.ServiceError =>
    Object.assign(new Error(`${code} ${details}`), { code, details, metadata: new grpc.Metadata() });
  const verify = serviceError(
    grpc.status.UNAVAILABLE,
    "No connection established. Last error: Error: unable to verify the first certificate. Resolution note: ",
  );
  const plaintextServer = serviceError(
    grpc.status.UNAVAILABLE,
    "No connection established. Last error: Error: 808CAFB6377F0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/openssl/ssl/record/ssl3_record.c:350:\n. Resolution note: ",
  );
  const tlsServer = serviceError(
    grpc.status.UNAVAILABLE,
    "No connection established. Last error: Protocol error (2026-12-02T15:12:52.063Z). Resolution note: ",
  );
  const http400 = serviceError(grpc.status.INTERNAL, "Received HTTP status code 400");
  const http503 = serviceError(grpc.status.UNAVAILABLE, "Received HTTP status code 503");
  const refused = serviceError(grpc.status.UNAVAILABLE, "No connection established. Last error: connect ECONNREFUSED");

  it.each([
    ["certificate", verify, { problem: "tls-verify", reason: "unable to verify the first certificate" }],
    ["plaintext server", plaintextServer, { problem: "tls-handshake", reason: "wrong version number" }],
    ["TLS server", tlsServer, { problem: "protocol", reason: "Protocol error" }],
    ["proxy 400", http400, { problem: "http", reason: "HTTP 400" }],
    ["proxy 503", http503, undefined],
    ["nothing listens", refused, undefined],
  ])("%s", (_name, e, expected) => {
    expect(transportProblem(e)).toEqual(expected);
    expect(classifyStreamError(e)).toBe(expected === undefined ? "retry" : "fatal");
  });

  const client = (url: string, tls?: { cert: Buffer; key: Buffer }) =>
    new SparkConnectClient({
      url: parseConnectionUrl(url),
      sessionId: "00000000-0000-4000-8000-000000000000",
      userId: "u",
      clientType: "test",
      retry: DEFAULT_RETRY,
      ...(tls ? { tls } : {}),
    });

  it("each becomes a one-line connection error that says which setting to check", async () => {
    const tls = client("sc://h:1/;use_ssl=true;token=SECRET");
    const messages = {
      verify: (await tls.convertError(verify)).message,
      plaintextServer: (await tls.convertError(plaintextServer)).message,
      http400: (await tls.convertError(http400)).message,
      mtls: (
        await client("sc://h:1/;use_ssl=true", {
          cert: Buffer.from(certPem),
          key: Buffer.from(keyPem),
        }).convertError(http400)
      ).message,
      tlsServer: (await client("sc://127.0.0.1:1/;token=SECRET").convertError(tlsServer)).message,
    };
    expect(messages).toEqual({
      verify:
        "cannot reach Spark Connect at sc://h:1/;token=<redacted>;use_ssl=true: TLS certificate verification failed (unable to verify the first certificate); give the CA that signed the server's certificate with builder.tls({ ca }) or ORCHARD_SPARK_CA",
      plaintextServer:
        "cannot reach Spark Connect at sc://h:1/;token=<redacted>;use_ssl=true: TLS handshake failed (wrong version number); the server does not speak TLS: drop use_ssl=true for a plaintext server",
      http400:
        "cannot reach Spark Connect at sc://h:1/;token=<redacted>;use_ssl=true: the server answered HTTP 400 instead of gRPC (a proxy refused the request); with mutual TLS the proxy needs a client certificate: give one with builder.tls({ cert, key }) or ORCHARD_SPARK_CERT and ORCHARD_SPARK_KEY",
      mtls: "cannot reach Spark Connect at sc://h:1/;use_ssl=true: the server answered HTTP 400 instead of gRPC (a proxy refused the request); with mutual TLS the proxy may not trust the client certificate given with builder.tls({ cert, key }) or ORCHARD_SPARK_CERT and ORCHARD_SPARK_KEY",
      tlsServer:
        "cannot reach Spark Connect at sc://127.0.0.1:1/;token=<redacted>: the server did not answer plaintext gRPC; if it expects TLS, add ;use_ssl=true",
    });
    const err = await tls.convertError(verify);
    expect(err).toBeInstanceOf(SparkConnectionError);
    expect((err as SparkConnectionError).problem).toBe("tls-verify");
  });
});
