import { Message, type MessageHeader } from "apache-arrow";
import { describe, expect, it } from "vitest";
import { inputSchema, makeInputBatch } from "../../udf-server/src/flight/feature-schema.ts";
import { FlightBatchEncoder, FlightStreamDecoder, IpcProtocolError } from "../../udf-server/src/flight/ipc.ts";
import { decodeFlightDataOrMark, encodeFlightData } from "../../udf-server/src/flight/messages.ts";

const encoder = new FlightBatchEncoder();
const encode = (m: Message) => (Message as unknown as { encode(m: Message): Uint8Array }).encode(m);

function decoderWithSchema(maxRows?: number): FlightStreamDecoder {
  const d = new FlightStreamDecoder(maxRows === undefined ? {} : { maxRows });
  d.push(encoder.schema(inputSchema));
  return d;
}

describe("FlightStreamDecoder: nothing a header declares is trusted", () => {
  it("decodes a batch within the limits", () => {
    const got = decoderWithSchema(4).push(encoder.batch(makeInputBatch(["a", "b"], [new Uint8Array([1]), null])));
    expect(got.kind === "batch" && got.table.numRows).toBe(2);
  });

  it("refuses more rows than maxRows, before decoding", () => {
    const batch = encoder.batch(makeInputBatch(["a", "b", "c"], [null, null, null]));
    expect(() => decoderWithSchema(2).push(batch)).toThrow(/declares 3 rows: at most 2/);
  });

  it("refuses a body length beyond the bytes received, and a buffer outside the body", () => {
    const small = encoder.batch(makeInputBatch(["a"], [new Uint8Array([1, 2, 3])]));
    const header = Message.decode(small.dataHeader) as Message<MessageHeader.RecordBatch>;
    const huge = encode(Message.from(header.header(), 4 * 2 ** 30));
    expect(() => decoderWithSchema().push({ ...small, dataHeader: huge })).toThrow(IpcProtocolError);
    expect(() => decoderWithSchema().push({ ...small, dataHeader: huge })).toThrow(/4294967296 bytes/);
    // The real body, but a header whose declared body is shorter than its buffers.
    const short = encode(Message.from(header.header(), 8));
    expect(() => decoderWithSchema().push({ ...small, dataHeader: short })).toThrow(/outside its 8-byte body/);
  });

  it("marks bytes that are not a FlightData instead of throwing", () => {
    expect(decodeFlightDataOrMark(new Uint8Array(64).fill(0xff)).undecodable).toMatch(/not a FlightData message/);
    const ok = decodeFlightDataOrMark(encodeFlightData(encoder.schema(inputSchema)));
    expect(ok.undecodable).toBeUndefined();
    expect(ok.dataHeader.length).toBeGreaterThan(0);
  });
});
