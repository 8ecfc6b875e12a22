/**
 * The bridge Spark runs once per partition (`SELECT TRANSFORM ... USING 'orchard-bridge'`):
 * delimited `(id, base64 content)` rows on stdin -> Flight `DoExchange` batches to the local
 * sidecar -> `(id, features JSON, error, width, height)` rows on stdout, same order, one output
 * row per input row. Reads stop while too many rows are in flight (bounded memory); the bridge
 * exits when stdin ends, or on its own when its parent process goes away.
 */
import type { Readable, Writable } from "node:stream";
import { OrchardError } from "../errors.ts";
import { FlightClient } from "../flight/client.ts";
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

interface SentBatch {
  ids: (string | null)[];
  localErrors: (string | null)[];
}

const FLUSH_DELAY_MS = 2;

/** Streams `io.input` through the sidecar at `config.sidecar` to `io.output`. */
export async function runBridge(config: BridgeConfig, io: BridgeIo): Promise<BridgeResult> {
  const client = new FlightClient(config.sidecar);
  const exchange = client.featureExchange();
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

  const flush = () => {
    if (flushTimer) {
      clearTimeout(flushTimer);
      flushTimer = null;
    }
    if (ids.length === 0) return;
    const batch = { ids, localErrors };
    const batchContents = contents;
    sent.push(batch);
    inFlight += ids.length;
    ids = [];
    contents = [];
    localErrors = [];
    batchBytes = 0;
    sending = sending
      .then(() => exchange.send(batch.ids, batchContents))
      .catch((err: unknown) => {
        failure ??= err;
        exchange.cancel();
      });
  };

  const parser = new DelimitedRowParser((row: InputRow) => {
    rowsIn++;
    let content = row.content;
    let error = row.error;
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
      void sending.then(() => exchange.end());
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

  try {
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
      await writeOut(text);
      inFlight -= rows.length;
      rowsOut += rows.length;
      if (paused && !inputDone && inFlight < config.maxInFlight) {
        paused = false;
        io.input.resume();
      }
    }
    if (failure) throw failure;
    await inputEnded;
    if (sent.length > 0 || rowsOut !== rowsIn) {
      throw new BridgeProtocolError(`the sidecar ended the exchange after ${rowsOut} of ${rowsIn} rows`);
    }
    return { rowsIn, rowsOut };
  } catch (err) {
    throw failure ?? err;
  } finally {
    if (flushTimer) clearTimeout(flushTimer);
    client.close();
  }
}
