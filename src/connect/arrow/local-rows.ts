import { PlanError } from "../errors.ts";
import { Row } from "../row.ts";

/** A value's kind for messages: `typeof`, or the class name of an object. */
export function describeValue(v: unknown): string {
  if (typeof v !== "object" || v === null) return typeof v;
  return (v as object).constructor?.name ?? "object";
}

/** One local row's values in column order: a Row or object by `names`, an array as is. */
export function rowValues(row: unknown, names: readonly string[], index: number): readonly unknown[] {
  if (row instanceof Row) return names.map((n, j) => (row.has(n) ? row.get(n) : row.values[j]));
  if (Array.isArray(row)) return row;
  if (typeof row === "object" && row !== null) return names.map((n) => (row as Record<string, unknown>)[n]);
  throw new PlanError({
    message: `createDataFrame row ${index} is a ${typeof row}; expected an object, an array or a Row`,
  });
}
