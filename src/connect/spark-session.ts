import { randomUUID } from "node:crypto";
import { userInfo } from "node:os";
import { create } from "@bufbuild/protobuf";
import type * as arrow from "apache-arrow";
import * as pb from "#connect-proto";
import type { LocalSchema } from "./arrow/type-inference.ts";
import { type ClientSettings, SparkConnectClient } from "./client.ts";
import type { ColumnOrValue } from "./column.ts";
import { DEFAULT_REMOTE, type FallbackToken, parseConnectionUrl, tokenFromEnv } from "./connection-url.ts";
import { DataFrame } from "./data-frame.ts";
import { DataFrameReader } from "./data-frame-reader.ts";
import type { StructType } from "./data-types.ts";
import { PlanError } from "./errors.ts";
import { dataFrameFrom, registerSparkSessionAccess, runtimeConfigFrom } from "./internal.ts";
import { DEFAULT_KEEPALIVE, type KeepalivePolicy } from "./keepalive.ts";
import { type LocalData, planLocalRelation } from "./local-relation.ts";
import { DEFAULT_RETRY, type RetryPolicy } from "./retry-policy.ts";
import type { RuntimeConfig } from "./runtime-config.ts";
import { resolveTls, TLS_ENV, type TlsMaterial, type TlsOptions, tlsFromEnv } from "./tls-options.ts";
// Evaluated for its registration with internal.ts: the constructor builds `conf` through it.
import "./runtime-config.ts";

const CLIENT_VERSION = "0.1.0";

/**
 * Builds a SparkSession. PySpark equivalent: `SparkSession.builder`.
 *
 * ```ts
 * const spark = SparkSession.builder.remote("sc://localhost:15002").config("spark.sql.shuffle.partitions", 4).getOrCreate();
 * ```
 *
 * `getOrCreate()` is synchronous and makes no RPC; the first action connects. The URL is the
 * one given to `remote()`, else the `SPARK_REMOTE` environment variable, else
 * `sc://localhost:15002`. The bearer token is the URL's `token=`, else the one given to `.token()`,
 * else `SPARK_CONNECT_TOKEN`, else `SPARK_CONNECT_AUTHENTICATE_TOKEN` (Spark's own clients' variable),
 * so it need not be on a command line. With TLS (`use_ssl=true` or `.tls()`), the CA and client certificate
 * are those of `.tls()`, else `ORCHARD_SPARK_CA` / `ORCHARD_SPARK_CERT` / `ORCHARD_SPARK_KEY` —
 * the builder is the library's edge, the only place that reads the environment.
 */
export class SparkSessionBuilder {
  private url: string | undefined;
  private readonly confs = new Map<string, string>();
  private retry: RetryPolicy = DEFAULT_RETRY;
  private keepaliveSetting: KeepalivePolicy = DEFAULT_KEEPALIVE;
  private tlsOptions: TlsOptions | undefined;
  /** A true private field: inspecting the builder never shows the token. */
  #token: FallbackToken | undefined;

  /** The Spark Connect URL, `sc://host:port/;token=...;use_ssl=true;user_id=...;session_id=...`. */
  remote(url: string): this {
    this.url = url;
    return this;
  }

  /** A runtime SQL config applied when the session first talks to the server. */
  config(key: string, value: string | number | boolean): this;
  config(pairs: Record<string, string | number | boolean>): this;
  config(keyOrPairs: string | Record<string, string | number | boolean>, value?: string | number | boolean): this {
    if (typeof keyOrPairs === "string") {
      if (value === undefined) throw new PlanError({ message: `builder.config(${keyOrPairs}) needs a value` });
      this.confs.set(keyOrPairs, String(value));
    } else for (const [k, v] of Object.entries(keyOrPairs)) this.confs.set(k, String(v));
    return this;
  }

  /** `spark.app.name`. PySpark: `builder.appName`. */
  appName(name: string): this {
    return this.config("spark.app.name", name);
  }

  /** Transient-failure retry policy (UNAVAILABLE, dropped streams); default 6 retries, 100 ms .. 5 s. */
  retryPolicy(policy: Partial<RetryPolicy>): this {
    this.retry = { ...this.retry, ...policy };
    return this;
  }

  /**
   * HTTP/2 keepalive of the channel: PING after `timeMs` of quiet on an open call, fail the
   * connection when it has no answer within `timeoutMs` (default 60 s / 20 s; `timeMs: 0` turns
   * it off). PySpark: the `grpc.keepalive_time_ms` / `grpc.keepalive_timeout_ms` channel options.
   */
  keepalive(policy: Partial<KeepalivePolicy>): this {
    this.keepaliveSetting = { ...this.keepaliveSetting, ...policy };
    return this;
  }

  /**
   * TLS for the channel, with a custom CA and, for mutual TLS, a client certificate and key:
   * each PEM text or a PEM file's path (see `TlsOptions`). Turns TLS on, as `use_ssl=true`
   * does; what is not given here comes from `ORCHARD_SPARK_CA` / `_CERT` / `_KEY`. Files are
   * read and checked when the session is created (a `ConfigError` naming `tls.ca`, `tls.cert`
   * or `tls.key` otherwise). The bearer token stays the URL's `token=`.
   *
   * ```ts
   * SparkSession.builder.remote("sc://emr-primary:15002/;use_ssl=true;token=...").tls({ ca: "/etc/orchard/ca.pem" })
   * ```
   */
  tls(options: TlsOptions = {}): this {
    this.tlsOptions = { ...this.tlsOptions, ...options };
    return this;
  }

  /**
   * The bearer token to send when the URL has no `token=` (the URL's wins), e.g. one read from a
   * file: it then need not be in the URL, the environment or a command line. `source` names it
   * in messages (never the value). PySpark equivalent: the URL's `token=` parameter.
   */
  token(token: string, source = "builder.token()"): this {
    this.#token = token ? { token, source } : undefined;
    return this;
  }

  private resolveToken(): FallbackToken | undefined {
    return this.#token ?? tokenFromEnv(process.env);
  }

  private resolveUrl(): string {
    return this.url ?? process.env.SPARK_REMOTE ?? DEFAULT_REMOTE;
  }

  /** `.tls()` values over the environment's; messages name the variable a value came from. */
  private resolveTlsMaterial(): TlsMaterial {
    const fromEnv = tlsFromEnv(process.env);
    const given = this.tlsOptions ?? {};
    const merged: { ca?: string | Uint8Array; cert?: string | Uint8Array; key?: string | Uint8Array } = {};
    const labels: Partial<Record<keyof TlsOptions, string>> = {};
    for (const part of ["ca", "cert", "key"] as const) {
      const value = given[part] ?? fromEnv[part];
      if (value === undefined) continue;
      merged[part] = value;
      if (given[part] === undefined) labels[part] = TLS_ENV[part];
    }
    return resolveTls(merged, labels);
  }

  /** The active session for the same URL if there is one, otherwise a new session. */
  getOrCreate(): SparkSession {
    const url = this.resolveUrl();
    const active = SparkSession.active;
    if (active !== undefined && !active.isStopped && active.builtFrom(url, this.resolveToken()?.token)) {
      active.applyBuilderConf(this.confs);
      return active;
    }
    return this.create();
  }

  /** Always a new session (new session id unless the URL names one). PySpark: `builder.create()`. */
  create(): SparkSession {
    const url = this.resolveUrl();
    const fallbackToken = this.resolveToken();
    const conn = parseConnectionUrl(url, {
      tls: this.tlsOptions !== undefined,
      ...(fallbackToken ? { fallbackToken } : {}),
    });
    const tls = conn.useSsl ? this.resolveTlsMaterial() : undefined;
    let userId = conn.userId;
    if (userId === undefined) {
      try {
        userId = userInfo().username;
      } catch {
        userId = "orchard";
      }
    }
    const settings: ClientSettings = {
      url: conn,
      sessionId: conn.sessionId ?? randomUUID(),
      userId,
      clientType:
        conn.userAgent ??
        `orchard/${CLIENT_VERSION} spark-connect-ts node/${process.versions.node} os/${process.platform}`,
      retry: this.retry,
      keepalive: this.keepaliveSetting,
      ...(tls ? { tls } : {}),
    };
    const session = openSession(new SparkConnectClient(settings), url, fallbackToken?.token);
    session.applyBuilderConf(this.confs);
    SparkSession.active = session;
    return session;
  }
}

/** A session over `client`; set by SparkSession's static block (its constructor is private). */
let openSession: (client: SparkConnectClient, remoteUrl: string, token: string | undefined) => SparkSession;

/**
 * The entry point: a Spark Connect session on a remote Spark server. PySpark equivalent:
 * `pyspark.sql.connect.session.SparkSession`. Transformations are synchronous; everything that
 * talks to the server (`version()`, `conf.*`, DataFrame actions, `stop()`) is async.
 */
export class SparkSession {
  /** The most recently created session (PySpark: `SparkSession.getActiveSession()`). */
  static active: SparkSession | undefined;

  /** A new builder. */
  static get builder(): SparkSessionBuilder {
    return new SparkSessionBuilder();
  }

  readonly #client: SparkConnectClient;
  /** The session's runtime configuration. PySpark: `spark.conf`. */
  readonly conf: RuntimeConfig;
  /** The URL the session was built from, with any token redacted. */
  readonly remoteUrl: string;
  /** The URL as given (may hold a token): a true private field, never shown by inspection or logs. */
  readonly #remote: string;
  /** The token that came from elsewhere than the URL (`.token()`, the environment), if any; private too. */
  readonly #fallbackToken: string | undefined;
  private planIds = 0n;
  private stopped = false;

  static {
    openSession = (client, remoteUrl, token) => new SparkSession(client, remoteUrl, token);
    registerSparkSessionAccess({ clientOf: (session) => session.#client });
  }

  private constructor(client: SparkConnectClient, remoteUrl: string, fallbackToken: string | undefined) {
    this.#client = client;
    this.#remote = remoteUrl;
    this.#fallbackToken = fallbackToken;
    this.remoteUrl = client.displayUrl;
    this.conf = runtimeConfigFrom(client);
  }

  /** @internal True when this session was built from exactly this URL (and this token from elsewhere). */
  builtFrom(url: string, fallbackToken?: string): boolean {
    return this.#remote === url && this.#fallbackToken === fallbackToken;
  }

  /** The client-side session id (a UUID unless the URL names one). PySpark: `spark.session_id`. */
  get sessionId(): string {
    return this.#client.sessionId;
  }

  /** The user id sent with every request (the URL's `user_id`, else the OS user). PySpark: `spark.client._user_id`. */
  get userId(): string {
    return this.#client.userId;
  }

  /** True once `stop()` was called. */
  get isStopped(): boolean {
    return this.stopped;
  }

  /** @internal Builder configs, sent before the first RPC. */
  applyBuilderConf(confs: ReadonlyMap<string, string>): void {
    if (confs.size > 0) this.#client.queueConfig(confs);
  }

  /** The next plan id of this session (ids tag plan nodes so column references can name them). */
  nextPlanId(): bigint {
    const id = this.planIds;
    this.planIds += 1n;
    return id;
  }

  /** The server's Spark version, e.g. `4.1.1`. PySpark: `spark.version`. */
  async version(): Promise<string> {
    const res = await this.#client.analyze({
      case: "sparkVersion",
      value: create(pb.AnalyzePlanRequest_SparkVersionSchema),
    });
    if (res.result.case !== "sparkVersion") throw new PlanError({ message: "the server's answer holds no version" });
    return res.result.value.version;
  }

  /** Reads data sources. PySpark: `spark.read`. */
  get read(): DataFrameReader {
    return new DataFrameReader(this);
  }

  /**
   * A DataFrame over a SQL query; `args` binds `:name` (object) or `?` (array) parameters.
   * Lazy: the query (DDL included) runs at the first action. PySpark: `spark.sql`.
   */
  sql(query: string, args?: Record<string, unknown> | unknown[]): DataFrame {
    return DataFrame.fromSql(this, query, args as Record<string, ColumnOrValue> | ColumnOrValue[] | undefined);
  }

  /** One `id` bigint column; `range(n)` is 0..n-1. PySpark: `spark.range`. */
  range(start: number | bigint, end?: number | bigint, step?: number | bigint, numPartitions?: number): DataFrame {
    return DataFrame.fromRange(this, start, end, step, numPartitions);
  }

  /** A table or view by name. PySpark: `spark.table`. */
  table(name: string): DataFrame {
    return dataFrameFrom(
      this,
      create(pb.RelationSchema, {
        relType: {
          case: "read",
          value: create(pb.ReadSchema, {
            readType: { case: "namedTable", value: create(pb.Read_NamedTableSchema, { unparsedIdentifier: name }) },
          }),
        },
      }),
    );
  }

  /**
   * A DataFrame from local data: plain objects (keys are columns), arrays (positional, columns
   * `_1`, `_2`, ... unless named), Rows, or an Apache Arrow table. `schema` is a StructType, a
   * DDL string (`"id bigint, name string"`) or column names; without types, each column gets the
   * narrowest exact Spark type of its values (see docs/types.md). Sent as an Arrow IPC
   * `LocalRelation`; above 32 MiB of Arrow, as artifacts uploaded before the next RPC and a
   * `ChunkedCachedLocalRelation` (see `planLocalRelation`). PySpark: `spark.createDataFrame`.
   */
  createDataFrame(
    data: Record<string, unknown>[] | unknown[][] | arrow.Table,
    schema?: StructType | string | string[],
  ): DataFrame {
    const local = planLocalRelation(data as LocalData, schema as LocalSchema | undefined);
    if (local.artifacts.length > 0) this.#client.queueArtifacts(local.artifacts);
    return dataFrameFrom(this, create(pb.RelationSchema, { relType: local.relType }));
  }

  /** Interrupts every running operation of the session. PySpark: `spark.interruptAll()`. */
  interruptAll(): Promise<string[]> {
    return this.#client.interruptAll();
  }

  /** Interrupts the operations tagged `tag` (see ExecuteOptions.tags). PySpark: `spark.interruptTag`. */
  interruptTag(tag: string): Promise<string[]> {
    return this.#client.interruptTag(tag);
  }

  /** Interrupts one operation. PySpark: `spark.interruptOperation`. */
  interruptOperation(operationId: string): Promise<string[]> {
    return this.#client.interruptOperation(operationId);
  }

  /** Releases the server session (ReleaseSession) and closes the channel. Idempotent. PySpark: `spark.stop()`. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (SparkSession.active === this) SparkSession.active = undefined;
    await this.#client.close();
  }
}
