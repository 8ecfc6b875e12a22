import { deleteModels, writeModel } from "../connect/ml-operations.ts";
import type { SparkSession } from "../connect/spark-session.ts";
import { toMlParams } from "./ml-params.ts";

/**
 * What every fitted model held by the Spark Connect server shares: its object id in the session's
 * ML cache, its params, saving in Spark ML's format and freeing it. PySpark: a `JavaModel` in
 * Connect mode (freed there when the Python object is garbage-collected; here by {@link close},
 * or `await using`).
 */
export abstract class RemoteModel<P extends object> {
  readonly sparkSession: SparkSession;
  /** Server-side object id. */
  readonly ref: string;
  readonly uid: string;
  readonly params: Readonly<P>;
  #closed = false;

  constructor(session: SparkSession, ref: string, uid: string, params: Readonly<P>) {
    this.sparkSession = session;
    this.ref = ref;
    this.uid = uid;
    this.params = params;
  }

  /**
   * Saves in Spark ML's format at any URI the server can write (`file://`, `s3a://`); the same
   * class's `load` in orchard or PySpark reads it. PySpark: `model.write().save(path)`
   * (`.overwrite()` with `overwrite: true`).
   */
  async save(path: string, { overwrite = false }: { overwrite?: boolean } = {}): Promise<void> {
    await writeModel(this.sparkSession, this.ref, { path, params: toMlParams(this.params), overwrite });
  }

  /** Frees the server-side model. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await deleteModels(this.sparkSession, [this.ref]);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
