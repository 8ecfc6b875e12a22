/**
 * The Arrow Flight protocol messages orchard needs, encoded and decoded by hand with
 * @bufbuild/protobuf's wire primitives. Written here from the published protocol
 * (protobuf package `arrow.flight.protocol`, service `FlightService`): same field numbers and
 * wire types, so any Flight client or server (pyarrow.flight, Arrow C++/Java) interoperates.
 * Unknown fields are skipped on decode, as protobuf requires.
 */
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";

/** `FlightDescriptor.DescriptorType`. */
export const DescriptorType = { UNKNOWN: 0, PATH: 1, CMD: 2 } as const;
export type DescriptorType = (typeof DescriptorType)[keyof typeof DescriptorType];

/** `FlightDescriptor`: type = 1 (enum), cmd = 2 (bytes), path = 3 (repeated string). */
export interface FlightDescriptor {
  type: number;
  cmd: Uint8Array;
  path: string[];
}

/** `FlightData`: flight_descriptor = 1, data_header = 2, app_metadata = 3, data_body = 1000. */
export interface FlightData {
  flightDescriptor?: FlightDescriptor;
  /** The Arrow IPC `Message` flatbuffer (no continuation marker, no length prefix). */
  dataHeader: Uint8Array;
  appMetadata: Uint8Array;
  /** The IPC message body (the buffers the header describes). */
  dataBody: Uint8Array;
  /** Set (by {@link decodeFlightDataOrMark}) when the bytes received were not a `FlightData` message: why. */
  undecodable?: string;
}

/** `Action`: type = 1 (string), body = 2 (bytes). */
export interface Action {
  type: string;
  body: Uint8Array;
}

/** `Result`: body = 1 (bytes). */
export interface Result {
  body: Uint8Array;
}

/** `ActionType`: type = 1 (string), description = 2 (string). */
export interface ActionType {
  type: string;
  description: string;
}

const EMPTY = new Uint8Array(0);

function encodeDescriptor(writer: BinaryWriter, d: FlightDescriptor): void {
  if (d.type !== 0) writer.tag(1, WireType.Varint).int32(d.type);
  if (d.cmd.length > 0) writer.tag(2, WireType.LengthDelimited).bytes(d.cmd);
  for (const p of d.path) writer.tag(3, WireType.LengthDelimited).string(p);
}

/** Parses a `FlightDescriptor`. */
function decodeFlightDescriptor(bytes: Uint8Array): FlightDescriptor {
  const r = new BinaryReader(bytes);
  const d: FlightDescriptor = { type: 0, cmd: EMPTY, path: [] };
  while (r.pos < r.len) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === WireType.Varint) d.type = r.int32();
    else if (field === 2 && wire === WireType.LengthDelimited) d.cmd = r.bytes();
    else if (field === 3 && wire === WireType.LengthDelimited) d.path.push(r.string());
    else r.skip(wire, field);
  }
  return d;
}

/**
 * Serializes a `FlightData`. The body is written last with field number 1000, as Flight
 * implementations expect (their fast paths read the header before the body).
 */
export function encodeFlightData(m: FlightData): Uint8Array {
  const w = new BinaryWriter();
  if (m.flightDescriptor) {
    w.tag(1, WireType.LengthDelimited).fork();
    encodeDescriptor(w, m.flightDescriptor);
    w.join();
  }
  if (m.dataHeader.length > 0) w.tag(2, WireType.LengthDelimited).bytes(m.dataHeader);
  if (m.appMetadata.length > 0) w.tag(3, WireType.LengthDelimited).bytes(m.appMetadata);
  if (m.dataBody.length > 0) w.tag(1000, WireType.LengthDelimited).bytes(m.dataBody);
  return w.finish();
}

/** Parses a `FlightData`; byte fields are views into `bytes` (no copy). */
export function decodeFlightData(bytes: Uint8Array): FlightData {
  const r = new BinaryReader(bytes);
  const m: FlightData = { dataHeader: EMPTY, appMetadata: EMPTY, dataBody: EMPTY };
  while (r.pos < r.len) {
    const [field, wire] = r.tag();
    if (wire !== WireType.LengthDelimited) {
      r.skip(wire, field);
      continue;
    }
    if (field === 1) m.flightDescriptor = decodeFlightDescriptor(r.bytes());
    else if (field === 2) m.dataHeader = r.bytes();
    else if (field === 3) m.appMetadata = r.bytes();
    else if (field === 1000) m.dataBody = r.bytes();
    else r.skip(wire, field);
  }
  return m;
}

/**
 * Parses a `FlightData` for a server: bytes that are not one come back as an empty message with
 * `undecodable` set, so the call can be refused INVALID_ARGUMENT (a throwing deserializer would
 * make grpc-js answer INTERNAL).
 */
export function decodeFlightDataOrMark(bytes: Uint8Array): FlightData {
  try {
    return decodeFlightData(bytes);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return { dataHeader: EMPTY, appMetadata: EMPTY, dataBody: EMPTY, undecodable: `not a FlightData message (${why})` };
  }
}

/** Serializes an `Action`. */
export function encodeAction(a: Action): Uint8Array {
  const w = new BinaryWriter();
  if (a.type.length > 0) w.tag(1, WireType.LengthDelimited).string(a.type);
  if (a.body.length > 0) w.tag(2, WireType.LengthDelimited).bytes(a.body);
  return w.finish();
}

/** Parses an `Action`. */
export function decodeAction(bytes: Uint8Array): Action {
  const r = new BinaryReader(bytes);
  const a: Action = { type: "", body: EMPTY };
  while (r.pos < r.len) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === WireType.LengthDelimited) a.type = r.string();
    else if (field === 2 && wire === WireType.LengthDelimited) a.body = r.bytes();
    else r.skip(wire, field);
  }
  return a;
}

/** Serializes a `Result`. */
export function encodeResult(res: Result): Uint8Array {
  const w = new BinaryWriter();
  if (res.body.length > 0) w.tag(1, WireType.LengthDelimited).bytes(res.body);
  return w.finish();
}

/** Parses a `Result`. */
export function decodeResult(bytes: Uint8Array): Result {
  const r = new BinaryReader(bytes);
  const res: Result = { body: EMPTY };
  while (r.pos < r.len) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === WireType.LengthDelimited) res.body = r.bytes();
    else r.skip(wire, field);
  }
  return res;
}

/** Serializes an `ActionType`. */
export function encodeActionType(t: ActionType): Uint8Array {
  const w = new BinaryWriter();
  if (t.type.length > 0) w.tag(1, WireType.LengthDelimited).string(t.type);
  if (t.description.length > 0) w.tag(2, WireType.LengthDelimited).string(t.description);
  return w.finish();
}

/** Parses an `ActionType`. */
export function decodeActionType(bytes: Uint8Array): ActionType {
  const r = new BinaryReader(bytes);
  const t: ActionType = { type: "", description: "" };
  while (r.pos < r.len) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === WireType.LengthDelimited) t.type = r.string();
    else if (field === 2 && wire === WireType.LengthDelimited) t.description = r.string();
    else r.skip(wire, field);
  }
  return t;
}

/** `Empty` has no fields: it encodes to zero bytes, and any input decodes to it. */
export function encodeEmpty(): Uint8Array {
  return EMPTY;
}
