import { PlanError } from "./errors.ts";
import { Decimal, DenseMatrix, Timestamp } from "./spark-values.ts";

/** Field names shared by every row of one result (built once per schema). */
export class RowLayout {
  readonly names: readonly string[];
  private readonly firstIndex: Map<string, number>;

  constructor(names: readonly string[]) {
    this.names = names;
    this.firstIndex = new Map();
    names.forEach((n, i) => {
      if (!this.firstIndex.has(n)) this.firstIndex.set(n, i);
    });
  }

  /** Position of the first field called `name`, or -1. */
  indexOf(name: string): number {
    return this.firstIndex.get(name) ?? -1;
  }
}

/**
 * One result row (also the value of a struct column). PySpark equivalent: `pyspark.sql.Row`.
 *
 * - by position: `row.get(0)`, `row.values[0]`, `for (const v of row)`, `row.length`;
 * - by name: `row.get("name")` (the first field of that name; with duplicate names, as
 *   `SELECT a.id, b.id`, every value stays reachable by position and `row.getAll("id")`);
 * - `row.toObject()` gives `{ name: value }` (first field wins on duplicate names), values as
 *   decoded (bigint, Decimal, Timestamp, Map, ...); `row.toJSON()` gives a JSON-safe object
 *   (see docs/types.md for the JSON forms).
 *
 * Value types follow the type contract in [docs/types.md](../../docs/types.md).
 */
export class Row implements Iterable<unknown> {
  readonly layout: RowLayout;
  readonly values: readonly unknown[];

  constructor(layout: RowLayout, values: readonly unknown[]) {
    this.layout = layout;
    this.values = values;
  }

  /** A row from a plain object (field order = key order). */
  static fromObject(obj: Record<string, unknown>): Row {
    return new Row(new RowLayout(Object.keys(obj)), Object.values(obj));
  }

  /** Field names in order. PySpark: `Row.__fields__`. */
  get fieldNames(): readonly string[] {
    return this.layout.names;
  }

  get length(): number {
    return this.values.length;
  }

  /** The value at a position, or of the first field with that name. Throws PlanError for an unknown name or position. */
  get(key: number | string): unknown {
    if (typeof key === "number") {
      if (!Number.isInteger(key) || key < 0 || key >= this.values.length) {
        throw new PlanError({ message: `row has ${this.values.length} fields; no position ${key}` });
      }
      return this.values[key];
    }
    const i = this.layout.indexOf(key);
    if (i < 0)
      throw new PlanError({
        message: `row has no field ${JSON.stringify(key)}; fields: ${this.layout.names.join(", ")}`,
      });
    return this.values[i];
  }

  /** Every value of the fields called `name` (several when a join or select repeats a name). */
  getAll(name: string): unknown[] {
    const out: unknown[] = [];
    this.layout.names.forEach((n, i) => {
      if (n === name) out.push(this.values[i]);
    });
    return out;
  }

  /** True if a field has that name. */
  has(name: string): boolean {
    return this.layout.indexOf(name) >= 0;
  }

  [Symbol.iterator](): Iterator<unknown> {
    return this.values[Symbol.iterator]();
  }

  /** `{ name: value }`, nested rows included as objects; first field wins on duplicate names. PySpark: `Row.asDict(recursive=True)`. */
  toObject(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    this.layout.names.forEach((n, i) => {
      if (!(n in out)) out[n] = toPlain(this.values[i]);
    });
    return out;
  }

  /** A JSON-safe object (bigint and Decimal as strings, Timestamp as ISO text, binary as base64, Map as an object or entry list). */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    this.layout.names.forEach((n, i) => {
      if (!(n in out)) out[n] = toJsonValue(this.values[i]);
    });
    return out;
  }

  /** The values as an array (nested rows stay Rows). */
  toArray(): unknown[] {
    return [...this.values];
  }

  toString(): string {
    return `Row(${this.layout.names.map((n, i) => `${n}=${renderValue(this.values[i])}`).join(", ")})`;
  }
}

function toPlain(v: unknown): unknown {
  if (v instanceof Row) return v.toObject();
  if (Array.isArray(v)) return v.map(toPlain);
  if (v instanceof Map) return new Map([...v].map(([k, x]) => [toPlain(k), toPlain(x)]));
  return v;
}

/** The JSON form of one decoded value (see docs/types.md). */
function toJsonValue(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "number") return Number.isFinite(v) ? v : String(v);
  if (v instanceof Row) return v.toJSON();
  if (v instanceof Decimal || v instanceof Timestamp) return v.toString();
  if (v instanceof Date) return v.toISOString().slice(0, 10);
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64");
  if (v instanceof Float64Array) return Array.from(v);
  if (v instanceof DenseMatrix) return v.toJSON();
  if (Array.isArray(v)) return v.map(toJsonValue);
  if (v instanceof Map) {
    const entries = [...v];
    if (entries.every(([k]) => typeof k === "string")) {
      return Object.fromEntries(entries.map(([k, x]) => [k, toJsonValue(x)]));
    }
    return entries.map(([k, x]) => [toJsonValue(k), toJsonValue(x)]);
  }
  if (typeof v === "object") {
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, toJsonValue(x)]));
  }
  return v;
}

/** A short human rendering of one value, as `show()` prints it. */
export function renderValue(v: unknown): string {
  if (v === null || v === undefined) return "NULL";
  if (typeof v === "string") return v;
  if (v instanceof Date) return v.toISOString().slice(0, 10);
  if (v instanceof Timestamp) {
    const iso = v.toISOString().replace("T", " ").replace("Z", "");
    return iso.replace(/\.?0+$/, "");
  }
  if (v instanceof Uint8Array)
    return `[${Array.from(v, (b) => b.toString(16).toUpperCase().padStart(2, "0")).join(" ")}]`;
  if (v instanceof Float64Array) return `[${Array.from(v).join(",")}]`;
  if (v instanceof Row) return `{${v.values.map(renderValue).join(", ")}}`;
  if (Array.isArray(v)) return `[${v.map(renderValue).join(", ")}]`;
  if (v instanceof Map) return `{${[...v].map(([k, x]) => `${renderValue(k)} -> ${renderValue(x)}`).join(", ")}}`;
  return String(v);
}
