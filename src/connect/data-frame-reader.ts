import { create } from "@bufbuild/protobuf";
import * as pb from "#connect-proto";
import type { DataFrame } from "./data-frame.ts";
import type { OptionValue } from "./data-frame-writer.ts";
import { DataType } from "./data-types.ts";
import { PlanError } from "./errors.ts";
import { dataFrameFrom } from "./internal.ts";
import type { SparkSession } from "./spark-session.ts";

interface ReaderState {
  format?: string;
  schema?: string;
  options: Record<string, string>;
}

/**
 * Loads data into a DataFrame (PySpark: `DataFrameReader`, `spark.read`). Immutable: every setter
 * returns a new reader. Loading is lazy like every transformation: files are listed and read when
 * an action runs (missing paths fail then, or at `schema()`).
 */
export class DataFrameReader {
  private readonly session: SparkSession;
  private readonly state: ReaderState;

  constructor(session: SparkSession, state: ReaderState = { options: {} }) {
    this.session = session;
    this.state = state;
  }

  private with(change: Partial<ReaderState>): DataFrameReader {
    return new DataFrameReader(this.session, { ...this.state, ...change });
  }

  /** The data source: `"parquet"`, `"csv"`, `"json"`, `"text"`, `"orc"`, `"binaryFile"`, ... */
  format(source: string): DataFrameReader {
    return this.with({ format: source });
  }

  /** The schema to read with: a DDL string (`"a INT, b STRING"`) or a StructType. */
  schema(schema: string | DataType): DataFrameReader {
    if (typeof schema === "string") return this.with({ schema });
    if (schema instanceof DataType) return this.with({ schema: schema.json() });
    throw new PlanError({ message: "schema: expected a DDL string or a StructType" });
  }

  /** One data-source option (`header`, `recursiveFileLookup`, `pathGlobFilter`, ...). */
  option(key: string, value: OptionValue): DataFrameReader {
    return this.with({ options: { ...this.state.options, [key]: String(value) } });
  }

  /** Several data-source options. */
  options(options: Record<string, OptionValue>): DataFrameReader {
    const merged = { ...this.state.options };
    for (const [k, v] of Object.entries(options)) merged[k] = String(v);
    return this.with({ options: merged });
  }

  /** The `Read` relation `load(paths)` builds. */
  #loadRelation(paths: readonly string[]): pb.Relation {
    return create(pb.RelationSchema, {
      common: create(pb.RelationCommonSchema, { planId: this.session.nextPlanId() }),
      relType: {
        case: "read",
        value: create(pb.ReadSchema, {
          readType: {
            case: "dataSource",
            value: create(pb.Read_DataSourceSchema, {
              format: this.state.format,
              schema: this.state.schema,
              options: this.state.options,
              paths: [...paths],
            }),
          },
        }),
      },
    });
  }

  /** Loads one path, several paths, or (none) what the `path` option names (PySpark `load`). */
  load(path?: string | readonly string[]): DataFrame {
    const paths = path === undefined ? [] : typeof path === "string" ? [path] : [...path];
    return dataFrameFrom(this.session, this.#loadRelation(paths));
  }

  private shortcut(format: string, path: string | readonly string[], options?: Record<string, OptionValue>) {
    const r = options === undefined ? this.format(format) : this.format(format).options(options);
    return r.load(path);
  }

  /** Reads CSV (PySpark `csv`); options such as `{ header: true, inferSchema: true }`. */
  csv(path: string | readonly string[], options?: Record<string, OptionValue>): DataFrame {
    return this.shortcut("csv", path, options);
  }
  /** Reads JSON lines (PySpark `json`). */
  json(path: string | readonly string[], options?: Record<string, OptionValue>): DataFrame {
    return this.shortcut("json", path, options);
  }
  /** Reads Parquet (PySpark `parquet`). */
  parquet(path: string | readonly string[], options?: Record<string, OptionValue>): DataFrame {
    return this.shortcut("parquet", path, options);
  }
  /** Reads ORC (PySpark `orc`). */
  orc(path: string | readonly string[], options?: Record<string, OptionValue>): DataFrame {
    return this.shortcut("orc", path, options);
  }
  /** Reads text files, one row per line in a `value` column (PySpark `text`). */
  text(path: string | readonly string[], options?: Record<string, OptionValue>): DataFrame {
    return this.shortcut("text", path, options);
  }
  /**
   * Reads whole files as rows `(path, modificationTime, length, content)` — Spark's `binaryFile`
   * source (`format("binaryFile")`); options such as `{ recursiveFileLookup: true, pathGlobFilter: "*.png" }`.
   */
  binaryFile(path: string | readonly string[], options?: Record<string, OptionValue>): DataFrame {
    return this.shortcut("binaryFile", path, options);
  }

  /** A catalog table or view by name (PySpark `spark.read.table`). */
  table(name: string): DataFrame {
    return dataFrameFrom(
      this.session,
      create(pb.RelationSchema, {
        common: create(pb.RelationCommonSchema, { planId: this.session.nextPlanId() }),
        relType: {
          case: "read",
          value: create(pb.ReadSchema, {
            readType: {
              case: "namedTable",
              value: create(pb.Read_NamedTableSchema, { unparsedIdentifier: name, options: this.state.options }),
            },
          }),
        },
      }),
    );
  }
}
