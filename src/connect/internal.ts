/**
 * The Spark Connect layer's internal access: the one place where code inside `src/connect/` (and
 * its white-box tests) reaches the protobuf plan that a public object wraps, or the client a
 * session talks through. Public classes keep these in `#private` fields behind private
 * constructors, so their `.d.ts` shows no generated type; each registers its accessors here from
 * a static block. Not exported from the package entry.
 */
import { create } from "@bufbuild/protobuf";
import * as pb from "#connect-proto";
import type { SparkConnectClient } from "./client.ts";
import type { Column } from "./column.ts";
import type { DataFrame } from "./data-frame.ts";
import type { DataFrameWriter } from "./data-frame-writer.ts";
import type { GroupedData } from "./grouped-data.ts";
import type { RuntimeConfig } from "./runtime-config.ts";
import type { SparkSession } from "./spark-session.ts";
import type { WindowSpec } from "./window.ts";

/** What `DataFrame` hands over to the rest of the layer. */
export interface DataFrameAccess {
  relationOf(df: DataFrame): pb.Relation;
  create(session: SparkSession, relation: pb.Relation): DataFrame;
}

/** What `Column` hands over. */
export interface ColumnAccess {
  expressionOf(column: Column): pb.Expression;
  create(expression: pb.Expression): Column;
}

/** What `GroupedData` hands over. */
export interface GroupedDataAccess {
  create(
    df: DataFrame,
    groupingExpressions: readonly pb.Expression[],
    groupType: pb.Aggregate_GroupType,
    pivot?: pb.Aggregate_Pivot,
  ): GroupedData;
}

/** What `WindowSpec` hands over. */
export interface WindowSpecAccess {
  windowExpression(spec: WindowSpec, fn: pb.Expression): pb.Expression;
}

/** What `DataFrameWriter` hands over. */
export interface DataFrameWriterAccess {
  saveCommand(writer: DataFrameWriter, path?: string): pb.Command;
  tableCommand(writer: DataFrameWriter, name: string, method: "saveAsTable" | "insertInto"): pb.Command;
}

/** What `SparkSession` hands over. */
export interface SparkSessionAccess {
  clientOf(session: SparkSession): SparkConnectClient;
}

/** What `RuntimeConfig` hands over. */
export interface RuntimeConfigAccess {
  create(client: SparkConnectClient): RuntimeConfig;
}

interface Registry {
  dataFrames?: DataFrameAccess;
  columns?: ColumnAccess;
  groupedData?: GroupedDataAccess;
  windowSpecs?: WindowSpecAccess;
  writers?: DataFrameWriterAccess;
  sessions?: SparkSessionAccess;
  runtimeConfigs?: RuntimeConfigAccess;
}

const registry: Registry = {};

// Each class registers itself when its module is evaluated, before any instance can exist.
function access<K extends keyof Registry>(key: K): NonNullable<Registry[K]> {
  return registry[key] as NonNullable<Registry[K]>;
}

/** Called once, by `DataFrame`'s static block. */
export function registerDataFrameAccess(a: DataFrameAccess): void {
  registry.dataFrames = a;
}

/** Called once, by `Column`'s static block. */
export function registerColumnAccess(a: ColumnAccess): void {
  registry.columns = a;
}

/** Called once, by `GroupedData`'s static block. */
export function registerGroupedDataAccess(a: GroupedDataAccess): void {
  registry.groupedData = a;
}

/** Called once, by `WindowSpec`'s static block. */
export function registerWindowSpecAccess(a: WindowSpecAccess): void {
  registry.windowSpecs = a;
}

/** Called once, by `DataFrameWriter`'s static block. */
export function registerDataFrameWriterAccess(a: DataFrameWriterAccess): void {
  registry.writers = a;
}

/** Called once, by `SparkSession`'s static block. */
export function registerSparkSessionAccess(a: SparkSessionAccess): void {
  registry.sessions = a;
}

/** Called once, by `RuntimeConfig`'s static block. */
export function registerRuntimeConfigAccess(a: RuntimeConfigAccess): void {
  registry.runtimeConfigs = a;
}

/** The logical plan a DataFrame wraps, every node tagged with its plan id. */
export function relationOf(df: DataFrame): pb.Relation {
  return access("dataFrames").relationOf(df);
}

/** A DataFrame over `relation`; the root gets a fresh plan id when it has none. */
export function dataFrameFrom(session: SparkSession, relation: pb.Relation): DataFrame {
  return access("dataFrames").create(session, relation);
}

/** The plan sent for a DataFrame's actions. */
export function planOf(df: DataFrame): pb.Plan {
  return create(pb.PlanSchema, { opType: { case: "root", value: relationOf(df) } });
}

/** The protocol expression a Column stands for. */
export function expressionOf(column: Column): pb.Expression {
  return access("columns").expressionOf(column);
}

/** A Column over a protocol expression. */
export function columnFrom(expression: pb.Expression): Column {
  return access("columns").create(expression);
}

/** Grouped rows of `df`, waiting for aggregates (what `groupBy`, `rollup`, `cube` return). */
export function groupedDataFrom(
  df: DataFrame,
  groupingExpressions: readonly pb.Expression[],
  groupType: pb.Aggregate_GroupType,
  pivot?: pb.Aggregate_Pivot,
): GroupedData {
  return access("groupedData").create(df, groupingExpressions, groupType, pivot);
}

/** The window expression applying `fn` over `spec` (what `Column.over` sends). */
export function windowExpressionOf(spec: WindowSpec, fn: pb.Expression): pb.Expression {
  return access("windowSpecs").windowExpression(spec, fn);
}

/** The command a writer's `save(path)` sends. */
export function saveCommandOf(writer: DataFrameWriter, path?: string): pb.Command {
  return access("writers").saveCommand(writer, path);
}

/** The command a writer's `saveAsTable(name)` or `insertInto(name)` sends. */
export function tableCommandOf(
  writer: DataFrameWriter,
  name: string,
  method: "saveAsTable" | "insertInto",
): pb.Command {
  return access("writers").tableCommand(writer, name, method);
}

/** The gRPC client a session talks through. */
export function clientOf(session: SparkSession): SparkConnectClient {
  return access("sessions").clientOf(session);
}

/** The `spark.conf` of a session whose client is `client`. */
export function runtimeConfigFrom(client: SparkConnectClient): RuntimeConfig {
  return access("runtimeConfigs").create(client);
}
