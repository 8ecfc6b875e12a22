import * as grpc from "@grpc/grpc-js";
import type * as pb from "#connect-proto";
import {
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
    if (e.code === grpc.status.UNAUTHENTICATED || e.code === grpc.status.PERMISSION_DENIED) {
      return new SparkAuthenticationError({ url: context.displayUrl, grpcCode: code, detail: e.details, cause: e });
    }
    if (e.code === grpc.status.UNAVAILABLE || e.code === grpc.status.DEADLINE_EXCEEDED) {
      return new SparkConnectionError({ url: context.displayUrl, grpcCode: code, detail: e.details, cause: e });
    }
    return new SparkServerError({ grpcCode: code, serverMessage: e.details, cause: e });
  }
  const md = info.metadata;
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
