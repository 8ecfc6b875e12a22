import { randomUUID } from "node:crypto";
import { create, type DescMessage, fromBinary, type MessageShape, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import type * as arrow from "apache-arrow";
import * as pb from "#connect-proto";
import { decodeArrowBatch } from "./arrow/arrow-batch.ts";
import { uploadArtifacts } from "./artifact-upload.ts";
import { type ConnectionUrl, renderConnectionUrl } from "./connection-url.ts";
import { fromProtoDataType } from "./data-type-proto.ts";
import { InterruptedError, PlanError, ProtocolError, SparkConnectionError } from "./errors.ts";
import type { ExecuteOptions } from "./execute-options.ts";
import { type ExecuteRpc, ReattachableExecution } from "./execution.ts";
import { isServiceError, toOrchardError, transportProblem } from "./grpc-errors.ts";
import { DEFAULT_KEEPALIVE, type KeepalivePolicy, keepaliveChannelOptions } from "./keepalive.ts";
import type { LocalArtifact } from "./local-relation.ts";
import { toExecutionProgress } from "./progress-proto.ts";
import { backoff, type RetryPolicy } from "./retry-policy.ts";
import type { TlsMaterial } from "./tls-options.ts";

/** What a command produced: non-Arrow results, any Arrow batches, and the result schema if sent. */
export interface CommandOutcome {
  responses: pb.ExecutePlanResponse[];
  batches: arrow.RecordBatch[];
  schema?: pb.DataType;
}

/** Connection settings derived from the URL and the session builder. */
export interface ClientSettings {
  url: ConnectionUrl;
  sessionId: string;
  userId: string;
  clientType: string;
  retry: RetryPolicy;
  /** HTTP/2 keepalive of the channel (default `DEFAULT_KEEPALIVE`: 60 s, 20 s to answer). */
  keepalive?: KeepalivePolicy;
  /** CA and client certificate for a TLS channel (`url.useSsl`); the system roots when absent. */
  tls?: TlsMaterial;
}

const SERVICE = pb.SparkConnectService.typeName;
const MAX_MESSAGE = 512 * 1024 * 1024;
const FLOW_CONTROL_WINDOW = 8 * 1024 * 1024;

type Method = keyof typeof pb.SparkConnectService.method;

/**
 * The gRPC transport to one Spark Connect server for one session: every RPC of
 * `SparkConnectService`, with the session id, user context, client type, bearer token and
 * extra URL headers attached. Actions go through `ReattachableExecution` (reattach, release,
 * interrupt, progress). PySpark equivalent: `pyspark.sql.connect.client.SparkConnectClient`.
 */
export class SparkConnectClient {
  readonly sessionId: string;
  readonly userId: string;
  /** The URL with the token redacted; safe for messages and logs. */
  readonly displayUrl: string;
  readonly retry: RetryPolicy;
  /** The channel's TLS (undefined for plaintext), for error messages; no key material. */
  readonly tls: { readonly clientCertificate: boolean } | undefined;
  private readonly settings: ClientSettings;
  /** Kept in a true private field (and out of `settings`) so inspecting or logging the client never shows it. */
  readonly #token: string | undefined;
  private readonly channel: grpc.Client;
  private serverSideSessionId: string | undefined;
  private closed = false;
  private pendingConf = new Map<string, string>();
  private pendingArtifacts = new Map<string, Uint8Array>();
  private initChain: Promise<void> = Promise.resolve();

  constructor(settings: ClientSettings) {
    this.#token = settings.url.token;
    // Neither the token nor the TLS key is kept where inspecting the client would show it.
    const { tls, ...rest } = settings;
    this.settings = { ...rest, url: { ...settings.url, token: undefined } };
    this.sessionId = settings.sessionId;
    this.userId = settings.userId;
    this.retry = settings.retry;
    this.displayUrl = renderConnectionUrl(settings.url);
    const { host, port, useSsl } = settings.url;
    this.tls = useSsl ? { clientCertificate: tls?.cert !== undefined } : undefined;
    const target = `${host.includes(":") ? `[${host}]` : host}:${port}`;
    const creds = useSsl
      ? grpc.credentials.createSsl(tls?.ca ?? null, tls?.key ?? null, tls?.cert ?? null)
      : grpc.credentials.createInsecure();
    this.channel = new grpc.Client(target, creds, {
      "grpc.max_receive_message_length": MAX_MESSAGE,
      "grpc.max_send_message_length": MAX_MESSAGE,
      "grpc.primary_user_agent": settings.clientType,
      "grpc.enable_retries": 0,
      // HTTP/2 window: the 64 KiB default stalls large Arrow results on window updates; 8 MiB
      // keeps throughput while still bounding what the server may send ahead of the consumer.
      "grpc-node.flow_control_window": FLOW_CONTROL_WINDOW,
      // A silent connection (half-open, a stalled proxy) fails instead of blocking for ever.
      ...keepaliveChannelOptions(settings.keepalive ?? DEFAULT_KEEPALIVE),
    });
  }

  private metadata(): grpc.Metadata {
    const md = new grpc.Metadata();
    const { headers } = this.settings.url;
    if (this.#token !== undefined) md.set("authorization", `Bearer ${this.#token}`);
    for (const [k, v] of Object.entries(headers)) md.set(k, v);
    return md;
  }

  private userContext(): pb.UserContext {
    return create(pb.UserContextSchema, { userId: this.userId, userName: this.userId });
  }

  /** Fields every request carries. */
  private common() {
    return {
      sessionId: this.sessionId,
      userContext: this.userContext(),
      clientType: this.settings.clientType,
      ...(this.serverSideSessionId !== undefined
        ? { clientObservedServerSideSessionId: this.serverSideSessionId }
        : {}),
    };
  }

  private observe(serverSideSessionId: string): void {
    if (serverSideSessionId !== "" && this.serverSideSessionId === undefined)
      this.serverSideSessionId = serverSideSessionId;
  }

  private path(method: Method): string {
    return `/${SERVICE}/${pb.SparkConnectService.method[method].name}`;
  }

  private ensureOpen(): void {
    if (this.closed) throw new SparkConnectionError({ url: this.displayUrl, detail: "the session was stopped" });
  }

  /** Runtime config to set before the next RPC (the builder's `.config(...)` pairs). */
  queueConfig(pairs: ReadonlyMap<string, string>): void {
    for (const [k, v] of pairs) this.pendingConf.set(k, v);
  }

  /** Session artifacts (e.g. `cache/<hash>` chunks of a big `createDataFrame`) to upload before the next RPC. */
  queueArtifacts(artifacts: readonly LocalArtifact[]): void {
    for (const a of artifacts) this.pendingArtifacts.set(a.name, a.data);
  }

  /** Sends queued config and artifacts, once, before the RPC that needs them. */
  private async ready(signal?: AbortSignal): Promise<void> {
    if (this.pendingConf.size > 0 || this.pendingArtifacts.size > 0) {
      const conf = this.pendingConf;
      const artifacts = this.pendingArtifacts;
      this.pendingConf = new Map();
      this.pendingArtifacts = new Map();
      this.initChain = this.initChain
        .catch(() => undefined)
        .then(async () => {
          try {
            if (conf.size > 0) {
              const op = create(pb.ConfigRequest_OperationSchema, {
                opType: {
                  case: "set",
                  value: create(pb.ConfigRequest_SetSchema, {
                    pairs: [...conf].map(([key, value]) => create(pb.KeyValueSchema, { key, value })),
                  }),
                },
              });
              const req = create(pb.ConfigRequestSchema, { ...this.common(), operation: op });
              await this.unaryRetrying("config", pb.ConfigRequestSchema, pb.ConfigResponseSchema, req, signal);
              conf.clear();
            }
            if (artifacts.size > 0) {
              await this.uploadArtifacts(artifacts);
              artifacts.clear();
            }
          } catch (e) {
            for (const [k, v] of conf) if (!this.pendingConf.has(k)) this.pendingConf.set(k, v);
            for (const [k, v] of artifacts) if (!this.pendingArtifacts.has(k)) this.pendingArtifacts.set(k, v);
            throw e;
          }
        });
    }
    await this.initChain;
  }

  /** AddArtifacts for the queued artifacts (see `uploadArtifacts`). */
  private uploadArtifacts(artifacts: ReadonlyMap<string, Uint8Array>): Promise<void> {
    return uploadArtifacts(
      {
        channel: this.channel,
        path: this.path("addArtifacts"),
        metadata: this.metadata(),
        sessionId: this.sessionId,
        userContext: this.userContext(),
        clientType: this.settings.clientType,
        convertError: (e) => this.convertError(e),
      },
      artifacts,
    );
  }

  /** One unary call, no retry. */
  private unaryOnce<I extends DescMessage, O extends DescMessage>(
    method: Method,
    inSchema: I,
    outSchema: O,
    req: MessageShape<I>,
    signal?: AbortSignal,
  ): Promise<MessageShape<O>> {
    return new Promise((resolve, reject) => {
      const call = this.channel.makeUnaryRequest(
        this.path(method),
        (m: MessageShape<I>) => Buffer.from(toBinary(inSchema, m)),
        (b: Buffer) => fromBinary(outSchema, b),
        req,
        this.metadata(),
        {},
        (err, res) => {
          signal?.removeEventListener("abort", onAbort);
          if (err) reject(err);
          else if (res === undefined) reject(new ProtocolError({ message: `${method} returned no response` }));
          else resolve(res);
        },
      );
      const onAbort = () => call.cancel();
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** A unary call with the transient-failure retry policy; errors converted to orchard errors. */
  async unary<I extends DescMessage, O extends DescMessage>(
    method: Method,
    inSchema: I,
    outSchema: O,
    req: MessageShape<I>,
    signal?: AbortSignal,
  ): Promise<MessageShape<O>> {
    this.ensureOpen();
    await this.ready(signal);
    return this.unaryRetrying(method, inSchema, outSchema, req, signal);
  }

  private async unaryRetrying<I extends DescMessage, O extends DescMessage>(
    method: Method,
    inSchema: I,
    outSchema: O,
    req: MessageShape<I>,
    signal?: AbortSignal,
  ): Promise<MessageShape<O>> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.unaryOnce(method, inSchema, outSchema, req, signal);
      } catch (e) {
        if (signal?.aborted) throw new InterruptedError({ message: `${method} was cancelled`, cause: e });
        // A certificate that does not verify stays so: only "nothing answered (yet)" is retried.
        const transient = isServiceError(e) && e.code === grpc.status.UNAVAILABLE && transportProblem(e) === undefined;
        if (transient && attempt < this.retry.maxRetries) {
          await backoff(this.retry, attempt, signal);
          continue;
        }
        throw await this.convertError(e);
      }
    }
  }

  /** Starts a raw ExecutePlan / ReattachExecute stream (used by ReattachableExecution). */
  readonly rpc: ExecuteRpc = {
    execute: (req) =>
      this.channel.makeServerStreamRequest(
        this.path("executePlan"),
        (m: pb.ExecutePlanRequest) => Buffer.from(toBinary(pb.ExecutePlanRequestSchema, m)),
        (b: Buffer) => this.decodeResponse(b),
        req,
        this.metadata(),
      ),
    reattach: (operationId, lastResponseId) =>
      this.channel.makeServerStreamRequest(
        this.path("reattachExecute"),
        (m: pb.ReattachExecuteRequest) => Buffer.from(toBinary(pb.ReattachExecuteRequestSchema, m)),
        (b: Buffer) => this.decodeResponse(b),
        create(pb.ReattachExecuteRequestSchema, {
          ...this.common(),
          operationId,
          ...(lastResponseId !== undefined ? { lastResponseId } : {}),
        }),
        this.metadata(),
      ),
    release: async (operationId, until) => {
      await this.unaryOnce(
        "releaseExecute",
        pb.ReleaseExecuteRequestSchema,
        pb.ReleaseExecuteResponseSchema,
        create(pb.ReleaseExecuteRequestSchema, {
          ...this.common(),
          operationId,
          release:
            until === undefined
              ? { case: "releaseAll", value: create(pb.ReleaseExecuteRequest_ReleaseAllSchema) }
              : {
                  case: "releaseUntil",
                  value: create(pb.ReleaseExecuteRequest_ReleaseUntilSchema, { responseId: until }),
                },
        }),
      );
    },
    interrupt: async (operationId) => (await this.interruptOperation(operationId)).includes(operationId),
    convertError: (e) => this.convertError(e),
  };

  private decodeResponse(b: Buffer): pb.ExecutePlanResponse {
    const r = fromBinary(pb.ExecutePlanResponseSchema, b);
    this.observe(r.serverSideSessionId);
    return r;
  }

  /**
   * Runs a plan as a reattachable operation and yields every response as it arrives
   * (progress updates go to `onProgress`, not here). Bounded memory: the next response is read
   * from the network only when the consumer asks for it.
   */
  async *execute(
    plan: pb.Plan,
    opts: ExecuteOptions = {},
    /** @internal Tests substitute a wrapper of the real RPCs (e.g. one that drops streams). */
    rpc: ExecuteRpc = this.rpc,
  ): AsyncGenerator<pb.ExecutePlanResponse> {
    this.ensureOpen();
    for (const tag of opts.tags ?? []) {
      if (tag === "" || tag.includes(",")) {
        throw new PlanError({ message: `operation tag ${JSON.stringify(tag)} must be non-empty and contain no ','` });
      }
    }
    await this.ready(opts.signal);
    const operationId = randomUUID();
    const request = create(pb.ExecutePlanRequestSchema, {
      ...this.common(),
      operationId,
      plan,
      tags: opts.tags ?? [],
      requestOptions: [
        create(pb.ExecutePlanRequest_RequestOptionSchema, {
          requestOption: { case: "reattachOptions", value: create(pb.ReattachOptionsSchema, { reattachable: true }) },
        }),
      ],
    });
    opts.onOperationId?.(operationId);
    const execution = new ReattachableExecution(rpc, request, this.retry, opts.signal, opts.onReattach);
    for await (const resp of execution) {
      if (resp.schema !== undefined && opts.onSchema !== undefined) opts.onSchema(fromProtoDataType(resp.schema));
      if (resp.responseType.case === "executionProgress") {
        opts.onProgress?.(toExecutionProgress(operationId, resp.responseType.value));
        continue;
      }
      yield resp;
    }
  }

  /**
   * Runs a relation plan and yields its Arrow record batches as they arrive, checking each
   * batch's row count (and start offset) against what the server announced.
   */
  async *executeArrow(plan: pb.Plan, opts: ExecuteOptions = {}): AsyncGenerator<arrow.RecordBatch> {
    let rows = 0n;
    for await (const resp of this.execute(plan, opts)) {
      if (resp.responseType.case !== "arrowBatch") continue;
      yield* decodeArrowBatch(resp.responseType.value, rows);
      rows += resp.responseType.value.rowCount;
    }
  }

  /** Runs a command to completion and gathers what it returned. */
  async executeCommand(command: pb.Command, opts: ExecuteOptions = {}): Promise<CommandOutcome> {
    const plan = create(pb.PlanSchema, { opType: { case: "command", value: command } });
    const outcome: CommandOutcome = { responses: [], batches: [] };
    let rows = 0n;
    for await (const resp of this.execute(plan, opts)) {
      if (resp.schema !== undefined) outcome.schema = resp.schema;
      const t = resp.responseType;
      if (t.case === "arrowBatch") {
        for (const b of decodeArrowBatch(t.value, rows)) outcome.batches.push(b);
        rows += t.value.rowCount;
      } else if (t.case !== "resultComplete" && t.case !== undefined) outcome.responses.push(resp);
    }
    return outcome;
  }

  /** AnalyzePlan (schema, explain, version, DDL parse, ...). */
  async analyze(analyze: pb.AnalyzePlanRequest["analyze"], signal?: AbortSignal): Promise<pb.AnalyzePlanResponse> {
    const res = await this.unary(
      "analyzePlan",
      pb.AnalyzePlanRequestSchema,
      pb.AnalyzePlanResponseSchema,
      create(pb.AnalyzePlanRequestSchema, { ...this.common(), analyze }),
      signal,
    );
    this.observe(res.serverSideSessionId);
    return res;
  }

  /** The Config RPC (spark.conf). */
  async config(operation: pb.ConfigRequest_Operation): Promise<pb.ConfigResponse> {
    const res = await this.unary(
      "config",
      pb.ConfigRequestSchema,
      pb.ConfigResponseSchema,
      create(pb.ConfigRequestSchema, { ...this.common(), operation }),
    );
    this.observe(res.serverSideSessionId);
    return res;
  }

  private async interrupt(
    interruptType: pb.InterruptRequest_InterruptType,
    interrupt: pb.InterruptRequest["interrupt"],
  ): Promise<string[]> {
    const res = await this.unary(
      "interrupt",
      pb.InterruptRequestSchema,
      pb.InterruptResponseSchema,
      create(pb.InterruptRequestSchema, { ...this.common(), interruptType, interrupt }),
    );
    return res.interruptedIds;
  }

  /** Interrupts every running operation of this session; returns the interrupted ids. PySpark: `spark.interruptAll()`. */
  interruptAll(): Promise<string[]> {
    return this.interrupt(pb.InterruptRequest_InterruptType.ALL, { case: undefined });
  }

  /** Interrupts one operation. PySpark: `spark.interruptOperation(id)`. */
  interruptOperation(operationId: string): Promise<string[]> {
    return this.interrupt(pb.InterruptRequest_InterruptType.OPERATION_ID, { case: "operationId", value: operationId });
  }

  /** Interrupts the operations carrying a tag. PySpark: `spark.interruptTag(tag)`. */
  interruptTag(tag: string): Promise<string[]> {
    return this.interrupt(pb.InterruptRequest_InterruptType.TAG, { case: "operationTag", value: tag });
  }

  /** FetchErrorDetails for an error id from a status' ErrorInfo. */
  async fetchErrorDetails(errorId: string): Promise<pb.FetchErrorDetailsResponse> {
    return this.unaryOnce(
      "fetchErrorDetails",
      pb.FetchErrorDetailsRequestSchema,
      pb.FetchErrorDetailsResponseSchema,
      create(pb.FetchErrorDetailsRequestSchema, { ...this.common(), errorId }),
    );
  }

  /** ReleaseSession, then closes the channel. Idempotent; an unreachable or refusing server is not an error here. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.unaryOnce(
        "releaseSession",
        pb.ReleaseSessionRequestSchema,
        pb.ReleaseSessionResponseSchema,
        create(pb.ReleaseSessionRequestSchema, {
          sessionId: this.sessionId,
          userContext: this.userContext(),
          clientType: this.settings.clientType,
        }),
      );
    } catch (e) {
      // A server that is gone, refuses the credentials, or was never reached (TLS, a proxy's
      // refusal) holds no session to release.
      const benign = [grpc.status.UNAVAILABLE, grpc.status.UNAUTHENTICATED, grpc.status.PERMISSION_DENIED];
      if (!(isServiceError(e) && (benign.includes(e.code) || transportProblem(e) !== undefined))) {
        throw await this.convertError(e);
      }
    } finally {
      this.closed = true;
      this.channel.close();
    }
  }

  /** Turns a gRPC failure into an orchard error (see `toOrchardError`). */
  convertError(e: unknown): Promise<Error> {
    return toOrchardError(e, this);
  }
}
