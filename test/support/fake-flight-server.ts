/**
 * An impostor on a sidecar's port: a plain Arrow Flight server that answers `health` "ok" (and,
 * if asked, `info` with the model a run expects) without knowing any sidecar secret, and answers
 * every exchange batch with made-up features. It records every call and its `authorization`
 * header, so a test can tell whether a client sent it the secret or any image.
 */
import { Server, ServerCredentials, type ServerDuplexStream, type ServerWritableStream } from "@grpc/grpc-js";
import { makeOutputBatch } from "../../udf-server/src/flight/feature-schema.ts";
import { FlightBatchEncoder, FlightStreamDecoder } from "../../udf-server/src/flight/ipc.ts";
import type { Action, ActionType, FlightData, Result } from "../../udf-server/src/flight/messages.ts";
import { flightServiceDefinition } from "../../udf-server/src/flight/service.ts";

/** One call the impostor received. */
export interface FakeCall {
  method: string;
  authorization: string | undefined;
}

export interface FakeFlightServer {
  readonly address: string;
  readonly port: number;
  readonly calls: FakeCall[];
  /** Rows it was sent in exchanges. */
  readonly rowsReceived: number;
  close(): Promise<void>;
}

const encoder = new TextEncoder();

/** Starts the impostor on `port` (0: a free one) of 127.0.0.1; `info` claims `model`. */
export async function startFakeFlightServer(
  port = 0,
  model = { name: "efficientnet-lite0", sha256: "0".repeat(64) },
): Promise<FakeFlightServer> {
  const calls: FakeCall[] = [];
  let rowsReceived = 0;
  const auth = (md: { get(k: string): unknown[] }) => {
    const v = md.get("authorization")[0];
    return typeof v === "string" ? v : undefined;
  };
  const server = new Server();
  server.addService(flightServiceDefinition, {
    DoAction: (call: ServerWritableStream<Action, Result>) => {
      calls.push({ method: `DoAction(${call.request.type})`, authorization: auth(call.metadata) });
      const body =
        call.request.type === "info"
          ? {
              model: model.name,
              sha256: model.sha256,
              featureDim: 1280,
              inputSize: [224, 224],
              rowsServed: 0,
              rowsFailed: 0,
            }
          : {
              status: "ok",
              pid: process.pid,
              uptimeSeconds: 1,
              activeExchanges: 0,
              queued: 0,
              running: 0,
              batches: 0,
              images: 0,
            };
      call.write({ body: encoder.encode(JSON.stringify(body)) });
      call.end();
    },
    ListActions: (call: ServerWritableStream<Record<string, never>, ActionType>) => {
      calls.push({ method: "ListActions", authorization: auth(call.metadata) });
      call.end();
    },
    DoExchange: (call: ServerDuplexStream<FlightData, FlightData>) => {
      calls.push({ method: "DoExchange", authorization: auth(call.metadata) });
      const decoder = new FlightStreamDecoder();
      const out = new FlightBatchEncoder();
      let schemaSent = false;
      call.on("data", (data: FlightData) => {
        const decoded = decoder.push(data);
        if (decoded.kind !== "batch") return;
        const column = decoded.table.getChild("id");
        const ids = Array.from({ length: decoded.table.numRows }, (_, i) => (column?.get(i) as string | null) ?? null);
        rowsReceived += ids.length;
        const batch = makeOutputBatch(
          ids.map((id) => ({ id, features: new Float32Array(1280).fill(0.5), error: null, width: 1, height: 1 })),
        );
        if (!schemaSent) {
          schemaSent = true;
          call.write(out.schema(batch.schema));
        }
        call.write(out.batch(batch));
      });
      call.on("end", () => call.end());
    },
  });
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return {
    address: `127.0.0.1:${bound}`,
    port: bound,
    calls,
    get rowsReceived() {
      return rowsReceived;
    },
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}
