import * as grpc from "@grpc/grpc-js";
import type * as pb from "#connect-proto";
import {
  type ConnectionProblem,
  ProtocolError,
  type ServerErrorCause,
  SparkAuthenticationError,
  SparkConnectionError,
  SparkServerError,
} from "./errors.ts";
import { decodeRpcStatus, findErrorInfo } from "./status-details.ts";

/** What mapping an error needs from the client that saw it. */
export interface ErrorContext {
  /** The server's URL with the token redacted, for connection errors. */
  readonly displayUrl: string;
  /** The channel's TLS: undefined for plaintext; whether a client certificate is presented. */
  readonly tls?: { readonly clientCertificate: boolean };
  /** FetchErrorDetails for an error id from a status' ErrorInfo. */
  fetchErrorDetails(errorId: string): Promise<pb.FetchErrorDetailsResponse>;
}

/** The name of a gRPC status code, e.g. `UNAVAILABLE`. */
export function grpcCodeName(code: number): string {
  return grpc.status[code] ?? `CODE_${code}`;
}

/** True for a gRPC error object. */
export function isServiceError(e: unknown): e is grpc.ServiceError {
  return typeof e === "object" && e !== null && "code" in e && "metadata" in e && e instanceof Error;
}

/** A transport failure that retrying cannot fix, read from grpc-js's status details. */
export interface TransportProblem {
  readonly problem: ConnectionProblem;
  /** The underlying reason, e.g. `unable to verify the first certificate`, `wrong version number`, `HTTP 400`. */
  readonly reason: string;
}

const TLS_VERIFY =
  /unable to verify|self[- ]signed certificate|unable to get (local )?issuer|certificate (has expired|is not yet valid|signature failure)|Hostname\/IP does not match|ERR_TLS_CERT|CERT_[A-Z_]+/i;

/** The error grpc-js reports for a connection attempt, without its wrapping and OpenSSL's codes. */
function lastError(details: string): string {
  const m = /Last error: (?:Error: )?([\s\S]*?)(?:\. Resolution note:[\s\S]*)?$/.exec(details);
  const text = (m?.[1] ?? details).trim();
  // "807C...:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/...:350:"
  const ssl = /:SSL routines:[^:]*:([^:]+):/.exec(text);
  return ssl?.[1] ?? text;
}

/**
 * Recognises the transport failures that are not "nothing answered": a certificate that does not
 * verify, a failed TLS handshake, plain HTTP where gRPC was expected (grpc-js: `Received HTTP
 * status code 400`, a proxy refusing the request), or a plaintext client at a TLS endpoint
 * (`Protocol error`). None of them goes away by retrying, except a proxy's 5xx.
 */
export function transportProblem(e: unknown): TransportProblem | undefined {
  if (!isServiceError(e)) return undefined;
  const details = e.details ?? "";
  const http = /Received HTTP status code (\d+)/.exec(details);
  if (http !== null) {
    return Number(http[1]) >= 500 ? undefined : { problem: "http", reason: `HTTP ${http[1]}` };
  }
  if (e.code !== grpc.status.UNAVAILABLE) return undefined;
  const reason = lastError(details);
  if (TLS_VERIFY.test(details)) return { problem: "tls-verify", reason };
  if (/SSL routines|wrong version number|handshake|tlsv1 alert|ssl3_/i.test(details)) {
    return { problem: "tls-handshake", reason };
  }
  if (/Protocol error/i.test(details)) return { problem: "protocol", reason: "Protocol error" };
  return undefined;
}

const CA_HINT = "give the CA that signed the server's certificate with builder.tls({ ca }) or ORCHARD_SPARK_CA";
const CERT_HINT = "builder.tls({ cert, key }) or ORCHARD_SPARK_CERT and ORCHARD_SPARK_KEY";

/** The connection error for a recognised transport problem: what failed and which setting to check. */
function problemError(
  { problem, reason }: TransportProblem,
  code: string,
  context: ErrorContext,
  cause: unknown,
): SparkConnectionError {
  const base = { url: context.displayUrl, grpcCode: code, problem, cause };
  switch (problem) {
    case "tls-verify":
      return new SparkConnectionError({
        ...base,
        detail: `TLS certificate verification failed (${reason})`,
        hint: CA_HINT,
      });
    case "tls-handshake":
      return new SparkConnectionError({
        ...base,
        detail: `TLS handshake failed (${reason})`,
        hint: /wrong version number/i.test(reason)
          ? "the server does not speak TLS: drop use_ssl=true for a plaintext server"
          : "check that the server speaks TLS and accepts this client",
      });
    case "http":
      return new SparkConnectionError({
        ...base,
        detail: `the server answered ${reason} instead of gRPC (a proxy refused the request)`,
        hint:
          context.tls === undefined
            ? "check that the URL names a Spark Connect endpoint"
            : context.tls.clientCertificate
              ? `with mutual TLS the proxy may not trust the client certificate given with ${CERT_HINT}`
              : `with mutual TLS the proxy needs a client certificate: give one with ${CERT_HINT}`,
      });
    case "protocol":
      return new SparkConnectionError({
        ...base,
        detail: "the server did not answer plaintext gRPC",
        hint:
          context.tls === undefined
            ? "if it expects TLS, add ;use_ssl=true"
            : "check that the URL names a Spark Connect endpoint",
      });
  }
}

/**
 * Error classes of a server that does not know the session any more: the server restarted (a new
 * server-side session id) or dropped the session. Like an unreachable server, that is the
 * connection's failure, not the command's: a connection error (CLI exit 3).
 */
const SESSION_LOST = new Set(["INVALID_HANDLE.SESSION_NOT_FOUND", "INVALID_HANDLE.SESSION_CHANGED"]);

/**
 * Turns a gRPC failure into an orchard error: the structured `google.rpc.ErrorInfo` of the
 * `grpc-status-details-bin` trailer gives the error class, SQL state and message parameters;
 * when it carries an `errorId`, FetchErrorDetails supplies the full message and cause chain.
 * PySpark: `SparkConnectClient._handle_rpc_error` with `convert_exception`.
 */
export async function toOrchardError(e: unknown, context: ErrorContext): Promise<Error> {
  if (!isServiceError(e)) return e instanceof Error ? e : new ProtocolError({ message: String(e) });
  const code = grpcCodeName(e.code);
  const raw = e.metadata?.get("grpc-status-details-bin")?.[0];
  const info = raw instanceof Buffer ? findErrorInfo(decodeRpcStatus(raw)) : undefined;
  if (info === undefined) {
    const transport = transportProblem(e);
    if (transport !== undefined) return problemError(transport, code, context, e);
    if (e.code === grpc.status.UNAUTHENTICATED || e.code === grpc.status.PERMISSION_DENIED) {
      return new SparkAuthenticationError({ url: context.displayUrl, grpcCode: code, detail: e.details, cause: e });
    }
    if (e.code === grpc.status.UNAVAILABLE || e.code === grpc.status.DEADLINE_EXCEEDED) {
      return new SparkConnectionError({ url: context.displayUrl, grpcCode: code, detail: e.details, cause: e });
    }
    return new SparkServerError({ grpcCode: code, serverMessage: e.details, cause: e });
  }
  const md = info.metadata;
  const errorClass = md.errorClass ?? info.reason;
  if (SESSION_LOST.has(errorClass)) {
    return new SparkConnectionError({
      url: context.displayUrl,
      grpcCode: code,
      detail: `the server no longer has this session (${errorClass}: it restarted, or expired the session)`,
      hint: "run the command again",
      cause: e,
    });
  }
  let messageParameters: Record<string, string> = {};
  if (md.messageParameters) {
    try {
      messageParameters = JSON.parse(md.messageParameters) as Record<string, string>;
    } catch {
      messageParameters = {};
    }
  }
  const init = {
    grpcCode: code,
    errorClass: md.errorClass,
    sqlState: md.sqlState,
    messageParameters,
    serverMessage: e.details,
    errorId: md.errorId,
    causes: [] as ServerErrorCause[],
    serverStackTrace: md.stackTrace,
    cause: e,
  };
  if (md.errorId) {
    try {
      const details = await context.fetchErrorDetails(md.errorId);
      const chain: ServerErrorCause[] = [];
      let idx = details.rootErrorIdx;
      const seen = new Set<number>();
      while (idx !== undefined && !seen.has(idx) && details.errors[idx] !== undefined) {
        seen.add(idx);
        const err = details.errors[idx] as pb.FetchErrorDetailsResponse_Error;
        chain.push({
          errorTypeHierarchy: err.errorTypeHierarchy,
          message: err.message,
          errorClass: err.sparkThrowable?.errorClass,
          sqlState: err.sparkThrowable?.sqlState,
          messageParameters: err.sparkThrowable?.messageParameters ?? {},
        });
        if (idx === details.rootErrorIdx && err.stackTrace.length > 0) {
          init.serverStackTrace = err.stackTrace
            .map((s) => `  at ${s.declaringClass}.${s.methodName}(${s.fileName ?? "Unknown Source"}:${s.lineNumber})`)
            .join("\n");
        }
        idx = err.causeIdx;
      }
      const root = chain[0];
      if (root !== undefined) {
        init.causes = chain;
        init.serverMessage = root.message;
        init.errorClass = root.errorClass ?? init.errorClass;
        init.sqlState = root.sqlState ?? init.sqlState;
        if (Object.keys(root.messageParameters).length > 0) init.messageParameters = { ...root.messageParameters };
      }
    } catch {
      // The details cache may have expired; the ErrorInfo alone is still a complete error.
    }
  }
  return new SparkServerError(init);
}
