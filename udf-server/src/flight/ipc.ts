/**
 * Arrow IPC <-> Flight framing. A Flight stream carries one IPC message per `FlightData`:
 * `data_header` is the IPC `Message` flatbuffer and `data_body` its body, with the schema
 * message first. apache-arrow writes and reads whole IPC streams, so this module splits a
 * stream into messages (encode) and re-frames messages into a stream (decode).
 */
import { Message, MessageHeader, type RecordBatch, type Schema, Table, tableFromIPC, tableToIPC } from "apache-arrow";
import { OrchardError } from "../errors.ts";
import type { FlightData } from "./messages.ts";

/** One IPC message: its flatbuffer header and its body. */
interface IpcMessage {
  header: Uint8Array;
  body: Uint8Array;
  type: MessageHeader;
}

const CONTINUATION = 0xffffffff;
const EMPTY = new Uint8Array(0);

/** A peer sent an IPC stream orchard cannot read. */
export class IpcProtocolError extends OrchardError {
  constructor(message: string, cause?: unknown) {
    super("protocol", { message, cause });
  }
}

/** Splits the bytes of an IPC stream (as apache-arrow's `tableToIPC(.., "stream")` writes it) into messages. */
function splitIpcStream(bytes: Uint8Array): IpcMessage[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: IpcMessage[] = [];
  let pos = 0;
  while (pos + 4 <= bytes.length) {
    let metaLength = view.getUint32(pos, true);
    pos += 4;
    if (metaLength === CONTINUATION) {
      if (pos + 4 > bytes.length) break;
      metaLength = view.getUint32(pos, true);
      pos += 4;
    }
    if (metaLength === 0) break;
    const header = bytes.subarray(pos, pos + metaLength);
    pos += metaLength;
    const message = Message.decode(header);
    const body = bytes.subarray(pos, pos + message.bodyLength);
    pos += message.bodyLength;
    out.push({ header, body, type: message.headerType });
  }
  return out;
}

/** Frames one message as IPC stream bytes: continuation, padded metadata length, metadata, body (zero-padded to its declared length). */
function frameMessage(header: Uint8Array, body: Uint8Array, bodyLength: number): Uint8Array {
  const metaPadded = ((header.length + 8 + 7) & ~7) - 8;
  const out = new Uint8Array(8 + metaPadded + Math.max(bodyLength, body.length));
  const view = new DataView(out.buffer);
  view.setUint32(0, CONTINUATION, true);
  view.setUint32(4, metaPadded, true);
  out.set(header, 8);
  out.set(body, 8 + metaPadded);
  return out;
}

/**
 * Encodes record batches of one schema as Flight messages: `schema()` once, then `batch(b)`
 * per batch (dictionaries are not used by orchard's schemas).
 */
export class FlightBatchEncoder {
  private schemaMessage: FlightData | null = null;

  /** The schema message; computed from the first batch or from `schema` (sent before any batch). */
  schema(schema: Schema): FlightData {
    if (!this.schemaMessage) {
      const messages = splitIpcStream(tableToIPC(new Table(schema), "stream"));
      const first = messages[0];
      if (!first || first.type !== MessageHeader.Schema)
        throw new IpcProtocolError("apache-arrow wrote no schema message");
      this.schemaMessage = { dataHeader: first.header, dataBody: EMPTY, appMetadata: EMPTY };
    }
    return this.schemaMessage;
  }

  /** The record-batch message for `batch`. */
  batch(batch: RecordBatch, appMetadata: Uint8Array = EMPTY): FlightData {
    const messages = splitIpcStream(tableToIPC(new Table([batch]), "stream"));
    const message = messages.find((m) => m.type === MessageHeader.RecordBatch);
    if (!message) throw new IpcProtocolError("apache-arrow wrote no record batch message");
    return { dataHeader: message.header, dataBody: message.body, appMetadata };
  }
}

/** What one incoming `FlightData` turned out to be. */
export type DecodedFlightData =
  | { kind: "schema"; schema: Schema }
  | { kind: "batch"; table: Table }
  | { kind: "metadata-only"; appMetadata: Uint8Array };

/** What a decoder accepts from its peer. */
export interface DecoderLimits {
  /** Rows one record batch may declare (its length and every field node's); default: no limit. */
  maxRows?: number;
}

/** Slack allowed between a body's declared length and its bytes (8-byte padding of the last buffer). */
const BODY_SLACK = 64;

/**
 * Decodes the Flight messages of one stream: the first IPC message must be the schema; each
 * record batch after it is returned as a one-batch `Table`. Messages with no IPC header (a
 * descriptor-only first message, app_metadata only) are reported as `metadata-only`.
 *
 * Nothing a header declares is trusted before it is checked against the bytes that came: a body
 * length beyond the body received, a buffer outside the body, or more rows than `maxRows` is an
 * {@link IpcProtocolError} before anything is allocated or decoded.
 */
export class FlightStreamDecoder {
  private schemaFrame: Uint8Array | null = null;
  private currentSchema: Schema | null = null;

  constructor(private readonly limits: DecoderLimits = {}) {}

  /** The schema, once the schema message has arrived. */
  get schema(): Schema | null {
    return this.currentSchema;
  }

  push(data: FlightData): DecodedFlightData {
    if (data.dataHeader.length === 0) return { kind: "metadata-only", appMetadata: data.appMetadata };
    let message: Message;
    try {
      message = Message.decode(data.dataHeader);
    } catch (cause) {
      throw new IpcProtocolError("data_header is not an Arrow IPC message", cause);
    }
    const bodyLength = Number(message.bodyLength);
    if (!Number.isSafeInteger(bodyLength) || bodyLength < 0 || bodyLength > data.dataBody.length + BODY_SLACK) {
      throw new IpcProtocolError(
        `the IPC header declares a body of ${message.bodyLength} bytes, but ${data.dataBody.length} arrived`,
      );
    }
    if (message.headerType === MessageHeader.RecordBatch) this.checkBatchHeader(message, bodyLength);
    const frame = frameMessage(data.dataHeader, data.dataBody, bodyLength);
    if (message.headerType === MessageHeader.Schema) {
      if (this.schemaFrame) throw new IpcProtocolError("a second schema message arrived in one stream");
      this.schemaFrame = frame;
      this.currentSchema = tableFromIPC(frame).schema;
      return { kind: "schema", schema: this.currentSchema };
    }
    if (message.headerType !== MessageHeader.RecordBatch) {
      throw new IpcProtocolError(
        `unsupported IPC message type ${MessageHeader[message.headerType] ?? message.headerType}`,
      );
    }
    if (!this.schemaFrame) throw new IpcProtocolError("a record batch arrived before the schema");
    const stream = new Uint8Array(this.schemaFrame.length + frame.length);
    stream.set(this.schemaFrame, 0);
    stream.set(frame, this.schemaFrame.length);
    try {
      return { kind: "batch", table: tableFromIPC(stream) };
    } catch (cause) {
      throw new IpcProtocolError("a record batch could not be decoded", cause);
    }
  }

  /** Refuses a record batch header whose rows or buffers the body cannot back (see the class comment). */
  private checkBatchHeader(message: Message, bodyLength: number): void {
    let header: ReturnType<Message<MessageHeader.RecordBatch>["header"]>;
    try {
      header = (message as Message<MessageHeader.RecordBatch>).header();
    } catch (cause) {
      throw new IpcProtocolError("the record batch header cannot be read", cause);
    }
    const maxRows = this.limits.maxRows ?? Number.POSITIVE_INFINITY;
    const rows = [Number(header.length), ...header.nodes.map((n) => Number(n.length))];
    for (const n of rows) {
      if (!Number.isSafeInteger(n) || n < 0 || n > maxRows) {
        throw new IpcProtocolError(`a record batch declares ${n} rows: at most ${maxRows} are accepted per batch`);
      }
    }
    for (const b of header.buffers) {
      const end = Number(b.offset) + Number(b.length);
      if (!Number.isSafeInteger(end) || Number(b.offset) < 0 || Number(b.length) < 0 || end > bodyLength) {
        throw new IpcProtocolError(
          `a record batch buffer (${b.offset}+${b.length}) lies outside its ${bodyLength}-byte body`,
        );
      }
    }
  }
}
