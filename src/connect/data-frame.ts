import { create } from "@bufbuild/protobuf";
import { type RecordBatch, Table } from "apache-arrow";
import * as pb from "#connect-proto";
import { decodeRows } from "./arrow/arrow-decode.ts";
import { Column, type ColumnOrName, type ColumnOrValue } from "./column.ts";
import { DataFrameWriter } from "./data-frame-writer.ts";
import { fromProtoDataType } from "./data-type-proto.ts";
import { type DataType, StructType } from "./data-types.ts";
import { PlanError } from "./errors.ts";
import type { ExecuteOptions } from "./execute-options.ts";
import {
  attributeExpression,
  columnExpression,
  sortOrderExpression,
  sqlExpression,
  valueExpression,
} from "./expressions.ts";
import type { GroupedData } from "./grouped-data.ts";
// Evaluated for its registration with internal.ts: groupBy() builds GroupedData through it.
import "./grouped-data.ts";
import { clientOf, columnFrom, expressionOf, groupedDataFrom, planOf, registerDataFrameAccess } from "./internal.ts";
import { literalExpression, toLiteral } from "./literal.ts";
import { MEMORY_AND_DISK, persist, type StorageLevel, unpersist } from "./persistence.ts";
import type { Row } from "./row.ts";
import type { SparkSession } from "./spark-session.ts";

/** Options every action accepts as its last argument: cancellation and progress. */
export type ActionOptions = ExecuteOptions;

/**
 * Join types, with PySpark's spellings: `inner`, `cross`, `outer`/`full`/`fullouter`/`full_outer`,
 * `left`/`leftouter`/`left_outer`, `right`/`rightouter`/`right_outer`,
 * `semi`/`leftsemi`/`left_semi`, `anti`/`leftanti`/`left_anti`.
 */
export type JoinHow =
  | "inner"
  | "cross"
  | "outer"
  | "full"
  | "fullouter"
  | "full_outer"
  | "left"
  | "leftouter"
  | "left_outer"
  | "right"
  | "rightouter"
  | "right_outer"
  | "semi"
  | "leftsemi"
  | "left_semi"
  | "anti"
  | "leftanti"
  | "left_anti";

const JoinType = pb.Join_JoinType;
const JOIN_TYPES: Record<JoinHow, pb.Join_JoinType> = {
  inner: JoinType.INNER,
  cross: JoinType.CROSS,
  outer: JoinType.FULL_OUTER,
  full: JoinType.FULL_OUTER,
  fullouter: JoinType.FULL_OUTER,
  full_outer: JoinType.FULL_OUTER,
  left: JoinType.LEFT_OUTER,
  leftouter: JoinType.LEFT_OUTER,
  left_outer: JoinType.LEFT_OUTER,
  right: JoinType.RIGHT_OUTER,
  rightouter: JoinType.RIGHT_OUTER,
  right_outer: JoinType.RIGHT_OUTER,
  semi: JoinType.LEFT_SEMI,
  leftsemi: JoinType.LEFT_SEMI,
  left_semi: JoinType.LEFT_SEMI,
  anti: JoinType.LEFT_ANTI,
  leftanti: JoinType.LEFT_ANTI,
  left_anti: JoinType.LEFT_ANTI,
};

/** Explain modes (PySpark `explain(mode=...)`). */
export type ExplainMode = "simple" | "extended" | "codegen" | "cost" | "formatted";

const ExplainModes = pb.AnalyzePlanRequest_Explain_ExplainMode;
const EXPLAIN_MODES: Record<ExplainMode, pb.AnalyzePlanRequest_Explain_ExplainMode> = {
  simple: ExplainModes.SIMPLE,
  extended: ExplainModes.EXTENDED,
  codegen: ExplainModes.CODEGEN,
  cost: ExplainModes.COST,
  formatted: ExplainModes.FORMATTED,
};

/** `show()` settings and action options in one object: `df.show({ n: 5, truncate: false, signal })`. */
export interface ShowOptions extends ActionOptions {
  /** Rows to show (default 20). */
  n?: number;
  /** `true` (default) cuts cells to 20 characters, a number to that many, `false` never. */
  truncate?: boolean | number;
  /** One block per record (default false). */
  vertical?: boolean;
}

/** Sorting options for {@link DataFrame.orderBy}: PySpark's `ascending=` keyword. */
export interface SortOptions {
  ascending: boolean | boolean[];
}

type ColumnArgs = Array<ColumnOrName | readonly ColumnOrName[]>;

function flatten(cols: ColumnArgs): ColumnOrName[] {
  return cols.flatMap((c) => (Array.isArray(c) ? [...(c as readonly ColumnOrName[])] : [c as ColumnOrName]));
}

function isSortOptions(v: unknown): v is SortOptions {
  return typeof v === "object" && v !== null && !(v instanceof Column) && !Array.isArray(v) && "ascending" in v;
}

function checkCount(what: string, n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > 2147483647) {
    throw new PlanError({ message: `${what} must be a non-negative 32-bit integer, got ${n}` });
  }
  return n;
}

/**
 * A lazy, immutable Spark DataFrame (PySpark: `pyspark.sql.DataFrame`). Transformations build a
 * new DataFrame around this one's plan and return synchronously; nothing runs on the server until
 * an action (`collect`, `count`, `show`, `toArrow`, `stream`, `write...save`, ...) is awaited.
 */
export class DataFrame {
  /** The session that runs this DataFrame's actions. PySpark: `df.sparkSession`. */
  readonly sparkSession: SparkSession;
  readonly #relation: pb.Relation;

  static {
    registerDataFrameAccess({
      relationOf: (df) => df.#relation,
      create: (session, relation) => new DataFrame(session, relation),
    });
  }

  private constructor(session: SparkSession, relation: pb.Relation) {
    this.sparkSession = session;
    this.#relation =
      relation.common?.planId === undefined
        ? create(pb.RelationSchema, {
            relType: relation.relType,
            common: create(pb.RelationCommonSchema, {
              sourceInfo: relation.common?.sourceInfo,
              origin: relation.common?.origin,
              planId: session.nextPlanId(),
            }),
          })
        : relation;
  }

  /**
   * A DataFrame over a SQL query (what `spark.sql` returns). Lazy, as every transformation here:
   * the query, including DDL such as `CREATE VIEW`, runs at the first action on the result.
   * `args` binds named (`:name`, an object) or positional (`?`, an array) parameters to literals or Columns.
   */
  static fromSql(
    session: SparkSession,
    query: string,
    args?: Record<string, ColumnOrValue> | readonly ColumnOrValue[],
  ): DataFrame {
    const sql = create(pb.SQLSchema, { query });
    if (Array.isArray(args)) sql.posArguments = args.map(valueExpression);
    else if (args !== undefined) {
      for (const [k, v] of Object.entries(args as Record<string, ColumnOrValue>))
        sql.namedArguments[k] = valueExpression(v);
    }
    return new DataFrame(session, create(pb.RelationSchema, { relType: { case: "sql", value: sql } }));
  }

  /**
   * A single `id` column (bigint) from `start` to `end` (exclusive) by `step` (what `spark.range`
   * returns); with one argument, from 0 to it.
   */
  static fromRange(
    session: SparkSession,
    start: number | bigint,
    end?: number | bigint,
    step: number | bigint = 1,
    numPartitions?: number,
  ): DataFrame {
    const [from, to] = end === undefined ? [0n, BigInt(start)] : [BigInt(start), BigInt(end)];
    if (BigInt(step) === 0n) throw new PlanError({ message: "range: step must not be 0" });
    return new DataFrame(
      session,
      create(pb.RelationSchema, {
        relType: {
          case: "range",
          value: create(pb.RangeSchema, {
            start: from,
            end: to,
            step: BigInt(step),
            numPartitions: numPartitions === undefined ? undefined : checkCount("range: numPartitions", numPartitions),
          }),
        },
      }),
    );
  }

  /** This DataFrame's plan id: column references from {@link col} carry it. */
  get planId(): bigint {
    return this.#relation.common?.planId as bigint;
  }

  private derive(relType: pb.Relation["relType"]): DataFrame {
    return new DataFrame(
      this.sparkSession,
      create(pb.RelationSchema, {
        common: create(pb.RelationCommonSchema, { planId: this.sparkSession.nextPlanId() }),
        relType,
      }),
    );
  }

  // ---- column access ------------------------------------------------------------------------

  /**
   * A column of THIS DataFrame (PySpark `df.col("x")` / `df["x"]`): the reference carries this
   * DataFrame's plan id, so it stays unambiguous in self-joins. `"*"` is all its columns.
   */
  col(name: string): Column {
    return columnFrom(attributeExpression(name, this.planId));
  }

  // ---- transformations ----------------------------------------------------------------------

  /** Projects columns or expressions (PySpark `select`); accepts names, Columns, or arrays of them. */
  select(...cols: ColumnArgs): DataFrame {
    const list = flatten(cols);
    return this.derive({
      case: "project",
      value: create(pb.ProjectSchema, { input: this.#relation, expressions: list.map(columnExpression) }),
    });
  }

  /** Projects SQL expression strings (PySpark `selectExpr`). */
  selectExpr(...exprs: Array<string | readonly string[]>): DataFrame {
    const list = exprs.flatMap((e) => (Array.isArray(e) ? [...e] : [e as string]));
    return this.derive({
      case: "project",
      value: create(pb.ProjectSchema, { input: this.#relation, expressions: list.map(sqlExpression) }),
    });
  }

  /** Keeps rows where `condition` holds: a boolean Column or a SQL string (PySpark `filter`). */
  filter(condition: Column | string): DataFrame {
    const expr = typeof condition === "string" ? sqlExpression(condition) : expressionOf(condition);
    return this.derive({ case: "filter", value: create(pb.FilterSchema, { input: this.#relation, condition: expr }) });
  }

  /** Alias of {@link filter} (PySpark `where`). */
  where(condition: Column | string): DataFrame {
    return this.filter(condition);
  }

  /** Adds or replaces one column (PySpark `withColumn`). */
  withColumn(name: string, column: Column): DataFrame {
    return this.withColumns({ [name]: column });
  }

  /** Adds or replaces several columns at once (PySpark `withColumns`). */
  withColumns(columns: Record<string, Column> | Map<string, Column>): DataFrame {
    const entries = columns instanceof Map ? [...columns] : Object.entries(columns);
    if (entries.length === 0) throw new PlanError({ message: "withColumns: give at least one column" });
    const aliases = entries.map(([name, c]) => {
      if (!(c instanceof Column)) throw new PlanError({ message: `withColumns: value for ${name} is not a Column` });
      return create(pb.Expression_AliasSchema, { expr: expressionOf(c), name: [name] });
    });
    return this.derive({
      case: "withColumns",
      value: create(pb.WithColumnsSchema, { input: this.#relation, aliases }),
    });
  }

  /** Renames one column; a no-op when it does not exist (PySpark `withColumnRenamed`). */
  withColumnRenamed(existing: string, newName: string): DataFrame {
    return this.withColumnsRenamed({ [existing]: newName });
  }

  /** Renames several columns (PySpark `withColumnsRenamed`). */
  withColumnsRenamed(renames: Record<string, string>): DataFrame {
    return this.derive({
      case: "withColumnsRenamed",
      value: create(pb.WithColumnsRenamedSchema, {
        input: this.#relation,
        renames: Object.entries(renames).map(([colName, newColName]) =>
          create(pb.WithColumnsRenamed_RenameSchema, { colName, newColName }),
        ),
      }),
    });
  }

  /** Replaces every column name, in order (PySpark `toDF`). */
  toDF(...names: string[]): DataFrame {
    return this.derive({ case: "toDf", value: create(pb.ToDFSchema, { input: this.#relation, columnNames: names }) });
  }

  /** Drops columns by name or Column; unknown names are ignored (PySpark `drop`). */
  drop(...cols: ColumnOrName[]): DataFrame {
    const columns: pb.Expression[] = [];
    const columnNames: string[] = [];
    for (const c of cols) {
      if (typeof c === "string") columnNames.push(c);
      else if (c instanceof Column) columns.push(expressionOf(c));
      else throw new PlanError({ message: "drop: expected column names or Columns" });
    }
    return this.derive({ case: "drop", value: create(pb.DropSchema, { input: this.#relation, columns, columnNames }) });
  }

  /** The first `n` rows (PySpark `limit`). */
  limit(n: number): DataFrame {
    return this.derive({
      case: "limit",
      value: create(pb.LimitSchema, { input: this.#relation, limit: checkCount("limit", n) }),
    });
  }

  /** Skips the first `n` rows (PySpark `offset`). */
  offset(n: number): DataFrame {
    return this.derive({
      case: "offset",
      value: create(pb.OffsetSchema, { input: this.#relation, offset: checkCount("offset", n) }),
    });
  }

  /**
   * Repartitions with a shuffle (PySpark `repartition`): `repartition(n)` round-robin into `n`
   * partitions, `repartition(n, ...cols)` hash-partitions by the columns into `n`,
   * `repartition(...cols)` by the columns into `spark.sql.shuffle.partitions`.
   */
  repartition(numPartitionsOrCol: number | ColumnOrName, ...cols: ColumnOrName[]): DataFrame {
    if (typeof numPartitionsOrCol === "number") {
      const numPartitions = checkCount("repartition: numPartitions", numPartitionsOrCol);
      if (numPartitions === 0) throw new PlanError({ message: "repartition: numPartitions must be positive" });
      if (cols.length === 0) {
        return this.derive({
          case: "repartition",
          value: create(pb.RepartitionSchema, { input: this.#relation, numPartitions, shuffle: true }),
        });
      }
      return this.derive({
        case: "repartitionByExpression",
        value: create(pb.RepartitionByExpressionSchema, {
          input: this.#relation,
          numPartitions,
          partitionExprs: cols.map(columnExpression),
        }),
      });
    }
    return this.derive({
      case: "repartitionByExpression",
      value: create(pb.RepartitionByExpressionSchema, {
        input: this.#relation,
        partitionExprs: [numPartitionsOrCol, ...cols].map(columnExpression),
      }),
    });
  }

  /** Range-partitions by sort keys (PySpark `repartitionByRange`). */
  repartitionByRange(numPartitionsOrCol: number | ColumnOrName, ...cols: ColumnOrName[]): DataFrame {
    const all = typeof numPartitionsOrCol === "number" ? cols : [numPartitionsOrCol, ...cols];
    if (all.length === 0) throw new PlanError({ message: "repartitionByRange: give at least one column" });
    const numPartitions =
      typeof numPartitionsOrCol === "number" ? checkCount("repartitionByRange", numPartitionsOrCol) : undefined;
    return this.derive({
      case: "repartitionByExpression",
      value: create(pb.RepartitionByExpressionSchema, {
        input: this.#relation,
        numPartitions,
        partitionExprs: all.map((c) => sortOrderExpression(c, true)),
      }),
    });
  }

  /** Fewer partitions without a shuffle (PySpark `coalesce`). */
  coalesce(numPartitions: number): DataFrame {
    const n = checkCount("coalesce: numPartitions", numPartitions);
    if (n === 0) throw new PlanError({ message: "coalesce: numPartitions must be positive" });
    return this.derive({
      case: "repartition",
      value: create(pb.RepartitionSchema, { input: this.#relation, numPartitions: n, shuffle: false }),
    });
  }

  /**
   * Sorts globally (PySpark `orderBy`/`sort`). Plain names and Columns sort ascending, nulls first;
   * use `col.desc()` (nulls last) etc., or a final `{ ascending: false | boolean[] }`.
   */
  orderBy(...cols: Array<ColumnOrName | readonly ColumnOrName[] | SortOptions>): DataFrame {
    return this.sortImpl(true, cols);
  }

  /** Alias of {@link orderBy}. */
  sort(...cols: Array<ColumnOrName | readonly ColumnOrName[] | SortOptions>): DataFrame {
    return this.sortImpl(true, cols);
  }

  /** Sorts each partition on its own (PySpark `sortWithinPartitions`). */
  sortWithinPartitions(...cols: Array<ColumnOrName | readonly ColumnOrName[] | SortOptions>): DataFrame {
    return this.sortImpl(false, cols);
  }

  private sortImpl(isGlobal: boolean, args: Array<ColumnOrName | readonly ColumnOrName[] | SortOptions>): DataFrame {
    let ascending: boolean | boolean[] = true;
    const last = args[args.length - 1];
    const colArgs = isSortOptions(last) ? args.slice(0, -1) : args;
    if (isSortOptions(last)) ascending = last.ascending;
    const cols = flatten(colArgs as ColumnArgs);
    if (cols.length === 0) throw new PlanError({ message: "orderBy: give at least one column" });
    if (Array.isArray(ascending) && ascending.length !== cols.length) {
      throw new PlanError({ message: `orderBy: ascending has ${ascending.length} entries for ${cols.length} columns` });
    }
    const order = cols.map((c, i) => {
      const asc = Array.isArray(ascending) ? (ascending[i] as boolean) : ascending;
      const e = sortOrderExpression(c, asc);
      return e.exprType.value as pb.Expression_SortOrder;
    });
    return this.derive({ case: "sort", value: create(pb.SortSchema, { input: this.#relation, order, isGlobal }) });
  }

  /** Groups for aggregation (PySpark `groupBy`); see {@link GroupedData}. */
  groupBy(...cols: ColumnArgs): GroupedData {
    return groupedDataFrom(this, flatten(cols).map(columnExpression), pb.Aggregate_GroupType.GROUPBY);
  }

  /** Alias of {@link groupBy} (PySpark `groupby`). */
  groupby(...cols: ColumnArgs): GroupedData {
    return this.groupBy(...cols);
  }

  /** Multi-level aggregation over the rollup of the columns (PySpark `rollup`). */
  rollup(...cols: ColumnArgs): GroupedData {
    return groupedDataFrom(this, flatten(cols).map(columnExpression), pb.Aggregate_GroupType.ROLLUP);
  }

  /** Multi-level aggregation over the cube of the columns (PySpark `cube`). */
  cube(...cols: ColumnArgs): GroupedData {
    return groupedDataFrom(this, flatten(cols).map(columnExpression), pb.Aggregate_GroupType.CUBE);
  }

  /** Aggregates over the whole DataFrame (PySpark `agg`, i.e. `groupBy().agg(...)`). */
  agg(...exprs: Column[] | [Record<string, string>]): DataFrame {
    return this.groupBy().agg(...exprs);
  }

  /**
   * Joins with `other` (PySpark `join`). `on` is a column name or names present on both sides
   * (USING join, one output column each), or a boolean Column (or Columns, AND-ed); `how` defaults
   * to `"inner"`. Without `on`, an inner join is a cartesian product.
   */
  join(
    other: DataFrame,
    on?: string | readonly string[] | Column | readonly Column[],
    how: JoinHow = "inner",
  ): DataFrame {
    const joinType = JOIN_TYPES[how];
    if (joinType === undefined) {
      throw new PlanError({
        message: `join: unknown join type ${JSON.stringify(how)}; one of ${Object.keys(JOIN_TYPES).join(", ")}`,
      });
    }
    let joinCondition: pb.Expression | undefined;
    let usingColumns: string[] = [];
    if (typeof on === "string") usingColumns = [on];
    else if (on instanceof Column) joinCondition = expressionOf(on);
    else if (Array.isArray(on) && on.length > 0) {
      if (on.every((c) => typeof c === "string")) usingColumns = [...(on as string[])];
      else if (on.every((c) => c instanceof Column)) {
        joinCondition = expressionOf((on as Column[]).reduce((a, b) => a.and(b)));
      } else throw new PlanError({ message: "join: `on` mixes names and Columns" });
    }
    return this.derive({
      case: "join",
      value: create(pb.JoinSchema, {
        left: this.#relation,
        right: other.#relation,
        joinCondition,
        joinType,
        usingColumns,
      }),
    });
  }

  /** Cartesian product (PySpark `crossJoin`). */
  crossJoin(other: DataFrame): DataFrame {
    return this.derive({
      case: "join",
      value: create(pb.JoinSchema, { left: this.#relation, right: other.#relation, joinType: JoinType.CROSS }),
    });
  }

  private setOp(
    other: DataFrame,
    setOpType: pb.SetOperation_SetOpType,
    isAll: boolean,
    byName = false,
    allowMissingColumns = false,
  ): DataFrame {
    return this.derive({
      case: "setOp",
      value: create(pb.SetOperationSchema, {
        leftInput: this.#relation,
        rightInput: other.#relation,
        setOpType,
        isAll,
        byName,
        allowMissingColumns,
      }),
    });
  }

  /** Rows of both, duplicates kept, matched by position (PySpark `union`, SQL `UNION ALL`). */
  union(other: DataFrame): DataFrame {
    return this.setOp(other, pb.SetOperation_SetOpType.UNION, true);
  }

  /** Alias of {@link union} (PySpark `unionAll`). */
  unionAll(other: DataFrame): DataFrame {
    return this.union(other);
  }

  /** Rows of both matched by column name; missing columns become null when allowed (PySpark `unionByName`). */
  unionByName(other: DataFrame, allowMissingColumns = false): DataFrame {
    return this.setOp(other, pb.SetOperation_SetOpType.UNION, true, true, allowMissingColumns);
  }

  /** Distinct rows present in both (PySpark `intersect`). */
  intersect(other: DataFrame): DataFrame {
    return this.setOp(other, pb.SetOperation_SetOpType.INTERSECT, false);
  }

  /** Rows present in both, duplicates kept (PySpark `intersectAll`). */
  intersectAll(other: DataFrame): DataFrame {
    return this.setOp(other, pb.SetOperation_SetOpType.INTERSECT, true);
  }

  /** Distinct rows not in `other` (PySpark `subtract`, SQL `EXCEPT DISTINCT`). */
  subtract(other: DataFrame): DataFrame {
    return this.setOp(other, pb.SetOperation_SetOpType.EXCEPT, false);
  }

  /** Rows not in `other`, duplicates kept (PySpark `exceptAll`). */
  exceptAll(other: DataFrame): DataFrame {
    return this.setOp(other, pb.SetOperation_SetOpType.EXCEPT, true);
  }

  /** Distinct rows (PySpark `distinct`). */
  distinct(): DataFrame {
    return this.derive({
      case: "deduplicate",
      value: create(pb.DeduplicateSchema, { input: this.#relation, allColumnsAsKeys: true }),
    });
  }

  /** Drops duplicate rows, considering only `subset` when given (PySpark `dropDuplicates`). */
  dropDuplicates(subset?: readonly string[]): DataFrame {
    if (subset === undefined) return this.distinct();
    return this.derive({
      case: "deduplicate",
      value: create(pb.DeduplicateSchema, { input: this.#relation, columnNames: [...subset] }),
    });
  }

  /** Alias of {@link dropDuplicates} (PySpark `drop_duplicates`). */
  drop_duplicates(subset?: readonly string[]): DataFrame {
    return this.dropDuplicates(subset);
  }

  /**
   * A random sample (PySpark `sample`): `sample(fraction)`, `sample(fraction, seed)`,
   * `sample(withReplacement, fraction, seed?)`. Without a seed a random one is chosen, as PySpark does.
   */
  sample(fraction: number, seed?: number | bigint): DataFrame;
  sample(withReplacement: boolean, fraction: number, seed?: number | bigint): DataFrame;
  sample(a: boolean | number, b?: number | bigint, c?: number | bigint): DataFrame {
    const withReplacement = typeof a === "boolean" ? a : false;
    const fraction = typeof a === "boolean" ? b : a;
    const seed = typeof a === "boolean" ? c : b;
    if (typeof fraction !== "number" || !(fraction >= 0)) {
      throw new PlanError({ message: `sample: fraction must be a number >= 0, got ${String(fraction)}` });
    }
    return this.derive({
      case: "sample",
      value: create(pb.SampleSchema, {
        input: this.#relation,
        lowerBound: 0,
        upperBound: fraction,
        withReplacement,
        seed: seed === undefined ? BigInt(Math.floor(Math.random() * Number.MAX_SAFE_INTEGER)) : BigInt(seed),
      }),
    });
  }

  /**
   * Replaces nulls (PySpark `fillna` / `na.fill`): one value for every column of a matching type
   * (optionally only `subset`), or an object of per-column values.
   */
  fillna(
    value: number | bigint | string | boolean | Record<string, number | bigint | string | boolean>,
    subset?: readonly string[],
  ): DataFrame {
    let cols: string[] = [];
    let values: pb.Expression_Literal[];
    if (typeof value === "object") {
      const entries = Object.entries(value);
      if (entries.length === 0) throw new PlanError({ message: "fillna: the column -> value map is empty" });
      cols = entries.map(([k]) => k);
      values = entries.map(([, v]) => fillValue(v));
    } else {
      cols = subset === undefined ? [] : [...subset];
      values = [fillValue(value)];
    }
    return this.derive({ case: "fillNa", value: create(pb.NAFillSchema, { input: this.#relation, cols, values }) });
  }

  /**
   * Drops rows with nulls (PySpark `dropna` / `na.drop`): `how` "any" (default) or "all", or keep
   * rows with at least `thresh` non-null values; only `subset` columns are considered when given.
   */
  dropna(how: "any" | "all" = "any", thresh?: number, subset?: readonly string[]): DataFrame {
    if (how !== "any" && how !== "all")
      throw new PlanError({ message: `dropna: how must be "any" or "all", got ${String(how)}` });
    const minNonNulls = thresh !== undefined ? checkCount("dropna: thresh", thresh) : how === "all" ? 1 : undefined;
    return this.derive({
      case: "dropNa",
      value: create(pb.NADropSchema, {
        input: this.#relation,
        cols: subset === undefined ? [] : [...subset],
        minNonNulls,
      }),
    });
  }

  /** count, mean, stddev, min and max of the columns (all numeric and string ones when none named) (PySpark `describe`). */
  describe(...cols: Array<string | readonly string[]>): DataFrame {
    const list = cols.flat() as string[];
    return this.derive({
      case: "describe",
      value: create(pb.StatDescribeSchema, { input: this.#relation, cols: list }),
    });
  }

  /**
   * Summary statistics (PySpark `summary`): by default count, mean, stddev, min, 25%, 50%, 75%, max;
   * or the named ones (`"count"`, `"min"`, `"10%"`, `"count_distinct"`, ...).
   */
  summary(...statistics: string[]): DataFrame {
    return this.derive({ case: "summary", value: create(pb.StatSummarySchema, { input: this.#relation, statistics }) });
  }

  /**
   * Splits the rows randomly by `weights` (normalised to sum 1), each row in exactly one part;
   * repeatable with a `seed` (PySpark `randomSplit`).
   */
  randomSplit(weights: readonly number[], seed?: number | bigint): DataFrame[] {
    if (weights.length === 0 || weights.some((w) => !(w >= 0))) {
      throw new PlanError({ message: `randomSplit: weights must be numbers >= 0, got [${weights.join(", ")}]` });
    }
    const total = weights.reduce((a, b) => a + b, 0);
    if (!(total > 0)) throw new PlanError({ message: "randomSplit: the weights must not sum to 0" });
    const s = seed === undefined ? BigInt(Math.floor(Math.random() * Number.MAX_SAFE_INTEGER)) : BigInt(seed);
    const parts: DataFrame[] = [];
    let lower = 0;
    for (const w of weights) {
      const upper = lower + w / total;
      parts.push(
        this.derive({
          case: "sample",
          value: create(pb.SampleSchema, {
            input: this.#relation,
            lowerBound: lower,
            upperBound: upper,
            withReplacement: false,
            seed: s,
            deterministicOrder: true,
          }),
        }),
      );
      lower = upper;
    }
    return parts;
  }

  /** The last `n` rows, in order (PySpark `tail`); the rows travel to the driver. */
  tail(n: number, options?: ActionOptions): Promise<Row[]> {
    return this.derive({
      case: "tail",
      value: create(pb.TailSchema, { input: this.#relation, limit: checkCount("tail", n) }),
    }).collect(options);
  }

  /** Names this DataFrame for qualified column references (`alias.col`) (PySpark `alias`). */
  alias(name: string): DataFrame {
    return this.derive({
      case: "subqueryAlias",
      value: create(pb.SubqueryAliasSchema, { input: this.#relation, alias: name }),
    });
  }

  /** A query hint such as `"broadcast"` (PySpark `hint`). */
  hint(name: string, ...parameters: Array<string | number>): DataFrame {
    return this.derive({
      case: "hint",
      value: create(pb.HintSchema, { input: this.#relation, name, parameters: parameters.map(literalExpression) }),
    });
  }

  // ---- actions ------------------------------------------------------------------------------

  private get client() {
    return clientOf(this.sparkSession);
  }

  /**
   * Streams the result as Arrow record batches, each handed over as it arrives (never buffered
   * whole). Break out of the loop to stop early; the server-side operation is released either way.
   */
  stream(options?: ActionOptions): AsyncIterable<RecordBatch> {
    return this.client.executeArrow(planOf(this), options);
  }

  /**
   * Every row, decoded batch by batch as the batches arrive (PySpark `toLocalIterator`): memory on
   * the client stays at one batch. Break out of the loop to stop early.
   */
  async *toLocalIterator(options?: ActionOptions): AsyncGenerator<Row> {
    let schema: DataType | undefined;
    const opts: ActionOptions = {
      ...options,
      onSchema: (s) => {
        schema = s;
        options?.onSchema?.(s);
      },
    };
    for await (const batch of this.stream(opts)) {
      yield* decodeRows([batch], schema);
    }
  }

  /** All rows as an Apache Arrow Table (PySpark `toArrow`). */
  async toArrow(options?: ActionOptions): Promise<Table> {
    const batches: RecordBatch[] = [];
    for await (const b of this.stream(options)) batches.push(b);
    return new Table(batches);
  }

  /** All rows (PySpark `collect`). */
  async collect(options?: ActionOptions): Promise<Row[]> {
    const batches: RecordBatch[] = [];
    let schema: DataType | undefined;
    const opts: ActionOptions = {
      ...options,
      onSchema: (s) => {
        schema = s;
        options?.onSchema?.(s);
      },
    };
    for await (const b of this.stream(opts)) batches.push(b);
    return decodeRows(batches, schema);
  }

  /** The first `n` rows (PySpark `take`). */
  take(n: number, options?: ActionOptions): Promise<Row[]> {
    return this.limit(n).collect(options);
  }

  /** The first row, or undefined when empty (PySpark `head()`); with `n`, the first `n` rows. */
  head(options?: ActionOptions): Promise<Row | undefined>;
  head(n: number, options?: ActionOptions): Promise<Row[]>;
  async head(nOrOptions?: number | ActionOptions, options?: ActionOptions): Promise<Row | undefined | Row[]> {
    if (typeof nOrOptions === "number") return this.take(nOrOptions, options);
    const rows = await this.take(1, nOrOptions);
    return rows[0];
  }

  /** The first row, or undefined when empty (PySpark `first`). */
  first(options?: ActionOptions): Promise<Row | undefined> {
    return this.head(options);
  }

  /** True when there are no rows (PySpark `isEmpty`). */
  async isEmpty(options?: ActionOptions): Promise<boolean> {
    return (await this.take(1, options)).length === 0;
  }

  /** Number of rows (PySpark `count`, computed as `groupBy().count()`). */
  async count(options?: ActionOptions): Promise<number> {
    const rows = await this.groupBy().count().collect(options);
    const v = rows[0]?.get(0);
    if (typeof v === "bigint") return Number(v);
    if (typeof v === "number") return v;
    throw new PlanError({ message: `count: unexpected result ${String(v)}` });
  }

  /** The schema (PySpark `schema`), from the server's analysis of the plan. */
  async schema(options?: ActionOptions): Promise<StructType> {
    const response = await this.client.analyze(
      { case: "schema", value: create(pb.AnalyzePlanRequest_SchemaSchema, { plan: planOf(this) }) },
      options?.signal,
    );
    if (response.result.case !== "schema" || response.result.value.schema === undefined) {
      throw new PlanError({ message: "schema: the server's answer holds no schema" });
    }
    const t = fromProtoDataType(response.result.value.schema);
    if (!(t instanceof StructType))
      throw new PlanError({ message: `schema: expected a struct, got ${t.simpleString()}` });
    return t;
  }

  /** Column names, in order (PySpark `columns`; async here because it needs the schema). */
  async columns(options?: ActionOptions): Promise<string[]> {
    return (await this.schema(options)).names;
  }

  /** `[name, simpleString type]` pairs (PySpark `dtypes`). */
  async dtypes(options?: ActionOptions): Promise<Array<[string, string]>> {
    return (await this.schema(options)).fields.map((f) => [f.name, f.dataType.simpleString()]);
  }

  /** Spark's schema tree (`root\n |-- a: long (nullable = false)\n...`), as `printSchema` prints it. */
  async treeString(level?: number | ActionOptions, options?: ActionOptions): Promise<string> {
    const [lvl, opts] = typeof level === "object" ? [undefined, level] : [level, options];
    const response = await this.client.analyze(
      {
        case: "treeString",
        value: create(pb.AnalyzePlanRequest_TreeStringSchema, { plan: planOf(this), level: lvl }),
      },
      opts?.signal,
    );
    if (response.result.case !== "treeString") {
      throw new PlanError({ message: "printSchema: no tree string in the answer" });
    }
    return response.result.value.treeString;
  }

  /** Prints the schema tree (PySpark `printSchema(level=None)`). */
  async printSchema(level?: number | ActionOptions, options?: ActionOptions): Promise<void> {
    console.log(await this.treeString(level, options));
  }

  /** The query plans as text (what `explain` prints). `true` means "extended", as in PySpark. */
  async explainString(
    mode: ExplainMode | boolean | ActionOptions = "simple",
    options?: ActionOptions,
  ): Promise<string> {
    const [md, opts] = typeof mode === "object" ? ["simple" as const, mode] : [mode, options];
    const m: ExplainMode = md === true ? "extended" : md === false ? "simple" : md;
    const explainMode = EXPLAIN_MODES[m];
    if (explainMode === undefined) {
      throw new PlanError({
        message: `explain: unknown mode ${JSON.stringify(md)}; one of ${Object.keys(EXPLAIN_MODES).join(", ")}`,
      });
    }
    const response = await this.client.analyze(
      { case: "explain", value: create(pb.AnalyzePlanRequest_ExplainSchema, { plan: planOf(this), explainMode }) },
      opts?.signal,
    );
    if (response.result.case !== "explain") throw new PlanError({ message: "explain: no plan text in the answer" });
    return response.result.value.explainString;
  }

  /** Prints the query plans (PySpark `explain(extended=None, mode=None)`). */
  async explain(mode: ExplainMode | boolean | ActionOptions = "simple", options?: ActionOptions): Promise<void> {
    console.log(await this.explainString(mode, options));
  }

  /**
   * The table `show` prints, rendered by the server exactly as Spark renders it (PySpark's
   * `_show_string`): `showString(n, truncate, vertical, options)` or `showString({ n, truncate, vertical, signal })`.
   * `truncate`: `true` cuts cells to 20 characters, a number to that many, `false` never.
   */
  async showString(
    n: number | ShowOptions = 20,
    truncate: boolean | number = true,
    vertical = false,
    options?: ActionOptions,
  ): Promise<string> {
    const o: ShowOptions = typeof n === "object" ? n : { ...options, n, truncate, vertical };
    const t = o.truncate ?? true;
    const truncateTo = t === true ? 20 : t === false ? 0 : checkCount("show: truncate", t);
    const shown = this.derive({
      case: "showString",
      value: create(pb.ShowStringSchema, {
        input: this.#relation,
        numRows: checkCount("show: n", o.n ?? 20),
        truncate: truncateTo,
        vertical: o.vertical ?? false,
      }),
    });
    const rows = await shown.collect(o);
    const text = rows[0]?.get(0);
    if (typeof text !== "string") throw new PlanError({ message: "show: the server returned no table text" });
    return text;
  }

  /**
   * Prints the first `n` rows as Spark's text table (PySpark `show(n=20, truncate=True, vertical=False)`):
   * header, `+---+` borders, cells right-aligned when truncating, and "only showing top n rows".
   * Also `show({ n, truncate, vertical, signal, onProgress })`.
   */
  async show(
    n: number | ShowOptions = 20,
    truncate: boolean | number = true,
    vertical = false,
    options?: ActionOptions,
  ): Promise<void> {
    console.log(await this.showString(n, truncate, vertical, options));
  }

  /**
   * Registers this DataFrame as a temporary view for `spark.sql` (PySpark `createOrReplaceTempView`).
   * An action: it runs a command on the server.
   */
  async createOrReplaceTempView(name: string, options?: ActionOptions): Promise<void> {
    await this.createView(name, false, true, options);
  }

  /** Like {@link createOrReplaceTempView} but fails when the view exists (PySpark `createTempView`). */
  async createTempView(name: string, options?: ActionOptions): Promise<void> {
    await this.createView(name, false, false, options);
  }

  /** A view in `global_temp`, shared by the application's sessions (PySpark `createOrReplaceGlobalTempView`). */
  async createOrReplaceGlobalTempView(name: string, options?: ActionOptions): Promise<void> {
    await this.createView(name, true, true, options);
  }

  /** Like {@link createOrReplaceGlobalTempView} but fails when the view exists (PySpark `createGlobalTempView`). */
  async createGlobalTempView(name: string, options?: ActionOptions): Promise<void> {
    await this.createView(name, true, false, options);
  }

  private async createView(name: string, isGlobal: boolean, replace: boolean, options?: ActionOptions) {
    const command = create(pb.CommandSchema, {
      commandType: {
        case: "createDataframeView",
        value: create(pb.CreateDataFrameViewCommandSchema, { input: this.#relation, name, isGlobal, replace }),
      },
    });
    await this.client.executeCommand(command, options);
  }

  /**
   * Asks the server to cache this DataFrame's result when first computed (PySpark `persist`);
   * resolves to this DataFrame. Default storage: memory and disk.
   */
  persist(level: StorageLevel = MEMORY_AND_DISK): Promise<DataFrame> {
    return persist(this, level);
  }

  /** `persist()` with the default storage level (PySpark `cache`). */
  cache(): Promise<DataFrame> {
    return persist(this, MEMORY_AND_DISK);
  }

  /** Drops the cached result (PySpark `unpersist`). */
  unpersist(blocking = false): Promise<void> {
    return unpersist(this, blocking);
  }

  /** Short description for logs and the REPL: plan id and top operator (the schema needs a round trip). */
  toString(): string {
    return `DataFrame<plan ${this.planId}: ${this.#relation.relType.case ?? "?"}>`;
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }

  /** The writer for saving this DataFrame (PySpark `df.write`). */
  get write(): DataFrameWriter {
    return new DataFrameWriter(this);
  }
}

/** NAFill takes only long, double, string and boolean literals (as PySpark sends them). */
function fillValue(v: number | bigint | string | boolean): pb.Expression_Literal {
  if (typeof v === "number") {
    const literalType: pb.Expression_Literal["literalType"] = Number.isSafeInteger(v)
      ? { case: "long", value: BigInt(v) }
      : { case: "double", value: v };
    return create(pb.Expression_LiteralSchema, { literalType });
  }
  if (typeof v === "bigint") return create(pb.Expression_LiteralSchema, { literalType: { case: "long", value: v } });
  if (typeof v === "string" || typeof v === "boolean") return toLiteral(v);
  throw new PlanError({ message: `fillna: values must be numbers, strings or booleans, got ${typeof v}` });
}
