import { create } from "@bufbuild/protobuf";
import * as pb from "#connect-proto";
import type { ActionOptions, DataFrame } from "./data-frame.ts";
import { PlanError } from "./errors.ts";
import { clientOf, registerDataFrameWriterAccess, relationOf } from "./internal.ts";

/** Save modes, PySpark's spellings: `"error"`/`"errorifexists"` (the default), `"overwrite"`, `"append"`, `"ignore"`. */
export type SaveMode = "error" | "errorifexists" | "overwrite" | "append" | "ignore";

const Modes = pb.WriteOperation_SaveMode;
const SAVE_MODES: Record<SaveMode, pb.WriteOperation_SaveMode> = {
  error: Modes.ERROR_IF_EXISTS,
  errorifexists: Modes.ERROR_IF_EXISTS,
  overwrite: Modes.OVERWRITE,
  append: Modes.APPEND,
  ignore: Modes.IGNORE,
};

/** An option value; booleans and numbers are sent as their text (`true`, `4`), as PySpark does. */
export type OptionValue = string | number | boolean;

interface WriterState {
  source?: string;
  mode?: SaveMode;
  options: Record<string, string>;
  partitionBy: string[];
  sortBy: string[];
  bucketBy?: { numBuckets: number; columns: string[] };
}

/** Per-call settings of the shortcut writers (`parquet`, `csv`, `json`, ...). */
export interface WriteShortcutOptions {
  mode?: SaveMode;
  partitionBy?: string[];
  /** Extra data-source options (`compression`, `header`, ...). */
  options?: Record<string, OptionValue>;
}

/**
 * Saves a DataFrame (PySpark: `DataFrameWriter`, `df.write`). Immutable: every setter returns a new
 * writer; `save`, `parquet`, `csv`, `json`, `text`, `orc`, `saveAsTable`, `insertInto` run it.
 */
export class DataFrameWriter {
  readonly #df: DataFrame;
  readonly #state: WriterState;

  static {
    registerDataFrameWriterAccess({
      saveCommand: (w, path) => w.#saveCommand(path),
      tableCommand: (w, name, method) => w.#tableCommand(name, method),
    });
  }

  constructor(df: DataFrame, state: WriterState = { options: {}, partitionBy: [], sortBy: [] }) {
    this.#df = df;
    this.#state = state;
  }

  private with(change: Partial<WriterState>): DataFrameWriter {
    return new DataFrameWriter(this.#df, { ...this.#state, ...change });
  }

  /** The data source (`"parquet"`, `"csv"`, `"json"`, ...). */
  format(source: string): DataFrameWriter {
    return this.with({ source });
  }

  /** What to do when the target exists (PySpark `mode`). */
  mode(saveMode: SaveMode): DataFrameWriter {
    const mode = saveMode.toLowerCase() as SaveMode;
    if (SAVE_MODES[mode] === undefined) {
      throw new PlanError({
        message: `mode: unknown save mode ${JSON.stringify(saveMode)}; one of ${Object.keys(SAVE_MODES).join(", ")}`,
      });
    }
    return this.with({ mode });
  }

  /** One data-source option. */
  option(key: string, value: OptionValue): DataFrameWriter {
    return this.with({ options: { ...this.#state.options, [key]: String(value) } });
  }

  /** Several data-source options. */
  options(options: Record<string, OptionValue>): DataFrameWriter {
    const merged = { ...this.#state.options };
    for (const [k, v] of Object.entries(options)) merged[k] = String(v);
    return this.with({ options: merged });
  }

  /** Partitions the output folders by these columns (`col=value/`). */
  partitionBy(...cols: string[]): DataFrameWriter {
    return this.with({ partitionBy: cols });
  }

  /** Buckets the output (tables only). */
  bucketBy(numBuckets: number, ...cols: string[]): DataFrameWriter {
    return this.with({ bucketBy: { numBuckets, columns: cols } });
  }

  /** Sorts within buckets (tables only). */
  sortBy(...cols: string[]): DataFrameWriter {
    return this.with({ sortBy: cols });
  }

  #operation(target: pb.WriteOperation["saveType"]): pb.Command {
    const s = this.#state;
    return create(pb.CommandSchema, {
      commandType: {
        case: "writeOperation",
        value: create(pb.WriteOperationSchema, {
          input: relationOf(this.#df),
          source: s.source,
          saveType: target,
          mode: s.mode === undefined ? undefined : SAVE_MODES[s.mode],
          options: s.options,
          partitioningColumns: s.partitionBy,
          sortColumnNames: s.sortBy,
          bucketBy:
            s.bucketBy === undefined
              ? undefined
              : create(pb.WriteOperation_BucketBySchema, {
                  numBuckets: s.bucketBy.numBuckets,
                  bucketColumnNames: s.bucketBy.columns,
                }),
        }),
      },
    });
  }

  /** The command `save(path)` sends. */
  #saveCommand(path?: string): pb.Command {
    return this.#operation(path === undefined ? { case: undefined } : { case: "path", value: path });
  }

  /** Writes to `path` (or to the `path` option) with the configured source (PySpark `save`). */
  async save(path?: string, options?: ActionOptions): Promise<void> {
    await clientOf(this.#df.sparkSession).executeCommand(this.#saveCommand(path), options);
  }

  private shortcut(source: string, path: string, o: WriteShortcutOptions | undefined, actionOptions?: ActionOptions) {
    let w = this.format(source);
    if (o?.mode !== undefined) w = w.mode(o.mode);
    if (o?.partitionBy !== undefined) w = w.partitionBy(...o.partitionBy);
    if (o?.options !== undefined) w = w.options(o.options);
    return w.save(path, actionOptions);
  }

  /** Writes Parquet (PySpark `parquet`). */
  parquet(path: string, o?: WriteShortcutOptions, actionOptions?: ActionOptions): Promise<void> {
    return this.shortcut("parquet", path, o, actionOptions);
  }
  /** Writes CSV (PySpark `csv`). */
  csv(path: string, o?: WriteShortcutOptions, actionOptions?: ActionOptions): Promise<void> {
    return this.shortcut("csv", path, o, actionOptions);
  }
  /** Writes JSON lines (PySpark `json`). */
  json(path: string, o?: WriteShortcutOptions, actionOptions?: ActionOptions): Promise<void> {
    return this.shortcut("json", path, o, actionOptions);
  }
  /** Writes text, one string column (PySpark `text`). */
  text(path: string, o?: WriteShortcutOptions, actionOptions?: ActionOptions): Promise<void> {
    return this.shortcut("text", path, o, actionOptions);
  }
  /** Writes ORC (PySpark `orc`). */
  orc(path: string, o?: WriteShortcutOptions, actionOptions?: ActionOptions): Promise<void> {
    return this.shortcut("orc", path, o, actionOptions);
  }

  /** The command `saveAsTable(name)` or `insertInto(name)` sends. */
  #tableCommand(name: string, method: "saveAsTable" | "insertInto"): pb.Command {
    const Method = pb.WriteOperation_SaveTable_TableSaveMethod;
    return this.#operation({
      case: "table",
      value: create(pb.WriteOperation_SaveTableSchema, {
        tableName: name,
        saveMethod: method === "saveAsTable" ? Method.SAVE_AS_TABLE : Method.INSERT_INTO,
      }),
    });
  }

  /** Saves as a catalog table (PySpark `saveAsTable`). */
  async saveAsTable(name: string, options?: ActionOptions): Promise<void> {
    await clientOf(this.#df.sparkSession).executeCommand(this.#tableCommand(name, "saveAsTable"), options);
  }

  /** Inserts into an existing table, by position (PySpark `insertInto`). */
  async insertInto(name: string, options?: ActionOptions): Promise<void> {
    await clientOf(this.#df.sparkSession).executeCommand(this.#tableCommand(name, "insertInto"), options);
  }
}
