/**
 * A small Arrow Flight client for the sidecar's methods: actions, and a featurizing
 * `DoExchange` that sends `(id, content)` batches and yields the output rows batch by batch.
 * Used by the bridge, the manager (health checks) and the tests. Given the sidecar's secret (or
 * its file, read at each call: a restarted sidecar has a new one), it sends it on every call but
 * `health`, and never before the server has proved it knows the secret: the first action that
 * needs it is preceded by a `health` carrying a fresh challenge, whose `proof` must match (again
 * after the connection failed). An exchange does not wait for that proof: its callers (the bridge)
 * verify the sidecar first (see `verifySidecar`).
 */
import { Client, type ClientDuplexStream, credentials, Metadata, type ServiceError, status } from "@grpc/grpc-js";
import {
  AUTHORIZATION_KEY,
  bearer,
  isServerProof,
  newChallenge,
  readSecretFile,
  SidecarAuthError,
} from "../auth/sidecar-secret.ts";
import { OrchardError } from "../errors.ts";
import {
  type FeatureRow,
  inputSchema,
  makeInputBatch,
  makePathInputBatch,
  pathInputSchema,
  readOutputTable,
} from "./feature-schema.ts";
import { FlightBatchEncoder, FlightStreamDecoder } from "./ipc.ts";
import { DescriptorType, type FlightData } from "./messages.ts";
import { doActionMethod, doExchangeMethod, listActionsMethod } from "./service.ts";

/** The sidecar could not be reached, or a call to it failed. */
export class FlightCallError extends OrchardError {
  /** The gRPC status code, when the server answered. */
  readonly code: number | null;

  constructor(message: string, code: number | null, cause?: unknown) {
    super(code === status.UNAVAILABLE || code === status.DEADLINE_EXCEEDED ? "connection" : "server", {
      message,
      cause,
    });
    this.code = code;
  }
}

function callError(what: string, err: unknown): FlightCallError {
  const se = err as Partial<ServiceError>;
  const code = typeof se.code === "number" ? se.code : null;
  return new FlightCallError(`${what}: ${se.details || se.message || String(err)}`, code, err);
}

const EMPTY = new Uint8Array(0);
const decoder = new TextDecoder();

/** Client options. */
export interface FlightClientOptions {
  /** Largest message either way, in bytes (default 256 MiB). */
  maxMessageBytes?: number;
  /**
   * HTTP/2 keepalive: while a call is open, a PING is sent after this long without traffic
   * (default {@link FLIGHT_KEEPALIVE_MS}); 0 turns keepalive off.
   */
  keepaliveMs?: number;
  /** How long a keepalive PING may go unanswered before the connection and its calls fail with UNAVAILABLE (default {@link FLIGHT_KEEPALIVE_TIMEOUT_MS}). */
  keepaliveTimeoutMs?: number;
  /** The sidecar's secret file (0600, `sidecar-<port>.secret`), read at each call that needs it. */
  secretFile?: string;
  /** The secret itself (tests); `secretFile` wins when both are given. */
  secret?: string;
}

/**
 * Default keepalive interval of a Flight client. With {@link FLIGHT_KEEPALIVE_TIMEOUT_MS}, a peer
 * that stops answering (a stopped or hung process, a half-open connection) fails the open calls
 * within 20 s, where TCP alone would wait for ever.
 */
export const FLIGHT_KEEPALIVE_MS = 10_000;
/** Default time a keepalive PING may stay unanswered. */
export const FLIGHT_KEEPALIVE_TIMEOUT_MS = 10_000;

/** A connection to one Flight server at `host:port` (plaintext, meant for loopback). */
export class FlightClient {
  private readonly client: Client;
  private readonly options: FlightClientOptions;
  /** The server's proof of the secret, once asked for (cleared when a call fails). */
  private proven: Promise<void> | null = null;

  constructor(
    readonly address: string,
    options: FlightClientOptions = {},
  ) {
    this.options = options;
    const max = options.maxMessageBytes ?? 256 * 1024 * 1024;
    const keepalive = options.keepaliveMs ?? FLIGHT_KEEPALIVE_MS;
    this.client = new Client(address, credentials.createInsecure(), {
      "grpc.max_receive_message_length": max,
      "grpc.max_send_message_length": max,
      ...(keepalive > 0
        ? {
            "grpc.keepalive_time_ms": keepalive,
            "grpc.keepalive_timeout_ms": options.keepaliveTimeoutMs ?? FLIGHT_KEEPALIVE_TIMEOUT_MS,
          }
        : {}),
    });
  }

  /** The secret, when this client has one (throws when its file cannot be read). */
  private secret(): string | undefined {
    const { secretFile, secret } = this.options;
    return secretFile !== undefined ? readSecretFile(secretFile) : secret;
  }

  /** Call metadata: the secret, when this client has one. */
  private metadata(secret = this.secret()): Metadata {
    const metadata = new Metadata();
    if (secret !== undefined) metadata.set(AUTHORIZATION_KEY, bearer(secret));
    return metadata;
  }

  /** Resolves once the server has answered a fresh challenge with the secret's proof (asked once per client). */
  proveServer(timeoutMs?: number): Promise<void> {
    const secret = this.secret();
    if (secret === undefined) return Promise.resolve();
    this.proven ??= (async () => {
      const challenge = newChallenge();
      const bodies = await this.call("health", new TextEncoder().encode(challenge), new Metadata(), timeoutMs);
      let proof: unknown;
      try {
        proof = bodies[0] ? (JSON.parse(decoder.decode(bodies[0])) as { proof?: unknown }).proof : undefined;
      } catch {
        proof = undefined;
      }
      if (!isServerProof(proof, secret, challenge)) {
        throw new SidecarAuthError(
          `the server at ${this.address} did not prove that it knows the sidecar's secret` +
            `${this.options.secretFile ? ` (${this.options.secretFile})` : ""}: it is not the sidecar orchard started ` +
            "there (another process on the port?); nothing is sent to it",
        );
      }
    })();
    this.proven.catch(() => {
      this.proven = null;
    });
    return this.proven;
  }

  /** Runs `DoAction(type)` and returns every result body (`health` is sent without the secret). */
  async doAction(type: string, options: { body?: Uint8Array; timeoutMs?: number } = {}): Promise<Uint8Array[]> {
    if (type === "health") return this.call(type, options.body ?? EMPTY, new Metadata(), options.timeoutMs);
    await this.proveServer(options.timeoutMs);
    return this.call(type, options.body ?? EMPTY, this.metadata(), options.timeoutMs).catch((err: unknown) => {
      this.proven = null;
      throw err;
    });
  }

  private call(type: string, body: Uint8Array, metadata: Metadata, timeoutMs?: number): Promise<Uint8Array[]> {
    const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    return new Promise((resolve, reject) => {
      const bodies: Uint8Array[] = [];
      const call = this.client.makeServerStreamRequest(
        doActionMethod.path,
        doActionMethod.requestSerialize,
        doActionMethod.responseDeserialize,
        { type, body },
        metadata,
        deadline === undefined ? {} : { deadline },
      );
      call.on("data", (r: { body: Uint8Array }) => bodies.push(r.body));
      call.on("error", (err) => reject(callError(`DoAction(${type}) on ${this.address}`, err)));
      call.on("end", () => resolve(bodies));
    });
  }

  /** Runs `DoAction(type)` and parses its single result as JSON. */
  async actionJson<T>(type: string, timeoutMs?: number, body?: Uint8Array): Promise<T> {
    const bodies = await this.doAction(type, {
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
      ...(body === undefined ? {} : { body }),
    });
    const first = bodies[0];
    if (!first) throw new FlightCallError(`DoAction(${type}) on ${this.address} returned no result`, null);
    return JSON.parse(decoder.decode(first)) as T;
  }

  /** Runs `ListActions`. */
  async listActions(timeoutMs?: number): Promise<{ type: string; description: string }[]> {
    await this.proveServer(timeoutMs);
    const metadata = this.metadata();
    const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    return new Promise((resolve, reject) => {
      const out: { type: string; description: string }[] = [];
      const call = this.client.makeServerStreamRequest(
        listActionsMethod.path,
        listActionsMethod.requestSerialize,
        listActionsMethod.responseDeserialize,
        {},
        metadata,
        deadline === undefined ? {} : { deadline },
      );
      call.on("data", (t: { type: string; description: string }) => out.push(t));
      call.on("error", (err) => reject(callError(`ListActions on ${this.address}`, err)));
      call.on("end", () => resolve(out));
    });
  }

  /** Opens a raw `DoExchange` stream (with the secret; throws when its file cannot be read). */
  rawExchange(): ClientDuplexStream<FlightData, FlightData> {
    return this.client.makeBidiStreamRequest(
      doExchangeMethod.path,
      doExchangeMethod.requestSerialize,
      doExchangeMethod.responseDeserialize,
      this.metadata(),
    );
  }

  /**
   * Opens a featurizing exchange. With `readRoots` (`file:` folders), it is one of the path
   * transport: `sendPaths` sends `file:` URIs under those folders and the sidecar reads the files.
   */
  featureExchange(options: { readRoots?: readonly string[] } = {}): FeatureExchange {
    return new FeatureExchange(this.rawExchange(), this.address, options.readRoots ?? null);
  }

  close(): void {
    this.client.close();
  }
}

/**
 * A featurizing `DoExchange`: `send()` batches (`sendPaths()` for an exchange opened with read
 * roots), then read `batches()` (one output batch per input batch, in order); `end()`
 * half-closes. Writes respect gRPC flow control (`send` resolves when the message is handed to
 * the transport).
 */
export class FeatureExchange {
  private readonly encoder = new FlightBatchEncoder();
  private started = false;

  constructor(
    private readonly call: ClientDuplexStream<FlightData, FlightData>,
    private readonly address: string,
    /** The path transport's read roots (null: the images' bytes are sent). */
    private readonly readRoots: readonly string[] | null = null,
  ) {}

  /** The first message: the schema, with a descriptor that carries the read roots of the path transport. */
  private schemaMessage(): FlightData {
    const schema = this.encoder.schema(this.readRoots === null ? inputSchema : pathInputSchema);
    const cmd =
      this.readRoots === null ? EMPTY : new TextEncoder().encode(JSON.stringify({ readRoots: this.readRoots }));
    return { ...schema, flightDescriptor: { type: DescriptorType.CMD, cmd, path: [] } };
  }

  private writeMessage(message: FlightData): Promise<void> {
    return new Promise((resolve, reject) => {
      this.call.write(message, (err: unknown) => (err ? reject(callError("DoExchange write", err)) : resolve()));
    });
  }

  private async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.writeMessage(this.schemaMessage());
  }

  /** Sends one batch of rows. */
  async send(ids: ReadonlyArray<string | null>, contents: ReadonlyArray<Uint8Array | null>): Promise<void> {
    if (this.readRoots !== null) throw new FlightCallError("this exchange sends paths (sendPaths), not bytes", null);
    await this.start();
    await this.writeMessage(this.encoder.batch(makeInputBatch(ids, contents)));
  }

  /** Sends one batch of `file:` URIs (an exchange opened with read roots); the sidecar reads the files. */
  async sendPaths(ids: ReadonlyArray<string | null>, paths: ReadonlyArray<string | null>): Promise<void> {
    if (this.readRoots === null) throw new FlightCallError("this exchange sends bytes (send), not paths", null);
    await this.start();
    await this.writeMessage(this.encoder.batch(makePathInputBatch(ids, paths)));
  }

  /** Half-closes the request side (sending the schema first if no batch was sent). */
  end(): void {
    if (!this.started) {
      this.started = true;
      this.call.write(this.schemaMessage());
    }
    this.call.end();
  }

  /** Cancels the call. */
  cancel(): void {
    this.call.cancel();
  }

  /** The output batches, in order; throws a `FlightCallError` if the call fails. */
  async *batches(): AsyncGenerator<FeatureRow[]> {
    const decoder = new FlightStreamDecoder();
    try {
      for await (const data of this.call as AsyncIterable<FlightData>) {
        const decoded = decoder.push(data);
        if (decoded.kind === "batch") yield readOutputTable(decoded.table);
      }
    } catch (err) {
      if (err instanceof OrchardError) throw err;
      throw callError(`DoExchange on ${this.address}`, err);
    }
  }
}
