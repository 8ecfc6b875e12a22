import type * as grpc from "@grpc/grpc-js";
import { status as grpcStatus } from "@grpc/grpc-js";
import type * as pb from "#connect-proto";
import { InterruptedError } from "./errors.ts";
import type { ReattachEvent } from "./execute-options.ts";
import { transportProblem } from "./grpc-errors.ts";
import { backoffMs, type RetryPolicy } from "./retry-policy.ts";
import { decodeRpcStatus, findErrorInfo } from "./status-details.ts";

/** An interrupt that found no operation is tried again this many times, this often. */
const LATE_INTERRUPT_TRIES = 20;
const LATE_INTERRUPT_EVERY_MS = 500;

/** The RPCs a reattachable execution needs (provided by SparkConnectClient). */
export interface ExecuteRpc {
  execute(req: pb.ExecutePlanRequest): grpc.ClientReadableStream<pb.ExecutePlanResponse>;
  reattach(operationId: string, lastResponseId: string | undefined): grpc.ClientReadableStream<pb.ExecutePlanResponse>;
  /** ReleaseExecute: until a response id, or everything when `until` is undefined. */
  release(operationId: string, until: string | undefined): Promise<void>;
  /** InterruptOperation: whether the server interrupted that operation (false: it knows none by that id). */
  interrupt(operationId: string): Promise<boolean>;
  convertError(e: unknown): Promise<Error>;
}

/** The Spark error class in a gRPC error's status details, if any. */
function errorClassOf(e: unknown): string | undefined {
  if (typeof e !== "object" || e === null || !("metadata" in e)) return undefined;
  const raw = (e as grpc.ServiceError).metadata?.get("grpc-status-details-bin")?.[0];
  const info = raw instanceof Buffer ? findErrorInfo(decodeRpcStatus(raw)) : undefined;
  return info === undefined ? undefined : (info.metadata.errorClass ?? info.reason);
}

/**
 * Classifies a stream failure: server errors (with ErrorInfo) are fatal, transport failures are
 * retried, except those retrying cannot fix (a certificate that does not verify, a TLS handshake
 * failure, a proxy's 4xx: see `transportProblem`).
 */
export function classifyStreamError(e: unknown): "retry" | "fatal" {
  if (typeof e !== "object" || e === null || !("code" in e)) return "fatal";
  const err = e as grpc.ServiceError;
  if (transportProblem(err) !== undefined) return "fatal";
  const errorClass = errorClassOf(err);
  if (errorClass !== undefined) return errorClass === "INVALID_CURSOR.DISCONNECTED" ? "retry" : "fatal";
  switch (err.code) {
    case grpcStatus.UNAVAILABLE:
    case grpcStatus.INTERNAL:
    case grpcStatus.UNKNOWN:
    case grpcStatus.CANCELLED:
    case grpcStatus.DEADLINE_EXCEEDED:
      return "retry";
    default:
      return "fatal";
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** How many responses may be consumed before a ReleaseExecute(until) is sent. */
const RELEASE_EVERY = 4;

/**
 * One reattachable operation (`ExecutePlanRequest` with `reattachable: true`), iterated as its
 * responses arrive. It
 * - resumes with ReattachExecute from the last response id when the stream ends without
 *   ResultComplete (the server cuts long streams) or fails with a transport error, with bounded
 *   exponential backoff + jitter between consecutive failures;
 * - releases consumed responses with ReleaseExecute(until) as it goes and ReleaseExecute(all)
 *   at the end (or when the consumer stops early);
 * - on abort cancels the stream, interrupts the server operation, releases it and rejects with
 *   InterruptedError.
 *
 * PySpark equivalent: `ExecutePlanResponseReattachableIterator`.
 */
export class ReattachableExecution implements AsyncIterable<pb.ExecutePlanResponse> {
  readonly operationId: string;
  /** Number of times the stream was resumed. */
  reattaches = 0;
  private readonly rpc: ExecuteRpc;
  private readonly request: pb.ExecutePlanRequest;
  private readonly retry: RetryPolicy;
  private readonly signal: AbortSignal | undefined;
  private readonly onReattach: ((e: ReattachEvent) => void) | undefined;

  constructor(
    rpc: ExecuteRpc,
    request: pb.ExecutePlanRequest,
    retry: RetryPolicy,
    signal?: AbortSignal,
    onReattach?: (e: ReattachEvent) => void,
  ) {
    this.rpc = rpc;
    this.request = request;
    this.operationId = request.operationId ?? "";
    this.retry = retry;
    this.signal = signal;
    this.onReattach = onReattach;
  }

  /**
   * Interrupts and releases an operation the consumer gave up on. Cancelled before the server
   * registered it (a loaded server), the interrupt finds nothing and the job would run on: then
   * it is interrupted again for a while, in the background, so the consumer is not held up.
   */
  private async stopOperation(opId: string): Promise<void> {
    const hit = await this.rpc.interrupt(opId).catch(() => true);
    if (!hit) void this.interruptLater(opId);
    await this.rpc.release(opId, undefined).catch(() => undefined);
  }

  /** Retries an interrupt that found no operation, until one lands (then releases it) or time runs out. */
  private async interruptLater(opId: string): Promise<void> {
    for (let attempt = 0; attempt < LATE_INTERRUPT_TRIES; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, LATE_INTERRUPT_EVERY_MS).unref());
      if (await this.rpc.interrupt(opId).catch(() => false)) {
        await this.rpc.release(opId, undefined).catch(() => undefined);
        return;
      }
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<pb.ExecutePlanResponse> {
    const opId = this.operationId;
    const signal = this.signal;
    if (signal?.aborted)
      throw new InterruptedError({ operationId: opId, message: "aborted before the operation started" });
    let call: grpc.ClientReadableStream<pb.ExecutePlanResponse> | undefined;
    let started = false;
    let lastResponseId: string | undefined;
    let complete = false;
    let failures = 0;
    let sinceRelease = 0;
    let releasing: Promise<void> = Promise.resolve();
    const onAbort = () => call?.cancel();
    signal?.addEventListener("abort", onAbort, { once: true });
    const interrupted = async (cause: unknown): Promise<InterruptedError> => {
      await this.stopOperation(opId);
      return new InterruptedError({ operationId: opId, cause });
    };
    try {
      while (!complete) {
        call =
          started || lastResponseId !== undefined
            ? this.rpc.reattach(opId, lastResponseId)
            : this.rpc.execute(this.request);
        try {
          for await (const resp of call as AsyncIterable<pb.ExecutePlanResponse>) {
            started = true;
            failures = 0;
            if (resp.responseId !== "") lastResponseId = resp.responseId;
            if (resp.responseType.case === "resultComplete") complete = true;
            yield resp;
            if (signal?.aborted) throw await interrupted(signal.reason);
            if (!complete && lastResponseId !== undefined && ++sinceRelease >= RELEASE_EVERY) {
              sinceRelease = 0;
              const until = lastResponseId;
              releasing = releasing.then(() => this.rpc.release(opId, until).catch(() => undefined));
            }
          }
          if (!complete) {
            started = true;
            this.reattaches++;
            this.onReattach?.({ operationId: opId, lastResponseId, reason: "stream-ended" });
          }
        } catch (e) {
          if (e instanceof InterruptedError) throw e;
          if (signal?.aborted) throw await interrupted(e);
          if (!started && errorClassOf(e) === "INVALID_HANDLE.OPERATION_ALREADY_EXISTS") {
            started = true;
            continue;
          }
          if (classifyStreamError(e) === "fatal" || failures >= this.retry.maxRetries)
            throw await this.rpc.convertError(e);
          failures++;
          await sleep(backoffMs(this.retry, failures - 1), signal);
          if (signal?.aborted) throw await interrupted(e);
          if (started || lastResponseId !== undefined) {
            this.reattaches++;
            const code = (e as grpc.ServiceError).code;
            this.onReattach?.({ operationId: opId, lastResponseId, reason: grpcStatus[code] ?? "error" });
          }
        }
      }
    } finally {
      signal?.removeEventListener("abort", onAbort);
      if (!complete) {
        call?.cancel();
        if (!signal?.aborted) await this.stopOperation(opId);
      } else {
        // The result is complete: releasing it need not delay the consumer.
        void releasing.then(() => this.rpc.release(opId, undefined).catch(() => undefined));
      }
    }
  }
}
