import { create } from "@bufbuild/protobuf";
import * as pb from "#connect-proto";
import type { SparkConnectClient } from "./client.ts";
import { PlanError } from "./errors.ts";
import { registerRuntimeConfigAccess } from "./internal.ts";

function op(opType: pb.ConfigRequest_Operation["opType"]): pb.ConfigRequest_Operation {
  return create(pb.ConfigRequest_OperationSchema, { opType });
}

/**
 * The session's runtime SQL configuration, read and written on the server with the Config RPC.
 * PySpark equivalent: `spark.conf` (`RuntimeConfig`); here every method is async.
 */
export class RuntimeConfig {
  readonly #client: SparkConnectClient;

  static {
    registerRuntimeConfigAccess({ create: (client) => new RuntimeConfig(client) });
  }

  private constructor(client: SparkConnectClient) {
    this.#client = client;
  }

  /**
   * The value of `key`. Without a default, an unset key with no server default rejects with
   * a SparkServerError (`SQL_CONF_NOT_FOUND`), as in PySpark; with a default (even `null`),
   * that default is returned instead.
   */
  async get(key: string): Promise<string>;
  async get(key: string, defaultValue: string): Promise<string>;
  async get(key: string, defaultValue: null): Promise<string | null>;
  async get(key: string, defaultValue?: string | null): Promise<string | null> {
    if (defaultValue === undefined) {
      const res = await this.#client.config(
        op({ case: "get", value: create(pb.ConfigRequest_GetSchema, { keys: [key] }) }),
      );
      return res.pairs[0]?.value ?? "";
    }
    if (defaultValue === null) {
      const res = await this.#client.config(
        op({ case: "getOption", value: create(pb.ConfigRequest_GetOptionSchema, { keys: [key] }) }),
      );
      return res.pairs[0]?.value ?? null;
    }
    const res = await this.#client.config(
      op({
        case: "getWithDefault",
        value: create(pb.ConfigRequest_GetWithDefaultSchema, {
          pairs: [create(pb.KeyValueSchema, { key, value: defaultValue })],
        }),
      }),
    );
    return res.pairs[0]?.value ?? defaultValue;
  }

  /** Sets `key` (values are sent as strings: booleans/numbers/bigints are rendered). PySpark: `spark.conf.set`. */
  async set(key: string, value: string | number | bigint | boolean): Promise<void> {
    if (typeof value === "number" && !Number.isFinite(value)) {
      throw new PlanError({ message: `spark.conf.set(${key}) needs a finite number, got ${value}` });
    }
    await this.#client.config(
      op({
        case: "set",
        value: create(pb.ConfigRequest_SetSchema, {
          pairs: [create(pb.KeyValueSchema, { key, value: String(value) })],
        }),
      }),
    );
  }

  /** Resets `key` to its default. PySpark: `spark.conf.unset`. */
  async unset(key: string): Promise<void> {
    await this.#client.config(op({ case: "unset", value: create(pb.ConfigRequest_UnsetSchema, { keys: [key] }) }));
  }

  /**
   * Every explicitly set configuration, optionally only keys starting with `prefix`. Keys are
   * always full names (the server answers a prefixed query with the prefix stripped; it is put
   * back here). PySpark: `spark.conf.getAll`.
   */
  async getAll(prefix?: string): Promise<Record<string, string>> {
    const res = await this.#client.config(
      op({ case: "getAll", value: create(pb.ConfigRequest_GetAllSchema, prefix === undefined ? {} : { prefix }) }),
    );
    const out: Record<string, string> = {};
    for (const kv of res.pairs) if (kv.value !== undefined) out[`${prefix ?? ""}${kv.key}`] = kv.value;
    return out;
  }

  /** Whether `key` can be changed at runtime. PySpark: `spark.conf.isModifiable`. */
  async isModifiable(key: string): Promise<boolean> {
    const res = await this.#client.config(
      op({ case: "isModifiable", value: create(pb.ConfigRequest_IsModifiableSchema, { keys: [key] }) }),
    );
    return res.pairs[0]?.value === "true";
  }
}
