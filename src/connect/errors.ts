import { OrchardError } from "../errors.ts";

/** One entry of the server-side exception chain, from FetchErrorDetails (outermost first). */
export interface ServerErrorCause {
  /** JVM class hierarchy of the exception, most specific first. */
  readonly errorTypeHierarchy: readonly string[];
  readonly message: string;
  readonly errorClass?: string;
  readonly sqlState?: string;
  readonly messageParameters: Readonly<Record<string, string>>;
}

/** Everything orchard knows about a server-side failure. */
export interface SparkServerErrorInit {
  /** The gRPC status code name (e.g. `INTERNAL`, `INVALID_ARGUMENT`, `UNAUTHENTICATED`). */
  grpcCode: string;
  /** Spark's error class, e.g. `UNRESOLVED_COLUMN.WITH_SUGGESTION` (absent for non-Spark throwables). */
  errorClass?: string;
  sqlState?: string;
  messageParameters?: Record<string, string>;
  /** The message the server produced (already rendered from the error class template). */
  serverMessage: string;
  /** The server's error id, usable with FetchErrorDetails while the session lives. */
  errorId?: string;
  /** The full exception chain when the server provided it. */
  causes?: ServerErrorCause[];
  /** Rendered JVM stack trace of the outermost exception when the server provided one. */
  serverStackTrace?: string;
  cause?: unknown;
}

/**
 * The Spark Connect server answered with an error. `errorClass`, `sqlState` and
 * `messageParameters` come from the structured `google.rpc.ErrorInfo` in the gRPC status
 * details (never from parsing message text). PySpark equivalent: `pyspark.errors.PySparkException`
 * subclasses such as `AnalysisException` (`getCondition()`, `getSqlState()`, `getMessageParameters()`).
 */
export class SparkServerError extends OrchardError {
  readonly grpcCode: string;
  readonly errorClass: string | undefined;
  readonly sqlState: string | undefined;
  readonly messageParameters: Readonly<Record<string, string>>;
  readonly serverMessage: string;
  readonly errorId: string | undefined;
  readonly causes: readonly ServerErrorCause[];
  readonly serverStackTrace: string | undefined;

  constructor(init: SparkServerErrorInit) {
    const text = init.serverMessage.trim();
    const prefix = init.errorClass && !text.includes(init.errorClass) ? `[${init.errorClass}] ` : "";
    super("server", { message: `${prefix}${text}`, cause: init.cause });
    this.grpcCode = init.grpcCode;
    this.errorClass = init.errorClass;
    this.sqlState = init.sqlState;
    this.messageParameters = init.messageParameters ?? {};
    this.serverMessage = init.serverMessage;
    this.errorId = init.errorId;
    this.causes = init.causes ?? [];
    this.serverStackTrace = init.serverStackTrace;
  }
}

/** Why a connection failed, when it is known to be more than "nothing answered". */
export type ConnectionProblem =
  /** The server's certificate did not verify against the CA (or the system roots). */
  | "tls-verify"
  /** The TLS handshake failed otherwise (e.g. the server does not speak TLS). */
  | "tls-handshake"
  /** Something answered plain HTTP instead of gRPC (a proxy refusing the request). */
  | "http"
  /** The server did not speak plaintext gRPC (e.g. a TLS endpoint reached without TLS). */
  | "protocol";

/**
 * The server could not be reached (or the stream broke beyond the retry budget). The message
 * names the URL tried, with any token redacted, and what to do: by default how to start a local
 * server, or `hint` (e.g. which CA setting to check when TLS verification failed).
 */
export class SparkConnectionError extends OrchardError {
  /** The redacted `sc://` URL that was tried. */
  readonly url: string;
  readonly grpcCode: string | undefined;
  /** Set when the failure is a TLS or protocol mismatch rather than an absent server. */
  readonly problem: ConnectionProblem | undefined;

  constructor({
    url,
    grpcCode,
    detail,
    hint,
    problem,
    cause,
  }: { url: string; grpcCode?: string; detail: string; hint?: string; problem?: ConnectionProblem; cause?: unknown }) {
    super("connection", {
      message: `cannot reach Spark Connect at ${url}: ${detail}; ${hint ?? "start one with: orchard spark start"}`,
      cause,
    });
    this.url = url;
    this.grpcCode = grpcCode;
    this.problem = problem;
  }
}

/** The server refused the credentials (gRPC UNAUTHENTICATED / PERMISSION_DENIED). Never contains the token. */
export class SparkAuthenticationError extends OrchardError {
  readonly url: string;
  readonly grpcCode: string;

  constructor({ url, grpcCode, detail, cause }: { url: string; grpcCode: string; detail: string; cause?: unknown }) {
    super("connection", {
      message: `Spark Connect at ${url} refused the request (${grpcCode}): ${detail}; send the server's token (the URL's token=, SPARK_CONNECT_TOKEN, or a token file)`,
      cause,
    });
    this.url = url;
    this.grpcCode = grpcCode;
  }
}

/** A plan could not be built client-side (bad argument to a builder, unsupported value type, ...). */
export class PlanError extends OrchardError {
  constructor({ message, cause }: { message: string; cause?: unknown }) {
    super("plan", { message, cause });
  }
}

/** An operation was cancelled by its AbortSignal (the server-side operation was interrupted too). */
export class InterruptedError extends OrchardError {
  readonly operationId: string | undefined;

  constructor({ operationId, message, cause }: { operationId?: string; message?: string; cause?: unknown }) {
    super("interrupted", {
      message: message ?? `operation ${operationId ?? "(not started)"} was interrupted`,
      cause,
    });
    this.operationId = operationId;
  }
}

/** The server sent something the protocol does not allow (e.g. a batch whose row count disagrees). */
export class ProtocolError extends OrchardError {
  constructor({ message, cause }: { message: string; cause?: unknown }) {
    super("protocol", { message, cause });
  }
}
