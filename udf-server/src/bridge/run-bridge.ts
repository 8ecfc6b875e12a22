/**
 * The bridge Spark runs once per partition (`SELECT TRANSFORM ... USING 'orchard-bridge'`):
 * delimited `(id, base64 content)` rows on stdin -> Flight `DoExchange` batches to the local
 * sidecar -> `(id, features JSON, error, width, height)` rows on stdout, same order, one output
 * row per input row. With read roots (the path transport) the id is a `file:` URI that goes to
 * the sidecar as a path, and the sidecar reads the file; the content field is ignored. Reads stop
 * while too many rows are in flight (bounded memory); the bridge exits when stdin ends, or on its
 * own when its parent process goes away.
 *
 * When the exchange breaks (the sidecar died or was restarted), the bridge asks `reconnect` for a
 * sidecar again (the local one is restarted on demand) and sends every batch it has not had an
 * answer for once more, in order, on a new exchange: the task goes on, and no row is lost or
 * written twice (answers come whole per batch, in order). A sidecar that refuses the input
 * (INVALID_ARGUMENT) or answers rows it cannot match is not retried.
 *
 * Liveness: the Flight client's keepalive fails the exchange when the sidecar stops answering
 * PINGs (a stopped or hung process, a half-open connection: within 20 s, see
 * `FLIGHT_KEEPALIVE_MS`), and an exchange whose oldest unanswered batch has had no answer for
 * `answerTimeoutSeconds` is abandoned (DEADLINE_EXCEEDED); both are retried like a broken one.
 */
import type { Readable, Writable } from "node:stream";
import { status } from "@grpc/grpc-js";
import { OrchardError } from "../errors.ts";
import { FlightCallError, FlightClient, type FlightClientOptions } from "../flight/client.ts";
import type { BridgeConfig } from "./bridge-config.ts";
import { DelimitedRowParser, type InputRow, oversizedRowError } from "./delimited-input.ts";
import { formatOutputRow } from "./delimited-output.ts";

/** The sidecar answered something the bridge cannot match to its input. */
export class BridgeProtocolError extends OrchardError {
  constructor(message: string) {
    super("protocol", { message });
  }
}

/** Counts of one bridge run. */
export interface BridgeResult {
  rowsIn: number;
  rowsOut: number;
}

/** Where the bridge reads and writes (process stdio in production, streams in tests). */
export interface BridgeIo {
  input: Readable;
  output: Writable;
}

/** What the bridge does when an exchange breaks. */
export interface BridgeRecovery {
  /** Resolves once a sidecar answers at the same address again (it may start one). */
  reconnect(): Promise<void>;
  /** New exchanges tried per task before the bridge gives up (default 3). */
  maxReconnects?: number;
  /** Called before each new exchange, with the attempt number and the error that ended the last. */
  onReconnect?(attempt: number, cause: unknown): void;
}

interface SentBatch {
  ids: (string | null)[];
  /** Kept until the batch is answered: a new exchange sends it again. */
  contents: (Uint8Array | null)[];
  localErrors: (string | null)[];
}

const FLUSH_DELAY_MS = 2;
/** How often the answer deadline is checked, at most. */
const WATCHDOG_EVERY_MS = 1000;

/** Whether a new exchange could succeed where this error ended the last one. */
function retriable(err: unknown): boolean {
  if (err instanceof BridgeProtocolError) return false;
  if (err instanceof FlightCallError) return err.code !== status.INVALID_ARGUMENT;
  return false;
}

/**
 * Streams `io.input` through the sidecar at `config.sidecar` to `io.output`; with `recovery`,
 * a broken exchange is replaced (see the module's comment). `flight` tunes the Flight client
 * (tests shorten its keepalive).
 */
export async function runBridge(
  config: BridgeConfig,
  io: BridgeIo,
  recovery?: BridgeRecovery,
  flight: FlightClientOptions = {},
): Promise<BridgeResult> {
  const paths = config.readRoots.length > 0;
  const openExchange = (c: FlightClient) => c.featureExchange(paths ? { readRoots: config.readRoots } : {});
  let client = new FlightClient(config.sidecar, { ...flight, secretFile: config.secretFile });
  let exchange = openExchange(client);
  const sent: SentBatch[] = [];
  let ids: (string | null)[] = [];
  let contents: (Uint8Array | null)[] = [];
  let localErrors: (string | null)[] = [];
  let batchBytes = 0;
  let inFlight = 0;
  let rowsIn = 0;
  let rowsOut = 0;
  let inputDone = false;
  let paused = false;
  let flushTimer: NodeJS.Timeout | null = null;
  let sending: Promise<void> = Promise.resolve();
  let failure: unknown = null;
  /** When the oldest batch without an answer started waiting for it (null: none is waiting). */
  let waitingSince: number | null = null;
  const answerTimeoutMs = config.answerTimeoutSeconds * 1000;
  const watchdog = setInterval(
    () => {
      if (waitingSince === null || failure || performance.now() - waitingSince < answerTimeoutMs) return;
      failure = new FlightCallError(
        `no answer from the sidecar at ${config.sidecar} within ${config.answerTimeoutSeconds} s`,
        status.DEADLINE_EXCEEDED,
      );
      exchange.cancel();
    },
    Math.min(WATCHDOG_EVERY_MS, answerTimeoutMs / 4),
  );
  watchdog.unref();

  const flush = () => {
    if (flushTimer) {
      clearTimeout(flushTimer);
      flushTimer = null;
    }
    if (ids.length === 0) return;
    const batch = { ids, contents, localErrors };
    if (sent.length === 0) waitingSince = performance.now();
    sent.push(batch);
    inFlight += ids.length;
    ids = [];
    contents = [];
    localErrors = [];
    batchBytes = 0;
    send(batch);
  };
  const send = (batch: SentBatch) => {
    const on = exchange;
    sending = sending
      .then(() => (paths ? on.sendPaths(batch.ids, batch.ids) : on.send(batch.ids, batch.contents)))
      .catch((err: unknown) => {
        if (on !== exchange) return; // an exchange already replaced
        failure ??= err;
        on.cancel();
      });
  };

  const parser = new DelimitedRowParser((row: InputRow) => {
    rowsIn++;
    let content = paths ? null : row.content;
    let error = row.error ?? (paths && row.id === null ? "read: no path (null)" : null);
    // The parser bounds whole base64 groups; a decoded content can still be up to 2 bytes over.
    if (content && content.length > config.maxRowBytes) {
      error = oversizedRowError(config.maxRowBytes);
      content = null;
    }
    ids.push(row.id);
    contents.push(content);
    localErrors.push(error);
    batchBytes += content?.length ?? 0;
    if (ids.length >= config.batchSize || batchBytes >= config.maxBatchBytes) flush();
  }, config.maxRowBytes);

  const inputEnded = new Promise<void>((resolve, reject) => {
    io.input.on("data", (chunk: Buffer) => {
      parser.push(chunk);
      if (ids.length > 0 && !flushTimer) flushTimer = setTimeout(flush, FLUSH_DELAY_MS);
      if (!paused && inFlight >= config.maxInFlight) {
        paused = true;
        io.input.pause();
      }
    });
    io.input.once("end", () => {
      parser.end();
      flush();
      inputDone = true;
      const on = exchange;
      void sending.then(() => (on === exchange ? on.end() : undefined));
      resolve();
    });
    io.input.once("error", (err) => {
      failure ??= err;
      exchange.cancel();
      reject(err);
    });
  });
  inputEnded.catch(() => {});

  const writeOut = (text: string) =>
    new Promise<void>((resolve, reject) => {
      if (io.output.write(text)) resolve();
      else {
        const onDrain = () => {
          io.output.off("error", onError);
          resolve();
        };
        const onError = (err: unknown) => {
          io.output.off("drain", onDrain);
          reject(err);
        };
        io.output.once("drain", onDrain);
        io.output.once("error", onError);
      }
    });

  /** Reads the current exchange's answers until it ends; throws what broke it. */
  const drain = async () => {
    for await (const rows of exchange.batches()) {
      const batch = sent.shift();
      if (!batch || batch.ids.length !== rows.length) {
        throw new BridgeProtocolError(
          `the sidecar answered ${rows.length} rows for a batch of ${batch?.ids.length ?? 0}: rows in must equal rows out`,
        );
      }
      let text = "";
      for (let i = 0; i < rows.length; i++) {
        const r = rows[i] as (typeof rows)[number];
        const localError = batch.localErrors[i] ?? null;
        text += formatOutputRow(
          localError === null
            ? { ...r, id: batch.ids[i] ?? null }
            : { id: batch.ids[i] ?? null, features: null, error: localError, width: null, height: null },
        );
      }
      // Time spent waiting for Spark to read the output is not the sidecar's.
      waitingSince = null;
      await writeOut(text);
      waitingSince = sent.length > 0 ? performance.now() : null;
      inFlight -= rows.length;
      rowsOut += rows.length;
      if (paused && !inputDone && inFlight < config.maxInFlight) {
        paused = false;
        io.input.resume();
      }
    }
    if (failure) throw failure;
  };

  try {
    for (let attempt = 1; ; attempt++) {
      try {
        await drain();
        break;
      } catch (err) {
        const cause = failure ?? err;
        if (!recovery || attempt > (recovery.maxReconnects ?? 3) || !retriable(cause)) throw cause;
        recovery.onReconnect?.(attempt, cause);
        exchange.cancel();
        client.close();
        await recovery.reconnect();
        // Batches go out again in their order on the new exchange; their answers come back whole.
        client = new FlightClient(config.sidecar, { ...flight, secretFile: config.secretFile });
        exchange = openExchange(client);
        failure = null;
        waitingSince = sent.length > 0 ? performance.now() : null;
        sending = Promise.resolve();
        for (const batch of sent) send(batch);
        if (inputDone) {
          const on = exchange;
          void sending.then(() => (on === exchange ? on.end() : undefined));
        }
      }
    }
    await inputEnded;
    if (sent.length > 0 || rowsOut !== rowsIn) {
      throw new BridgeProtocolError(`the sidecar ended the exchange after ${rowsOut} of ${rowsIn} rows`);
    }
    return { rowsIn, rowsOut };
  } catch (err) {
    throw failure ?? err;
  } finally {
    if (flushTimer) clearTimeout(flushTimer);
    clearInterval(watchdog);
    client.close();
  }
}
