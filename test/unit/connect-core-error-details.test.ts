import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import * as grpc from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { SparkConnectClient } from "../../src/connect/client.ts";
import { parseConnectionUrl } from "../../src/connect/connection-url.ts";
import { SparkAuthenticationError, SparkConnectionError, SparkServerError } from "../../src/connect/errors.ts";
import { classifyStreamError } from "../../src/connect/execution.ts";
import { DEFAULT_RETRY } from "../../src/connect/retry-policy.ts";
import { decodeErrorInfo, decodeRpcStatus, findErrorInfo } from "../../src/connect/status-details.ts";

function errorInfoBytes(reason: string, domain: string, metadata: Record<string, string>): Uint8Array {
  const w = new BinaryWriter();
  w.tag(1, WireType.LengthDelimited).string(reason);
  w.tag(2, WireType.LengthDelimited).string(domain);
  for (const [k, v] of Object.entries(metadata)) {
    w.tag(3, WireType.LengthDelimited).fork();
    w.tag(1, WireType.LengthDelimited).string(k);
    w.tag(2, WireType.LengthDelimited).string(v);
    w.join();
  }
  return w.finish();
}

function statusBytes(code: number, message: string, details: { typeUrl: string; value: Uint8Array }[]): Uint8Array {
  const w = new BinaryWriter();
  w.tag(1, WireType.Varint).int32(code);
  w.tag(2, WireType.LengthDelimited).string(message);
  for (const d of details) {
    w.tag(3, WireType.LengthDelimited).fork();
    w.tag(1, WireType.LengthDelimited).string(d.typeUrl);
    w.tag(2, WireType.LengthDelimited).bytes(d.value);
    w.join();
  }
  // an unknown field must be skipped
  w.tag(99, WireType.Varint).int32(7);
  return w.finish();
}

const INFO = errorInfoBytes("org.apache.spark.sql.AnalysisException", "org.apache.spark", {
  classes: '["org.apache.spark.sql.AnalysisException"]',
  errorClass: "UNRESOLVED_COLUMN.WITH_SUGGESTION",
  sqlState: "42703",
  messageParameters: '{"objectName":"`idd`","proposal":"`id`"}',
});

function serviceError(code: grpc.status, details: string, trailer?: Uint8Array): grpc.ServiceError {
  const metadata = new grpc.Metadata();
  if (trailer) metadata.set("grpc-status-details-bin", Buffer.from(trailer));
  return Object.assign(new Error(`${code} ${details}`), { code, details, metadata });
}

function client(url = "sc://127.0.0.1:1/;token=SECRET-TOKEN"): SparkConnectClient {
  return new SparkConnectClient({
    url: parseConnectionUrl(url),
    sessionId: "00000000-0000-4000-8000-000000000000",
    userId: "u",
    clientType: "test",
    retry: DEFAULT_RETRY,
  });
}

describe("google.rpc decoding", () => {
  it("decodes Status and ErrorInfo built byte by byte", () => {
    const status = decodeRpcStatus(
      statusBytes(13, "boom", [
        { typeUrl: "type.googleapis.com/google.rpc.RetryInfo", value: new Uint8Array([8, 1]) },
        { typeUrl: "type.googleapis.com/google.rpc.ErrorInfo", value: INFO },
      ]),
    );
    expect(status.code).toBe(13);
    expect(status.message).toBe("boom");
    expect(status.details).toHaveLength(2);
    const info = findErrorInfo(status);
    expect(info?.reason).toBe("org.apache.spark.sql.AnalysisException");
    expect(info?.domain).toBe("org.apache.spark");
    expect(info?.metadata.errorClass).toBe("UNRESOLVED_COLUMN.WITH_SUGGESTION");
    expect(JSON.parse(info?.metadata.messageParameters ?? "{}")).toEqual({ objectName: "`idd`", proposal: "`id`" });
  });
  it("finds no ErrorInfo when there is none", () => {
    expect(findErrorInfo(decodeRpcStatus(statusBytes(14, "x", [])))).toBeUndefined();
    expect(decodeErrorInfo(new Uint8Array()).metadata).toEqual({});
  });
});

describe("SparkConnectClient.convertError", () => {
  it("builds a SparkServerError from the structured trailer", async () => {
    const trailer = statusBytes(13, "ignored", [{ typeUrl: "type.googleapis.com/google.rpc.ErrorInfo", value: INFO }]);
    const err = await client().convertError(
      serviceError(grpc.status.INTERNAL, "A column ... cannot be resolved", trailer),
    );
    expect(err).toBeInstanceOf(SparkServerError);
    const e = err as SparkServerError;
    expect(e.kind).toBe("server");
    expect(e.errorClass).toBe("UNRESOLVED_COLUMN.WITH_SUGGESTION");
    expect(e.sqlState).toBe("42703");
    expect(e.messageParameters).toEqual({ objectName: "`idd`", proposal: "`id`" });
    expect(e.grpcCode).toBe("INTERNAL");
    expect(e.message).toContain("[UNRESOLVED_COLUMN.WITH_SUGGESTION]");
  });
  it("a server that lost the session (it restarted) is a connection error, not a server error", async () => {
    for (const errorClass of ["INVALID_HANDLE.SESSION_NOT_FOUND", "INVALID_HANDLE.SESSION_CHANGED"]) {
      const info = errorInfoBytes("org.apache.spark.SparkSQLException", "org.apache.spark", { errorClass });
      const trailer = statusBytes(13, "x", [{ typeUrl: "type.googleapis.com/google.rpc.ErrorInfo", value: info }]);
      const err = await client().convertError(
        serviceError(grpc.status.INTERNAL, `[${errorClass}] The handle 1234 is invalid.`, trailer),
      );
      expect(err).toBeInstanceOf(SparkConnectionError);
      expect((err as SparkConnectionError).kind).toBe("connection");
      expect(err.message).toMatch(
        new RegExp(`the server no longer has this session \\(${errorClass.replace(".", "\\.")}`),
      );
      expect(err.message).not.toContain("SECRET-TOKEN");
    }
  });
  it("unreachable server: names the redacted URL and how to start one", async () => {
    const err = await client().convertError(serviceError(grpc.status.UNAVAILABLE, "No connection established"));
    expect(err).toBeInstanceOf(SparkConnectionError);
    expect(err.message).toContain("sc://127.0.0.1:1/;token=<redacted>");
    expect(err.message).toContain("start one with: orchard spark start");
    expect(err.message).not.toContain("SECRET-TOKEN");
  });
  it("errors never show an extra URL parameter's value either (a gRPC header, often an API key)", async () => {
    const c = client("sc://127.0.0.1:1/;token=SECRET-TOKEN;x-api-key=SECRET-KEY;user_id=ann");
    for (const code of [grpc.status.UNAVAILABLE, grpc.status.UNAUTHENTICATED]) {
      const err = await c.convertError(serviceError(code, "no"));
      expect(err.message).toContain("sc://127.0.0.1:1/;token=<redacted>;user_id=ann;x-api-key=<redacted>");
      expect(err.message).not.toMatch(/SECRET-(TOKEN|KEY)/);
    }
  });
  it("refused credentials: authentication error without the token", async () => {
    const err = await client().convertError(serviceError(grpc.status.UNAUTHENTICATED, "Invalid authentication token"));
    expect(err).toBeInstanceOf(SparkAuthenticationError);
    expect((err as SparkAuthenticationError).grpcCode).toBe("UNAUTHENTICATED");
    expect(err.message).not.toContain("SECRET-TOKEN");
  });
});

describe("classifyStreamError", () => {
  const infoTrailer = (errorClass: string) =>
    statusBytes(13, "", [
      {
        typeUrl: "type.googleapis.com/google.rpc.ErrorInfo",
        value: errorInfoBytes("X", "org.apache.spark", { errorClass }),
      },
    ]);
  const cases: [string, grpc.ServiceError, "retry" | "fatal"][] = [
    ["UNAVAILABLE", serviceError(grpc.status.UNAVAILABLE, "reset"), "retry"],
    ["INTERNAL without details (RST_STREAM)", serviceError(grpc.status.INTERNAL, "rst"), "retry"],
    ["server error", serviceError(grpc.status.INTERNAL, "x", infoTrailer("DIVIDE_BY_ZERO")), "fatal"],
    ["cursor taken over", serviceError(grpc.status.INTERNAL, "x", infoTrailer("INVALID_CURSOR.DISCONNECTED")), "retry"],
    ["UNAUTHENTICATED", serviceError(grpc.status.UNAUTHENTICATED, "no"), "fatal"],
    ["INVALID_ARGUMENT", serviceError(grpc.status.INVALID_ARGUMENT, "bad"), "fatal"],
  ];
  it.each(cases)("%s", (_n, e, verdict) => {
    expect(classifyStreamError(e)).toBe(verdict);
  });
});
