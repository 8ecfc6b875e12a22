/**
 * One `DoExchange` call: `(id, content)` batches in, `(id, features, error, width, height)`
 * batches out, one output batch per input batch, same rows in the same order. Images go to the
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
import type { DynamicBatcher, Submission } from "./batcher.ts";
import { FeaturizerFailure } from "./featurizer-failure.ts";

/** Flow-control limits of one exchange. */
export interface ExchangeLimits {
  /** Rows of one stream read but not yet written back before reading pauses. */
  maxPendingPerStream: number;
  /** Images queued in the batcher (all streams) before every stream pauses. */
  maxQueued: number;
  /** Rows one incoming batch may declare; a larger batch ends the call INVALID_ARGUMENT. */
  maxBatchRows: number;
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

/** Serves one `DoExchange` call until the client half-closes (or cancels). */
export function handleExchange(call: ServerDuplexStream<FlightData, FlightData>, ctx: ExchangeContext): void {
  const decoder = new FlightStreamDecoder({ maxRows: ctx.limits.maxBatchRows });
  const encoder = new FlightBatchEncoder();
  const { batcher, limits } = ctx;
  const submissions = new Set<Submission>();
  let columns: InputColumns | null = null;
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
    let decoded: ReturnType<FlightStreamDecoder["push"]>;
    try {
      decoded = decoder.push(data);
      if (decoded.kind === "schema") {
        columns = resolveInputColumns(decoded.schema);
        sendSchema();
        return;
      }
    } catch (err) {
      fail(status.INVALID_ARGUMENT, errorMessage(err));
      return;
    }
    if (decoded.kind !== "batch" || !columns) return;
    const { ids, contents } = readInputTable(decoded.table, columns);
    const rows = ids.length;
    pending += rows;
    const submission = batcher.submit(contents);
    submissions.add(submission);
    tail = tail
      .then(async () => {
        const results = await submission.results;
        submissions.delete(submission);
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
