import { create } from "@bufbuild/protobuf";
import * as pb from "#connect-proto";
import type { ColumnOrName } from "./column.ts";
import { PlanError } from "./errors.ts";
import { columnExpression, sortOrderExpression } from "./expressions.ts";
import { registerWindowSpecAccess } from "./internal.ts";

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;

/** A frame boundary: rows/values from the current row (negative = preceding), or unbounded (±Infinity). */
export type FrameBound = number | bigint;

interface Frame {
  type: pb.Expression_Window_WindowFrame_FrameType;
  start: FrameBound;
  end: FrameBound;
}

function isUnboundedStart(b: FrameBound): boolean {
  return typeof b === "bigint" ? b <= LONG_MIN : b === Number.NEGATIVE_INFINITY || b <= -(2 ** 63);
}

function isUnboundedEnd(b: FrameBound): boolean {
  return typeof b === "bigint" ? b >= LONG_MAX : b === Number.POSITIVE_INFINITY || b >= 2 ** 63 - 1;
}

function boundary(b: FrameBound, unbounded: boolean, rows: boolean): pb.Expression_Window_WindowFrame_FrameBoundary {
  const B = pb.Expression_Window_WindowFrame_FrameBoundarySchema;
  if (unbounded) return create(B, { boundary: { case: "unbounded", value: true } });
  if (b === 0 || b === 0n) return create(B, { boundary: { case: "currentRow", value: true } });
  if (typeof b === "number" && !Number.isInteger(b)) {
    throw new PlanError({ message: `window frame boundary must be an integer, got ${b}` });
  }
  let literal: pb.Expression_Literal;
  if (rows) {
    const n = Number(b);
    if (n < INT32_MIN || n > INT32_MAX) {
      throw new PlanError({ message: `rowsBetween boundary ${b} is outside [${INT32_MIN}, ${INT32_MAX}]` });
    }
    literal = create(pb.Expression_LiteralSchema, { literalType: { case: "integer", value: n } });
  } else {
    literal = create(pb.Expression_LiteralSchema, { literalType: { case: "long", value: BigInt(b) } });
  }
  return create(B, {
    boundary: { case: "value", value: create(pb.ExpressionSchema, { exprType: { case: "literal", value: literal } }) },
  });
}

/** The spec without partitioning, ordering or frame, where every `Window.*` builder starts. */
let unspecified: WindowSpec;

/**
 * A window: partitioning, ordering and frame for window functions and aggregates used with
 * `column.over(window)` (PySpark: `pyspark.sql.WindowSpec`). Immutable: every method returns a new spec.
 */
export class WindowSpec {
  readonly #partitionSpec: readonly pb.Expression[];
  readonly #orderSpec: readonly pb.Expression_SortOrder[];
  readonly #frame: Frame | undefined;

  static {
    unspecified = new WindowSpec([], [], undefined);
    registerWindowSpecAccess({ windowExpression: (spec, fn) => spec.#windowExpression(fn) });
  }

  private constructor(
    partitionSpec: readonly pb.Expression[],
    orderSpec: readonly pb.Expression_SortOrder[],
    frame: Frame | undefined,
  ) {
    this.#partitionSpec = partitionSpec;
    this.#orderSpec = orderSpec;
    this.#frame = frame;
  }

  /** Partitions by these columns (PySpark `partitionBy`). */
  partitionBy(...cols: Array<ColumnOrName | readonly ColumnOrName[]>): WindowSpec {
    const list = cols.flat() as ColumnOrName[];
    return new WindowSpec(list.map(columnExpression), this.#orderSpec, this.#frame);
  }

  /** Orders each partition; names sort ascending with nulls first, or pass `col.desc()` etc. (PySpark `orderBy`). */
  orderBy(...cols: Array<ColumnOrName | readonly ColumnOrName[]>): WindowSpec {
    const list = cols.flat() as ColumnOrName[];
    const order = list.map((c) => sortOrderExpression(c, true).exprType.value as pb.Expression_SortOrder);
    return new WindowSpec(this.#partitionSpec, order, this.#frame);
  }

  /** A frame counted in rows from the current row, e.g. `rowsBetween(Window.unboundedPreceding, Window.currentRow)`. */
  rowsBetween(start: FrameBound, end: FrameBound): WindowSpec {
    const type = pb.Expression_Window_WindowFrame_FrameType.ROW;
    return new WindowSpec(this.#partitionSpec, this.#orderSpec, { type, start, end });
  }

  /** A frame over values of the (single) order column relative to the current row's (PySpark `rangeBetween`). */
  rangeBetween(start: FrameBound, end: FrameBound): WindowSpec {
    const type = pb.Expression_Window_WindowFrame_FrameType.RANGE;
    return new WindowSpec(this.#partitionSpec, this.#orderSpec, { type, start, end });
  }

  /** The window expression applying `fn` over this spec (what `Column.over` sends). */
  #windowExpression(fn: pb.Expression): pb.Expression {
    const f = this.#frame;
    const rows = f?.type === pb.Expression_Window_WindowFrame_FrameType.ROW;
    const frameSpec =
      f === undefined
        ? undefined
        : create(pb.Expression_Window_WindowFrameSchema, {
            frameType: f.type,
            lower: boundary(f.start, isUnboundedStart(f.start), rows),
            upper: boundary(f.end, isUnboundedEnd(f.end), rows),
          });
    return create(pb.ExpressionSchema, {
      exprType: {
        case: "window",
        value: create(pb.Expression_WindowSchema, {
          windowFunction: fn,
          partitionSpec: [...this.#partitionSpec],
          orderSpec: [...this.#orderSpec],
          frameSpec,
        }),
      },
    });
  }
}

/**
 * Builds {@link WindowSpec}s (PySpark: `pyspark.sql.Window`):
 * `Window.partitionBy("k").orderBy(col("t").desc()).rowsBetween(Window.unboundedPreceding, Window.currentRow)`.
 */
export const Window = {
  /** Frame start without a bound. */
  unboundedPreceding: Number.NEGATIVE_INFINITY,
  /** Frame end without a bound. */
  unboundedFollowing: Number.POSITIVE_INFINITY,
  /** The current row as a frame bound. */
  currentRow: 0,
  /** A spec partitioned by these columns. */
  partitionBy(...cols: Array<ColumnOrName | readonly ColumnOrName[]>): WindowSpec {
    return unspecified.partitionBy(...cols);
  },
  /** A spec ordered by these columns. */
  orderBy(...cols: Array<ColumnOrName | readonly ColumnOrName[]>): WindowSpec {
    return unspecified.orderBy(...cols);
  },
  /** A spec with a row frame. */
  rowsBetween(start: FrameBound, end: FrameBound): WindowSpec {
    return unspecified.rowsBetween(start, end);
  },
  /** A spec with a range frame. */
  rangeBetween(start: FrameBound, end: FrameBound): WindowSpec {
    return unspecified.rangeBetween(start, end);
  },
} as const;
