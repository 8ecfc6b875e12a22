/**
 * The sidecar's Arrow Flight server: `DoExchange` (featurize), `DoAction("health" | "info")`,
 * `ListActions`, over @grpc/grpc-js on loopback by default. One warm featurizer is shared by
 * every exchange through the dynamic batcher.
 *
 * Every call needs the shared secret (`authorization: Bearer <secret>`, see
 * ../auth/sidecar-secret.ts) except `health`, which stays open: supervisors and health checks
 * that hold no secret can see that the sidecar lives, and a client can make the server prove it
 * knows the secret before it sends the secret itself (a `health` whose body is a 64-hex challenge
 * is answered with `proof`). `health` tells liveness and load only: no model, no data.
 */
import { Server, ServerCredentials, type ServerDuplexStream, type ServerWritableStream, status } from "@grpc/grpc-js";
import { serverProof } from "../auth/sidecar-secret.ts";
import { SetupError } from "../errors.ts";
import type { Featurizer } from "../featurizer.ts";
import type { Action, ActionType, FlightData, Result } from "../flight/messages.ts";
import { flightServiceDefinition } from "../flight/service.ts";
import type { Device } from "../model/execution-device.ts";
import { type BatchingOptions, DynamicBatcher } from "./batcher.ts";
import { type ExchangeLimits, handleExchange } from "./exchange.ts";
import { hasSecret, requireSecret, UNAUTHENTICATED_DETAILS } from "./require-secret.ts";

/** How the server listens and batches. */
export interface FlightServerOptions {
  host: string;
  port: number;
  batching: BatchingOptions;
  limits: ExchangeLimits;
  /** Largest incoming gRPC message, in bytes. */
  maxMessageBytes: number;
  /** The shared secret every call but `health` must carry. */
  secret: string;
  log?: (message: string) => void;
}

/** The `health` action's JSON body. */
export interface HealthReport {
  /** `failing`: no model session is alive (worker threads died beyond the restart budget). */
  status: "ok" | "draining" | "failing";
  pid: number;
  uptimeSeconds: number;
  activeExchanges: number;
  queued: number;
  running: number;
  batches: number;
  images: number;
  /** The model's sessions, when the featurizer reports them. */
  sessions?: { alive: number; total: number; restarts: number };
  /** HMAC of the request's challenge with the secret, when the request body was a challenge. */
  proof?: string;
}

/** The `info` action's JSON body. */
export interface InfoReport {
  model: string;
  inputSize: [height: number, width: number];
  featureDim: number;
  threads: number;
  version: string;
  /** SHA-256 (hex) of the model's ONNX file. */
  sha256: string;
  /** Where the model runs: `cpu` or `cuda` (ONNX Runtime's execution provider, `--device`). */
  device: Device;
  batching: BatchingOptions & ExchangeLimits;
  pid: number;
  /** Rows answered with features over the server's life (all exchanges). */
  rowsServed: number;
  /** Rows answered with an error over the server's life. */
  rowsFailed: number;
}

/** A running server. */
export interface FlightServer {
  /** `host:port` actually bound. */
  readonly address: string;
  readonly port: number;
  readonly batcher: DynamicBatcher;
  /** Exchanges in progress. */
  activeExchanges(): number;
  /** Milliseconds since the last exchange finished (0 while one is running). */
  idleMs(): number;
  /** Stops taking calls, lets running exchanges finish for up to `graceMs`, then cuts the rest. */
  close(graceMs: number): Promise<void>;
}

/** The actions `ListActions` reports. */
const SIDECAR_ACTIONS: ActionType[] = [
  {
    type: "health",
    description:
      "Liveness, open without the secret: JSON {status, pid, uptimeSeconds, activeExchanges, queued, ...}; a body of 64 hex characters (a challenge) adds {proof}",
  },
  {
    type: "info",
    description:
      "Model, device, batching and rows answered: JSON {model, inputSize, featureDim, threads, version, sha256, device, batching, rowsServed, rowsFailed}",
  },
];

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const CHALLENGE = /^[0-9a-f]{64}$/;

/** The server PINGs a connection quiet this long; one unanswered for `SERVER_KEEPALIVE_TIMEOUT_MS` is closed. */
const SERVER_KEEPALIVE_MS = 30_000;
const SERVER_KEEPALIVE_TIMEOUT_MS = 10_000;

/** Starts the Flight server with `featurizer`; resolves once it is bound. */
export async function startFlightServer(featurizer: Featurizer, options: FlightServerOptions): Promise<FlightServer> {
  const log = options.log ?? (() => {});
  const batcher = new DynamicBatcher(featurizer, options.batching);
  const started = performance.now();
  let active = 0;
  let lastDone = performance.now();
  let draining = false;
  let rowsServed = 0;
  let rowsFailed = 0;

  const health = (challenge: string | null): HealthReport => {
    const sessions = featurizer.sessions;
    return {
      status: draining ? "draining" : sessions?.alive === 0 ? "failing" : "ok",
      pid: process.pid,
      uptimeSeconds: Math.round((performance.now() - started) / 1000),
      activeExchanges: active,
      ...batcher.stats,
      ...(sessions ? { sessions: { ...sessions } } : {}),
      ...(challenge === null ? {} : { proof: serverProof(options.secret, challenge) }),
    };
  };
  const info = (): InfoReport => ({
    ...featurizer.info,
    model: featurizer.info.name,
    batching: { ...options.batching, ...options.limits },
    pid: process.pid,
    rowsServed,
    rowsFailed,
  });

  const server = new Server({
    "grpc.max_receive_message_length": options.maxMessageBytes,
    "grpc.max_send_message_length": options.maxMessageBytes,
    // A client that vanished without closing (a stopped or killed bridge, a half-open connection)
    // stops answering PINGs: its exchanges end and their queued images are dropped.
    "grpc.keepalive_time_ms": SERVER_KEEPALIVE_MS,
    "grpc.keepalive_timeout_ms": SERVER_KEEPALIVE_TIMEOUT_MS,
    interceptors: [requireSecret(options.secret)],
  });
  server.addService(flightServiceDefinition, {
    DoExchange: (call: ServerDuplexStream<FlightData, FlightData>) => {
      active++;
      handleExchange(call, {
        batcher,
        limits: options.limits,
        log,
        onDone: () => {
          active--;
          lastDone = performance.now();
        },
        onAnswered: (served, failed) => {
          rowsServed += served;
          rowsFailed += failed;
        },
      });
    },
    DoAction: (call: ServerWritableStream<Action, Result>) => {
      const { type, body: request } = call.request;
      if (type !== "health" && !hasSecret(call.metadata, options.secret)) {
        call.emit("error", { code: status.UNAUTHENTICATED, details: UNAUTHENTICATED_DETAILS });
        return;
      }
      let body: unknown;
      if (type === "health") {
        const text = request.length === 64 ? decoder.decode(request) : "";
        body = health(CHALLENGE.test(text) ? text : null);
      } else if (type === "info") body = info();
      else {
        call.emit("error", { code: status.INVALID_ARGUMENT, details: `unknown action "${type}"; try ListActions` });
        return;
      }
      call.write({ body: encoder.encode(JSON.stringify(body)) });
      call.end();
    },
    ListActions: (call: ServerWritableStream<Record<string, never>, ActionType>) => {
      for (const a of SIDECAR_ACTIONS) call.write(a);
      call.end();
    },
  });

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${options.host}:${options.port}`, ServerCredentials.createInsecure(), (err, bound) => {
      if (err) {
        reject(
          new SetupError({
            component: "sidecar",
            message: `cannot listen on ${options.host}:${options.port}: ${err.message}`,
            cause: err,
          }),
        );
      } else resolve(bound);
    });
  });
  const address = `${options.host.includes(":") ? `[${options.host}]` : options.host}:${port}`;
  log(`listening on ${address}`);

  return {
    address,
    port,
    batcher,
    activeExchanges: () => active,
    idleMs: () => (active > 0 ? 0 : performance.now() - lastDone),
    close: async (graceMs: number) => {
      draining = true;
      const graceful = new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), graceMs);
      });
      const outcome = await Promise.race([graceful, deadline]);
      clearTimeout(timer);
      if (outcome === "timeout") {
        log(`grace period of ${graceMs} ms over with ${active} exchange(s) still open: closing them`);
        server.forceShutdown();
      }
      await batcher.idle();
    },
  };
}
