import type { DataType } from "./data-types.ts";
import type { ExecutionProgress } from "./progress.ts";

/**
 * Options every action accepts: cancellation, progress, tags and hooks on the operation's life.
 * PySpark has no single equivalent; its closest are `spark.addTag` and `spark.interruptTag`.
 */
export interface ExecuteOptions {
  /** Aborting interrupts the server-side operation; the action rejects with InterruptedError. */
  signal?: AbortSignal;
  /** Called for every `execution_progress` update the server sends. */
  onProgress?: (p: ExecutionProgress) => void;
  /** Operation tags (PySpark: `spark.addTag`), usable with `interruptTag`. */
  tags?: string[];
  /** Called once with the result schema (a StructType for query results) when the server sends it, before the first batch. */
  onSchema?: (schema: DataType) => void;
  /** Called with the operation id as soon as the operation is started. */
  onOperationId?: (operationId: string) => void;
  /** Called whenever the result stream is resumed with ReattachExecute. */
  onReattach?: (e: ReattachEvent) => void;
}

/** Why a stream was resumed; reported to `onReattach`. */
export interface ReattachEvent {
  operationId: string;
  lastResponseId: string | undefined;
  /** `stream-ended` (server closed without ResultComplete) or the gRPC code name of the failure. */
  reason: string;
}
