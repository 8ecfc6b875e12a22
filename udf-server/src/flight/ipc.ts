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

/**
 * Decodes the Flight messages of one stream: the first IPC message must be the schema; each
 * record batch after it is returned as a one-batch `Table`. Messages with no IPC header (a
 * descriptor-only first message, app_metadata only) are reported as `metadata-only`.
 */
export class FlightStreamDecoder {
  private schemaFrame: Uint8Array | null = null;
  private currentSchema: Schema | null = null;

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
    const frame = frameMessage(data.dataHeader, data.dataBody, message.bodyLength);
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
}
