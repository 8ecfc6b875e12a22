/**
 * One `DoExchange` call: `(id, content)` batches in, `(id, features, error, width, height)`
 * batches out, one output batch per input batch, same rows in the same order. With the path
 * transport, `(id, path)` batches come in instead: the first message's descriptor (`cmd`, JSON
 * `{"readRoots": ["file:/data/in", ...]}`) names the folders the sidecar may read for this call,
 * and each file is read here (image-file-reader.ts); a file that cannot be read is its row's
 * error. An exchange of paths without read roots ends INVALID_ARGUMENT. Images go to the
 * shared batcher; reading from the stream pauses while too many of its rows are pending (or the
 * shared queue is full), so memory stays bounded whatever the client's rate.
 *
 * A batch the featurizer failed on (a model or runtime fault, see `FeaturizerFailure`) ends the
 * call with UNAVAILABLE: the client sends its unanswered rows again (the bridge does, on a new
 * exchange), and no row is answered with that fault as its error.
 */
import { type ServerDuplexStream, status } from "@grpc/grpc-js";
import {
  type InputColumns,
  makeOutputBatch,
  outputSchema,
  readInputTable,
  resolveInputColumns,
} from "../flight/feature-schema.ts";
import { FlightBatchEncoder, FlightStreamDecoder } from "../flight/ipc.ts";
import type { FlightData } from "../flight/messages.ts";
import { DEFAULT_LIMITS } from "../preprocess/spec.ts";
import type { DynamicBatcher, Submission } from "./batcher.ts";
import { FeaturizerFailure } from "./featurizer-failure.ts";
import { type ReadRoot, readImageFile, resolveReadRoots } from "./image-file-reader.ts";

/** Flow-control limits of one exchange. */
export interface ExchangeLimits {
  /** Rows of one stream read but not yet written back before reading pauses. */
  maxPendingPerStream: number;
  /** Images queued in the batcher (all streams) before every stream pauses. */
  maxQueued: number;
  /** Rows one incoming batch may declare; a larger batch ends the call INVALID_ARGUMENT. */
  maxBatchRows: number;
  /** Largest file the path transport reads (a larger one is its row's error, unread; default 50 MiB, the decoder's limit). */
  maxFileBytes?: number;
}

/** What an exchange needs from the server around it. */
export interface ExchangeContext {
  batcher: DynamicBatcher;
  limits: ExchangeLimits;
  /** Called once when the call is finished, however it finished. */
  onDone(): void;
  /** Called after each output batch is written: rows answered with features, and with an error. */
  onAnswered(served: number, failed: number): void;
  log(message: string): void;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The read roots a descriptor `cmd` declares (`{"readRoots": [...]}`); null when it declares none. */
export function declaredReadRoots(cmd: Uint8Array | undefined): string[] | null {
  if (!cmd || cmd.length === 0) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(cmd));
  } catch {
    return null;
  }
  const roots = (parsed as { readRoots?: unknown } | null)?.readRoots;
  if (!Array.isArray(roots) || roots.length === 0 || !roots.every((r) => typeof r === "string")) return null;
  return roots as string[];
}

/** Serves one `DoExchange` call until the client half-closes (or cancels). */
export function handleExchange(call: ServerDuplexStream<FlightData, FlightData>, ctx: ExchangeContext): void {
  const decoder = new FlightStreamDecoder({ maxRows: ctx.limits.maxBatchRows });
  const encoder = new FlightBatchEncoder();
  const { batcher, limits } = ctx;
  const maxFileBytes = limits.maxFileBytes ?? DEFAULT_LIMITS.maxInputBytes;
  const submissions = new Set<Submission>();
  let columns: InputColumns | null = null;
  /** The path transport's read roots, resolved once (from the first message's descriptor). */
  let readRoots: Promise<ReadRoot[]> | null = null;
  let declaredRoots: string[] | null = null;
  let schemaSent = false;
  let pending = 0;
  let paused = false;
  let finished = false;
  let tail: Promise<void> = Promise.resolve();

  const overLimit = () => pending >= limits.maxPendingPerStream || batcher.queued >= limits.maxQueued;

  const maybeResume = () => {
    if (paused && !finished && !overLimit()) {
      paused = false;
      call.resume();
    }
  };
  const unsubscribe = batcher.onProgress(maybeResume);

  const finish = () => {
    if (finished) return;
    finished = true;
    unsubscribe();
    for (const s of submissions) s.cancel();
    submissions.clear();
    ctx.onDone();
  };

  const fail = (code: status, details: string) => {
    if (finished) return;
    ctx.log(`exchange failed: ${details}`);
    finish();
    call.emit("error", { code, details });
  };

  const sendSchema = () => {
    if (schemaSent) return;
    schemaSent = true;
    call.write(encoder.schema(outputSchema));
  };

  const write = (message: FlightData) =>
    new Promise<void>((resolve) => {
      call.write(message, () => resolve());
    });

  call.on("data", (data: FlightData) => {
    if (finished) return;
    if (data.undecodable !== undefined) {
      fail(status.INVALID_ARGUMENT, data.undecodable);
      return;
    }
    if (data.flightDescriptor && declaredRoots === null) declaredRoots = declaredReadRoots(data.flightDescriptor.cmd);
    let decoded: ReturnType<FlightStreamDecoder["push"]>;
    try {
      decoded = decoder.push(data);
      if (decoded.kind === "schema") {
        columns = resolveInputColumns(decoded.schema);
        if (columns.kind === "path") {
          if (declaredRoots === null) {
            fail(
              status.INVALID_ARGUMENT,
              'an exchange of paths must declare its read roots (descriptor cmd {"readRoots": ["file:/folder", ...]})',
            );
            return;
          }
          readRoots = resolveReadRoots(declaredRoots);
        }
        sendSchema();
        return;
      }
    } catch (err) {
      fail(status.INVALID_ARGUMENT, errorMessage(err));
      return;
    }
    if (decoded.kind !== "batch" || !columns) return;
    const input = readInputTable(decoded.table, columns);
    const { ids } = input;
    const rows = ids.length;
    pending += rows;
    const submit = (contents: (Uint8Array | null)[], errors: (string | null)[] | null) => {
      const submission = batcher.submit(contents);
      submissions.add(submission);
      return { submission, errors };
    };
    // Bytes are queued at once (the flow-control check below sees them); files are read as soon as
    // their batch arrives, not when the batch before it is answered.
    const roots = readRoots ?? Promise.resolve([]);
    const submitted =
      input.kind === "content"
        ? Promise.resolve(submit(input.contents, null))
        : roots.then(async (r) => {
            const outcomes = await Promise.all(input.paths.map((p) => readImageFile(p, r, maxFileBytes)));
            return finished
              ? null
              : submit(
                  outcomes.map((o) => o.bytes),
                  outcomes.map((o) => o.error),
                );
          });
    tail = tail
      .then(async () => {
        const entry = await submitted;
        if (!entry) return;
        const results = (await entry.submission.results).map((r, i) => {
          const readError = entry.errors?.[i] ?? null;
          return readError === null ? r : { features: null, error: readError, width: null, height: null };
        });
        submissions.delete(entry.submission);
        if (finished) return;
        const batch = makeOutputBatch(
          results.map((r, i) => ({
            id: ids[i] ?? null,
            features: r.features,
            error: r.error,
            width: r.width,
            height: r.height,
          })),
        );
        await write(encoder.batch(batch));
        const failed = results.filter((r) => r.features === null).length;
        ctx.onAnswered(rows - failed, failed);
        pending -= rows;
        maybeResume();
      })
      .catch((err: unknown) =>
        err instanceof FeaturizerFailure
          ? fail(status.UNAVAILABLE, err.message)
          : fail(status.INTERNAL, `could not encode results: ${errorMessage(err)}`),
      );
    if (!paused && overLimit()) {
      paused = true;
      call.pause();
    }
  });

  call.on("end", () => {
    void tail.then(() => {
      if (finished) return;
      sendSchema();
      finish();
      call.end();
    });
  });

  call.on("cancelled", () => {
    if (!finished) ctx.log("exchange cancelled by the client");
    finish();
  });

  call.on("error", (err: unknown) => {
    if (!finished) ctx.log(`exchange stream error: ${errorMessage(err)}`);
    finish();
  });
}
