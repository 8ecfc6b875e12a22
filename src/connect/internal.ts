/**
 * The Spark Connect layer's internal access: the one place where code inside `src/connect/` (and
 * its white-box tests) reaches the protobuf plan that a public object wraps. Public classes keep
 * their plans in `#private` fields, so their `.d.ts` shows no generated type; each registers its
 * accessors here from a static block. Not exported from the package entry.
 */
import { create } from "@bufbuild/protobuf";
import * as pb from "#connect-proto";
import type { DataFrame } from "./data-frame.ts";
import type { SparkSession } from "./spark-session.ts";

/** What `DataFrame` hands over to the rest of the layer. */
export interface DataFrameAccess {
  relationOf(df: DataFrame): pb.Relation;
  create(session: SparkSession, relation: pb.Relation): DataFrame;
}

let dataFrames: DataFrameAccess | undefined;

/** Called once, by `DataFrame`'s static block. */
export function registerDataFrameAccess(access: DataFrameAccess): void {
  dataFrames = access;
}

function dataFrameAccess(): DataFrameAccess {
  // DataFrame registers itself when its module is evaluated, before any instance can exist.
  return dataFrames as DataFrameAccess;
}

/** The logical plan a DataFrame wraps, every node tagged with its plan id. */
export function relationOf(df: DataFrame): pb.Relation {
  return dataFrameAccess().relationOf(df);
}

/** A DataFrame over `relation`; the root gets a fresh plan id when it has none. */
export function dataFrameFrom(session: SparkSession, relation: pb.Relation): DataFrame {
  return dataFrameAccess().create(session, relation);
}

/** The plan sent for a DataFrame's actions. */
export function planOf(df: DataFrame): pb.Plan {
  return create(pb.PlanSchema, { opType: { case: "root", value: relationOf(df) } });
}
