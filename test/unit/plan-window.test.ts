import { toJson } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import * as pb from "#connect-proto";
import type { Column } from "../../src/connect/column.ts";
import { PlanError } from "../../src/connect/errors.ts";
import * as F from "../../src/connect/functions.ts";
import { expressionOf } from "../../src/connect/internal.ts";
import { Window } from "../../src/connect/window.ts";

const json = (c: Column) => toJson(pb.ExpressionSchema, expressionOf(c));
const attr = (name: string) => ({ unresolvedAttribute: { unparsedIdentifier: name } });
const asc = (name: string) => ({
  child: attr(name),
  direction: "SORT_DIRECTION_ASCENDING",
  nullOrdering: "SORT_NULLS_FIRST",
});

describe("window expressions", () => {
  const cases: Array<[string, Column, unknown]> = [
    [
      "row_number over partition and order",
      F.row_number().over(Window.partitionBy("k").orderBy("t")),
      {
        window: {
          windowFunction: { unresolvedFunction: { functionName: "row_number" } },
          partitionSpec: [attr("k")],
          orderSpec: [asc("t")],
        },
      },
    ],
    [
      "desc order keeps its null ordering",
      F.rank().over(Window.orderBy(F.col("t").desc())),
      {
        window: {
          windowFunction: { unresolvedFunction: { functionName: "rank" } },
          orderSpec: [{ child: attr("t"), direction: "SORT_DIRECTION_DESCENDING", nullOrdering: "SORT_NULLS_LAST" }],
        },
      },
    ],
    [
      "running sum: rows from unbounded preceding to current row",
      F.sum("v").over(Window.partitionBy("k").orderBy("t").rowsBetween(Window.unboundedPreceding, Window.currentRow)),
      {
        window: {
          windowFunction: { unresolvedFunction: { functionName: "sum", arguments: [attr("v")] } },
          partitionSpec: [attr("k")],
          orderSpec: [asc("t")],
          frameSpec: { frameType: "FRAME_TYPE_ROW", lower: { unbounded: true }, upper: { currentRow: true } },
        },
      },
    ],
    [
      "rows frame with offsets are int literals",
      F.avg("v").over(Window.orderBy("t").rowsBetween(-1, 1)),
      {
        window: {
          windowFunction: { unresolvedFunction: { functionName: "avg", arguments: [attr("v")] } },
          orderSpec: [asc("t")],
          frameSpec: {
            frameType: "FRAME_TYPE_ROW",
            lower: { value: { literal: { integer: -1 } } },
            upper: { value: { literal: { integer: 1 } } },
          },
        },
      },
    ],
    [
      "range frame offsets are long literals, unbounded following",
      F.max("v").over(Window.orderBy("t").rangeBetween(-5, Window.unboundedFollowing)),
      {
        window: {
          windowFunction: { unresolvedFunction: { functionName: "max", arguments: [attr("v")] } },
          orderSpec: [asc("t")],
          frameSpec: {
            frameType: "FRAME_TYPE_RANGE",
            lower: { value: { literal: { long: "-5" } } },
            upper: { unbounded: true },
          },
        },
      },
    ],
    [
      "lag with default",
      F.lag("v", 2, 0).over(Window.orderBy("t")),
      {
        window: {
          windowFunction: {
            unresolvedFunction: {
              functionName: "lag",
              arguments: [attr("v"), { literal: { integer: 2 } }, { literal: { integer: 0 } }],
            },
          },
          orderSpec: [asc("t")],
        },
      },
    ],
  ];
  it.each(cases)("%s", (_name, c, expected) => {
    expect(json(c)).toEqual(expected);
  });

  it("a rows frame offset beyond int32 is a PlanError", () => {
    expect(() => F.sum("v").over(Window.rowsBetween(-(2 ** 40), 0))).toThrow(PlanError);
  });

  it("specs are immutable", () => {
    const w = Window.partitionBy("k");
    w.orderBy("t");
    expect(json(F.row_number().over(w))).toEqual({
      window: { windowFunction: { unresolvedFunction: { functionName: "row_number" } }, partitionSpec: [attr("k")] },
    });
  });
});
