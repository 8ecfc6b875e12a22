import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { parseConnectionUrl, redactUrl, renderConnectionUrl, tokenFromEnv } from "../../src/connect/connection-url.ts";
import { SparkSession } from "../../src/connect/spark-session.ts";
import { ConfigError } from "../../src/errors.ts";

const SID = "8f1f8b5e-4c1e-4c5b-9a57-0d6c2b0e9a11";

describe("parseConnectionUrl", () => {
  const ok: [string, Partial<ReturnType<typeof parseConnectionUrl>>][] = [
    ["sc://localhost", { host: "localhost", port: 15002, useSsl: false, token: undefined }],
    ["sc://localhost:1234", { host: "localhost", port: 1234 }],
    ["sc://127.0.0.1:15002/", { host: "127.0.0.1", port: 15002 }],
    ["sc://[::1]:9000", { host: "::1", port: 9000 }],
    ["sc://[::1]", { host: "::1", port: 15002 }],
    ["sc://localhost/;token=abc", { token: "abc", useSsl: false }],
    [
      "sc://spark.example.com:443/;token=abc;use_ssl=true",
      { host: "spark.example.com", port: 443, token: "abc", useSsl: true },
    ],
    ["sc://h:1/;use_ssl=false", { useSsl: false }],
    ["sc://h:1/;user_id=alice", { userId: "alice" }],
    [`sc://h:1/;session_id=${SID}`, { sessionId: SID }],
    ["sc://h:1/;user_agent=my-app", { userAgent: "my-app" }],
    ["sc://h:1/;x-trace=on", { headers: { "x-trace": "on" } }],
    ["sc://h:1;user_id=bob", { userId: "bob", port: 1 }],
    ["sc://h/;user_id=a%20b", { userId: "a b" }],
  ];
  it.each(ok)("parses %s", (url, expected) => {
    expect(parseConnectionUrl(url)).toMatchObject(expected);
  });

  const bad: [string, string][] = [
    ["http://localhost:15002", "remote"],
    ["sc://", "remote.host"],
    ["sc://h:0", "remote.port"],
    ["sc://h:70000", "remote.port"],
    ["sc://h:abc", "remote.port"],
    ["sc://h/path", "remote"],
    ["sc://h/;use_ssl=yes", "remote.use_ssl"],
    ["sc://h/;session_id=not-a-uuid", "remote.session_id"],
    ["sc://h/;token=", "remote.token"],
    ["sc://h/;user_id=", "remote.user_id"],
    ["sc://h/;novalue", "remote"],
    ["sc://h/;user_id=a;user_id=b", "remote.user_id"],
    ["sc://h/;Bad Header=x", "remote.Bad Header"],
    ["sc://spark.example.com/;token=s3cr3t", "remote.token"],
    ["sc://10.0.0.5/;token=s3cr3t;use_ssl=false", "remote.token"],
  ];
  it.each(bad)("rejects %s naming field %s", (url, field) => {
    let err: unknown;
    try {
      parseConnectionUrl(url);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).field).toBe(field);
    expect((err as ConfigError).message).not.toContain("s3cr3t");
  });

  it("allows a plaintext token only to loopback hosts", () => {
    for (const host of ["localhost", "127.0.0.1", "127.1.2.3", "[::1]"]) {
      expect(parseConnectionUrl(`sc://${host}:15002/;token=t`).token).toBe("t");
    }
  });
});

describe("redaction", () => {
  it("never renders the token", () => {
    const url = "sc://localhost:15002/;user_id=u;token=TOPSECRET;use_ssl=false";
    expect(redactUrl(url)).toBe("sc://localhost:15002/;user_id=u;token=<redacted>;use_ssl=false");
    const rendered = renderConnectionUrl(parseConnectionUrl(url));
    expect(rendered).not.toContain("TOPSECRET");
    expect(rendered).toContain("token=<redacted>");
    expect(rendered).toContain("user_id=u");
  });
});

describe("redactUrl: only use_ssl, user_id, session_id and user_agent are shown", () => {
  const cases: [string, string][] = [
    ["sc://h:1", "sc://h:1"],
    ["sc://h:1/;token=T0P", "sc://h:1/;token=<redacted>"],
    ["sc://h:1/;TOKEN=T0P", "sc://h:1/;TOKEN=<redacted>"],
    [`sc://h:1/;user_id=u;session_id=${SID};use_ssl=true`, `sc://h:1/;user_id=u;session_id=${SID};use_ssl=true`],
    ["sc://h:1/;user_agent=app;x-api-key=T0P", "sc://h:1/;user_agent=app;x-api-key=<redacted>"],
    ["sc://h:1/;authorization=Bearer%20T0P", "sc://h:1/;authorization=<redacted>"],
    ["sc://h:1/;T0P", "sc://h:1/;<redacted>"],
    ["sc://h:1/;token=T0P;;user_id=u", "sc://h:1/;token=<redacted>;;user_id=u"],
    ["https://h/x?token=T0P&a=b", "https://h/x?token=<redacted>&a=b"],
  ];
  it.each(cases)("%s -> %s", (url, expected) => {
    expect(redactUrl(url)).toBe(expected);
  });

  it("renders extra parameters (gRPC headers) redacted, and parse errors never echo a secret value", () => {
    expect(renderConnectionUrl(parseConnectionUrl("sc://h:1/;x-api-key=T0P;user_id=u"))).toBe(
      "sc://h:1/;user_id=u;x-api-key=<redacted>",
    );
    for (const url of [
      "sc://h:1/;x-key=a;x-key=T0P",
      "sc://h:1/;x-key=%E0%A4%A",
      "sc://h:1/;T0P",
      "sc://user:T0P@h:1",
      "ftp://h/;x-key=T0P",
    ]) {
      expect(() => parseConnectionUrl(url)).toThrow(ConfigError);
      try {
        parseConnectionUrl(url);
      } catch (err) {
        expect((err as Error).message, url).not.toContain("T0P");
      }
    }
  });
});

describe("a token from elsewhere than the URL", () => {
  it("applies when the URL has none; the URL's wins", () => {
    const fallbackToken = { token: "FROM-ENV", source: "SPARK_CONNECT_TOKEN" };
    expect(parseConnectionUrl("sc://127.0.0.1:1", { fallbackToken }).token).toBe("FROM-ENV");
    expect(parseConnectionUrl("sc://127.0.0.1:1/;token=URL", { fallbackToken }).token).toBe("URL");
  });

  it("needs TLS to a non-loopback host, and the error names its source", () => {
    const fallbackToken = { token: "FROM-ENV", source: "SPARK_CONNECT_TOKEN" };
    let err: unknown;
    try {
      parseConnectionUrl("sc://spark.example.com:1", { fallbackToken });
    } catch (e) {
      err = e;
    }
    expect((err as ConfigError).field).toBe("SPARK_CONNECT_TOKEN");
    expect((err as Error).message).not.toContain("FROM-ENV");
    expect(parseConnectionUrl("sc://spark.example.com:1/;use_ssl=true", { fallbackToken }).token).toBe("FROM-ENV");
  });

  it("tokenFromEnv takes SPARK_CONNECT_TOKEN, then SPARK_CONNECT_AUTHENTICATE_TOKEN; empty is unset", () => {
    expect(tokenFromEnv({})).toBeUndefined();
    expect(tokenFromEnv({ SPARK_CONNECT_TOKEN: "" })).toBeUndefined();
    expect(tokenFromEnv({ SPARK_CONNECT_AUTHENTICATE_TOKEN: "b" })).toEqual({
      token: "b",
      source: "SPARK_CONNECT_AUTHENTICATE_TOKEN",
    });
    expect(tokenFromEnv({ SPARK_CONNECT_TOKEN: "a", SPARK_CONNECT_AUTHENTICATE_TOKEN: "b" })).toEqual({
      token: "a",
      source: "SPARK_CONNECT_TOKEN",
    });
  });

  it("builder.token() is used without showing it, and getOrCreate does not reuse a session with another token", async () => {
    const a = SparkSession.builder.remote("sc://127.0.0.1:3").token("HIDDEN-A").getOrCreate();
    // The session shows that it sends a token, never which.
    expect(a.remoteUrl).toBe("sc://127.0.0.1:3/;token=<redacted>");
    expect(inspect(a, { depth: 6, showHidden: true })).not.toContain("HIDDEN-A");
    expect(SparkSession.builder.remote("sc://127.0.0.1:3").token("HIDDEN-A").getOrCreate()).toBe(a);
    const b = SparkSession.builder.remote("sc://127.0.0.1:3").token("HIDDEN-B").getOrCreate();
    expect(b).not.toBe(a);
    await a.stop();
    await b.stop();
  });
});

describe("SparkSession builder", () => {
  it("makes no RPC, and neither the session nor its client shows the token when inspected", async () => {
    const spark = SparkSession.builder.remote("sc://127.0.0.1:1/;token=HIDDEN-VALUE;user_id=ann").create();
    expect(spark.userId).toBe("ann");
    expect(spark.remoteUrl).toBe("sc://127.0.0.1:1/;token=<redacted>;user_id=ann");
    expect(inspect(spark, { depth: 6, showHidden: true })).not.toContain("HIDDEN-VALUE");
    expect(spark.builtFrom("sc://127.0.0.1:1/;token=HIDDEN-VALUE;user_id=ann")).toBe(true);
    await spark.stop();
  });

  it("getOrCreate returns the active session for the same URL and a new one for another", async () => {
    const a = SparkSession.builder.remote("sc://127.0.0.1:1").getOrCreate();
    expect(SparkSession.builder.remote("sc://127.0.0.1:1").getOrCreate()).toBe(a);
    const b = SparkSession.builder.remote("sc://127.0.0.1:2").getOrCreate();
    expect(b).not.toBe(a);
    expect(b.sessionId).not.toBe(a.sessionId);
    expect(a.nextPlanId()).toBe(0n);
    expect(a.nextPlanId()).toBe(1n);
    await a.stop();
    await b.stop();
  });
});
