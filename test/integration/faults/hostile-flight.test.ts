/**
 * Hostile Flight input against the real sidecar (real model, real gRPC): a batch that declares
 * 3M rows, a header that claims a 4 GiB body, and garbage bytes (not a FlightData at all, and a
 * FlightData whose IPC header is noise) each end their call INVALID_ARGUMENT at once; a client
 * without the secret is refused UNAUTHENTICATED. Afterwards the sidecar has the same pid, answers
 * `health` ok, stays well under 600 MB, and still featurizes a real photo.
 */
import { readFileSync } from "node:fs";
import { Client, credentials, Metadata, status } from "@grpc/grpc-js";
import { Message, type MessageHeader } from "apache-arrow";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUTHORIZATION_KEY, bearer, readSecretFile } from "../../../udf-server/src/auth/sidecar-secret.ts";
import { FlightClient } from "../../../udf-server/src/flight/client.ts";
import { inputSchema, makeInputBatch } from "../../../udf-server/src/flight/feature-schema.ts";
import { FlightBatchEncoder } from "../../../udf-server/src/flight/ipc.ts";
import { encodeFlightData, type FlightData } from "../../../udf-server/src/flight/messages.ts";
import { doExchangeMethod } from "../../../udf-server/src/flight/service.ts";
import { sidecarStatus } from "../../../udf-server/src/manage/sidecar-status.ts";
import type { SidecarHandle } from "../../../udf-server/src/manage/start-sidecar.ts";
import { fruitImages, startTestSidecar } from "../sidecar-support.ts";

interface Outcome {
  code: number | null;
  details: string;
  answers: number;
}

/** Opens a DoExchange whose messages are raw bytes (`frames`), half-closes, and reports how it ended. */
function rawExchange(address: string, frames: Uint8Array[], secret: string | null): Promise<Outcome> {
  const client = new Client(address, credentials.createInsecure(), {
    "grpc.max_send_message_length": 256 * 1024 * 1024,
    "grpc.max_receive_message_length": 256 * 1024 * 1024,
  });
  const metadata = new Metadata();
  if (secret !== null) metadata.set(AUTHORIZATION_KEY, bearer(secret));
  const call = client.makeBidiStreamRequest(
    doExchangeMethod.path,
    (b: Uint8Array) => Buffer.from(b),
    (b: Buffer) => b,
    metadata,
    { deadline: Date.now() + 60_000 },
  );
  return new Promise<Outcome>((resolve) => {
    let answers = 0;
    call.on("data", () => answers++);
    call.on("error", (err: { code?: number; details?: string }) => {
      client.close();
      resolve({ code: err.code ?? null, details: err.details ?? "", answers });
    });
    call.on("end", () => {
      client.close();
      resolve({ code: status.OK, details: "", answers });
    });
    for (const f of frames) call.write(f);
    call.end();
  });
}

const encoder = new FlightBatchEncoder();
const schemaFrame = encodeFlightData(encoder.schema(inputSchema));
const frame = (data: FlightData) => encodeFlightData(data);

function rssMb(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

describe("hostile Flight input to the real sidecar", () => {
  let sidecar: SidecarHandle;
  let secret: string;

  beforeAll(async () => {
    sidecar = await startTestSidecar("hostile");
    secret = readSecretFile(sidecar.secretFile);
  });
  afterAll(async () => {
    await sidecar?.stop();
  });

  it("refuses a batch of 3,000,000 rows INVALID_ARGUMENT before featurizing any of it", async () => {
    const n = 3_000_000;
    const batch = encoder.batch(makeInputBatch(new Array(n).fill(null), new Array(n).fill(null)));
    const t0 = performance.now();
    const got = await rawExchange(sidecar.address, [schemaFrame, frame(batch)], secret);
    expect(got.code).toBe(status.INVALID_ARGUMENT);
    expect(got.details).toMatch(/declares 3000000 rows: at most 4096/);
    expect(performance.now() - t0).toBeLessThan(20_000);
  });

  it("refuses a header that claims a 4 GiB body INVALID_ARGUMENT, allocating nothing of it", async () => {
    const small = encoder.batch(makeInputBatch(["a"], [new Uint8Array([1, 2, 3])]));
    const header = Message.decode(small.dataHeader) as Message<MessageHeader.RecordBatch>;
    const lying = (Message as unknown as { encode(m: Message): Uint8Array }).encode(
      Message.from(header.header(), 4 * 2 ** 30),
    );
    const got = await rawExchange(sidecar.address, [schemaFrame, frame({ ...small, dataHeader: lying })], secret);
    expect(got.code).toBe(status.INVALID_ARGUMENT);
    expect(got.details).toMatch(/declares a body of 4294967296 bytes/);
  });

  it("refuses garbage bytes INVALID_ARGUMENT: not a FlightData, and a FlightData whose IPC header is noise", async () => {
    const garbage = new Uint8Array(4096).fill(0xff);
    const notFlightData = await rawExchange(sidecar.address, [garbage], secret);
    expect(notFlightData.code).toBe(status.INVALID_ARGUMENT);
    expect(notFlightData.details).toMatch(/not a FlightData message/);

    const noise = new Uint8Array(512);
    for (let i = 0; i < noise.length; i++) noise[i] = (i * 131 + 17) & 0xff;
    const noisyHeader = await rawExchange(
      sidecar.address,
      [frame({ dataHeader: noise, dataBody: noise, appMetadata: new Uint8Array(0) })],
      secret,
    );
    expect(noisyHeader.code).toBe(status.INVALID_ARGUMENT);
  });

  it("refuses the same input UNAUTHENTICATED without the secret", async () => {
    const got = await rawExchange(sidecar.address, [new Uint8Array(4096).fill(0xff)], null);
    expect(got.code).toBe(status.UNAUTHENTICATED);
    const wrong = await rawExchange(sidecar.address, [schemaFrame], "00".repeat(32));
    expect(wrong.code).toBe(status.UNAUTHENTICATED);
  });

  it("is still the same process afterwards, healthy, small, and featurizing", async () => {
    const after = await sidecarStatus(sidecar.address, 5000, sidecar.secretFile);
    expect(after.health?.status).toBe("ok");
    expect(after.health?.pid).toBe(sidecar.pid);
    expect(rssMb(sidecar.pid)).toBeLessThan(600);
    const client = new FlightClient(sidecar.address, { secretFile: sidecar.secretFile });
    try {
      const ex = client.featureExchange();
      const [photo] = fruitImages(1);
      await ex.send(["photo"], [readFileSync(photo as string)]);
      ex.end();
      const rows = [];
      for await (const b of ex.batches()) rows.push(...b);
      expect(rows).toHaveLength(1);
      expect(rows[0]?.error).toBeNull();
      expect(rows[0]?.features).toHaveLength(1280);
    } finally {
      client.close();
    }
  });
});
