import { create } from "@bufbuild/protobuf";
import * as pb from "#connect-proto";
import { Column, type ColumnOrName } from "./column.ts";
import type { DataFrame } from "./data-frame.ts";
import { PlanError } from "./errors.ts";
import { columnExpression, functionExpression } from "./expressions.ts";
import { columnFrom, dataFrameFrom, expressionOf, registerGroupedDataAccess, relationOf } from "./internal.ts";
import { literalExpression, toLiteral } from "./literal.ts";
import type { LiteralValue } from "./literal-input.ts";

/**
 * Rows grouped by `DataFrame.groupBy` (or `rollup`/`cube`), waiting for aggregates
 * (PySpark: `pyspark.sql.GroupedData`). Every method returns a new DataFrame.
 */
export class GroupedData {
  readonly #df: DataFrame;
  readonly #groupingExpressions: readonly pb.Expression[];
  readonly #groupType: pb.Aggregate_GroupType;
  readonly #pivotSpec: pb.Aggregate_Pivot | undefined;

  static {
    registerGroupedDataAccess({
      create: (df, groupingExpressions, groupType, pivot) => new GroupedData(df, groupingExpressions, groupType, pivot),
    });
  }

  private constructor(
    df: DataFrame,
    groupingExpressions: readonly pb.Expression[],
    groupType: pb.Aggregate_GroupType,
    pivotSpec?: pb.Aggregate_Pivot,
  ) {
    this.#df = df;
    this.#groupingExpressions = groupingExpressions;
    this.#groupType = groupType;
    this.#pivotSpec = pivotSpec;
  }

  /**
   * Turns the distinct values of `pivotColumn` into output columns, one per value and aggregate
   * (PySpark `pivot`); listing `values` saves the server a pass to find them.
   */
  pivot(pivotColumn: ColumnOrName, values?: readonly LiteralValue[]): GroupedData {
    if (this.#groupType !== pb.Aggregate_GroupType.GROUPBY || this.#pivotSpec !== undefined) {
      throw new PlanError({ message: "pivot: only after groupBy(), and only once" });
    }
    return new GroupedData(
      this.#df,
      this.#groupingExpressions,
      pb.Aggregate_GroupType.PIVOT,
      create(pb.Aggregate_PivotSchema, { col: columnExpression(pivotColumn), values: (values ?? []).map(toLiteral) }),
    );
  }

  #aggregate(aggregateExpressions: pb.Expression[]): DataFrame {
    const session = this.#df.sparkSession;
    return dataFrameFrom(
      session,
      create(pb.RelationSchema, {
        common: create(pb.RelationCommonSchema, { planId: session.nextPlanId() }),
        relType: {
          case: "aggregate",
          value: create(pb.AggregateSchema, {
            input: relationOf(this.#df),
            groupType: this.#groupType,
            groupingExpressions: [...this.#groupingExpressions],
            aggregateExpressions,
            pivot: this.#pivotSpec,
          }),
        },
      }),
    );
  }

  /**
   * Aggregates (PySpark `agg`): aggregate Columns (`F.sum("x").alias("total")`), or one object
   * mapping a column name to an aggregate function name (`{ x: "max", y: "avg" }`).
   */
  agg(...exprs: Column[] | [Record<string, string>]): DataFrame {
    if (exprs.length === 0) throw new PlanError({ message: "agg: give at least one aggregate" });
    const [firstArg] = exprs;
    if (exprs.length === 1 && !(firstArg instanceof Column)) {
      const entries = Object.entries(firstArg as Record<string, string>);
      if (entries.length === 0) throw new PlanError({ message: "agg: the column -> function map is empty" });
      return this.#aggregate(entries.map(([name, fn]) => functionExpression(fn, [columnExpression(name)])));
    }
    for (const e of exprs) {
      if (!(e instanceof Column)) throw new PlanError({ message: "agg: give Columns or one { column: function } map" });
    }
    return this.#aggregate((exprs as Column[]).map(expressionOf));
  }

  /** Rows per group, in a column named `count` (PySpark `count`). */
  count(): DataFrame {
    return this.#aggregate([countAllExpression()]);
  }

  #numeric(fn: string, cols: string[]): DataFrame {
    if (cols.length === 0) {
      throw new PlanError({
        message: `${fn}: name the columns to aggregate (this client does not infer numeric columns)`,
      });
    }
    return this.#aggregate(cols.map((c) => functionExpression(fn, [columnExpression(c)])));
  }

  /** Sum of each named column per group (PySpark `sum`). */
  sum(...cols: string[]): DataFrame {
    return this.#numeric("sum", cols);
  }
  /** Average of each named column per group (PySpark `avg`). */
  avg(...cols: string[]): DataFrame {
    return this.#numeric("avg", cols);
  }
  /** Alias of {@link avg} (PySpark `mean`). */
  mean(...cols: string[]): DataFrame {
    return this.#numeric("avg", cols);
  }
  /** Minimum of each named column per group (PySpark `min`). */
  min(...cols: string[]): DataFrame {
    return this.#numeric("min", cols);
  }
  /** Maximum of each named column per group (PySpark `max`). */
  max(...cols: string[]): DataFrame {
    return this.#numeric("max", cols);
  }
}

/** The `count(1) AS count` aggregate of `groupBy().count()`. */
function countAllExpression(): pb.Expression {
  return expressionOf(columnFrom(functionExpression("count", [literalExpression(1)])).alias("count"));
}
