import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";

/**
 * Hand-written decoders for the two google.rpc messages Spark puts in the
 * `grpc-status-details-bin` trailer: `google.rpc.Status` (code = 1, message = 2,
 * details = 3 repeated `google.protobuf.Any` {type_url = 1, value = 2}) and
 * `google.rpc.ErrorInfo` (reason = 1, domain = 2, metadata = 3 map<string,string>).
 */
export interface RpcStatus {
  code: number;
  message: string;
  details: { typeUrl: string; value: Uint8Array }[];
}

export interface ErrorInfo {
  reason: string;
  domain: string;
  metadata: Record<string, string>;
}

const ERROR_INFO_TYPE_URL = "type.googleapis.com/google.rpc.ErrorInfo";

function decodeAny(bytes: Uint8Array): { typeUrl: string; value: Uint8Array } {
  const r = new BinaryReader(bytes);
  let typeUrl = "";
  let value: Uint8Array = new Uint8Array(0);
  while (r.pos < r.len) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === WireType.LengthDelimited) typeUrl = r.string();
    else if (field === 2 && wire === WireType.LengthDelimited) value = r.bytes();
    else r.skip(wire, field);
  }
  return { typeUrl, value };
}

/** Decodes a serialized `google.rpc.Status`. */
export function decodeRpcStatus(bytes: Uint8Array): RpcStatus {
  const r = new BinaryReader(bytes);
  const status: RpcStatus = { code: 0, message: "", details: [] };
  while (r.pos < r.len) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === WireType.Varint) status.code = r.int32();
    else if (field === 2 && wire === WireType.LengthDelimited) status.message = r.string();
    else if (field === 3 && wire === WireType.LengthDelimited) status.details.push(decodeAny(r.bytes()));
    else r.skip(wire, field);
  }
  return status;
}

function decodeMapEntry(bytes: Uint8Array): [string, string] {
  const r = new BinaryReader(bytes);
  let key = "";
  let value = "";
  while (r.pos < r.len) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === WireType.LengthDelimited) key = r.string();
    else if (field === 2 && wire === WireType.LengthDelimited) value = r.string();
    else r.skip(wire, field);
  }
  return [key, value];
}

/** Decodes a serialized `google.rpc.ErrorInfo`. */
export function decodeErrorInfo(bytes: Uint8Array): ErrorInfo {
  const r = new BinaryReader(bytes);
  const info: ErrorInfo = { reason: "", domain: "", metadata: {} };
  while (r.pos < r.len) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === WireType.LengthDelimited) info.reason = r.string();
    else if (field === 2 && wire === WireType.LengthDelimited) info.domain = r.string();
    else if (field === 3 && wire === WireType.LengthDelimited) {
      const [k, v] = decodeMapEntry(r.bytes());
      info.metadata[k] = v;
    } else r.skip(wire, field);
  }
  return info;
}

/** The first ErrorInfo among a Status's details, if any. */
export function findErrorInfo(status: RpcStatus): ErrorInfo | undefined {
  const any = status.details.find(
    (d) => d.typeUrl === ERROR_INFO_TYPE_URL || d.typeUrl.endsWith("/google.rpc.ErrorInfo"),
  );
  return any === undefined ? undefined : decodeErrorInfo(any.value);
}
