import { PlanError } from "./errors.ts";

/**
 * Value classes of orchard's type contract (see [docs/types.md](../../docs/types.md)): the JS values for the Spark
 * types that have no lossless native JS equivalent.
 */

const TEN = 10n;

/**
 * An exact decimal: `unscaled * 10^-scale`. Spark `DecimalType(p, s)` values decode to this
 * (every digit kept), and `createDataFrame` infers `DecimalType` from it. PySpark equivalent:
 * `decimal.Decimal`.
 */
export class Decimal {
  readonly unscaled: bigint;
  readonly scale: number;

  constructor(unscaled: bigint, scale: number) {
    if (!Number.isInteger(scale) || scale < 0)
      throw new PlanError({ message: `Decimal scale must be >= 0, got ${scale}` });
    this.unscaled = unscaled;
    this.scale = scale;
  }

  /** Parses `"-12.3400"`, `"5"`, `"1e-3"`; the scale is the number of digits after the point. */
  static parse(text: string): Decimal {
    const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text.trim());
    if (!m || (m[2] === "" && (m[3] ?? "") === ""))
      throw new PlanError({ message: `not a decimal number: ${JSON.stringify(text)}` });
    const intPart = m[2] ?? "";
    const frac = m[3] ?? "";
    const exp = m[4] === undefined ? 0 : Number(m[4]);
    let unscaled = BigInt(`${intPart}${frac}` || "0");
    let scale = frac.length - exp;
    if (scale < 0) {
      unscaled *= TEN ** BigInt(-scale);
      scale = 0;
    }
    return new Decimal(m[1] === "-" ? -unscaled : unscaled, scale);
  }

  /** Number of significant digits of the unscaled value (at least 1). */
  get precision(): number {
    const digits = (this.unscaled < 0n ? -this.unscaled : this.unscaled).toString().length;
    return Math.max(digits, this.scale, 1);
  }

  /** Plain notation with exactly `scale` fraction digits, e.g. `"-0.050"`. */
  toString(): string {
    const neg = this.unscaled < 0n;
    const digits = (neg ? -this.unscaled : this.unscaled).toString();
    if (this.scale === 0) return `${neg ? "-" : ""}${digits}`;
    const padded = digits.padStart(this.scale + 1, "0");
    const cut = padded.length - this.scale;
    return `${neg ? "-" : ""}${padded.slice(0, cut)}.${padded.slice(cut)}`;
  }

  /** Nearest double (may round). */
  toNumber(): number {
    return Number(this.toString());
  }

  toJSON(): string {
    return this.toString();
  }

  equals(other: Decimal): boolean {
    if (this.scale === other.scale) return this.unscaled === other.unscaled;
    const s = Math.max(this.scale, other.scale);
    return this.unscaled * TEN ** BigInt(s - this.scale) === other.unscaled * TEN ** BigInt(s - other.scale);
  }
}

/**
 * An instant with microsecond precision: Spark `TimestampType` (and, with `ntz` true,
 * `TimestampNTZType`, whose micros count wall-clock time as if in UTC). PySpark equivalent:
 * `datetime.datetime`.
 */
export class Timestamp {
  /** Microseconds since 1970-01-01T00:00:00Z. */
  readonly epochMicros: bigint;
  /** True for `TIMESTAMP_NTZ` (local date-time without a time zone). */
  readonly ntz: boolean;

  constructor(epochMicros: bigint, ntz = false) {
    this.epochMicros = epochMicros;
    this.ntz = ntz;
  }

  /** From a JS Date (millisecond precision). */
  static fromDate(date: Date, ntz = false): Timestamp {
    return new Timestamp(BigInt(date.getTime()) * 1000n, ntz);
  }

  /** Parses an ISO-8601 instant with up to 6 fraction digits, e.g. `2024-01-02T03:04:05.123456Z`. */
  static parse(text: string, ntz = false): Timestamp {
    const m = /^(.*T\d{2}:\d{2}(?::\d{2})?)(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/.exec(text.trim());
    if (!m) throw new PlanError({ message: `not an ISO-8601 timestamp: ${JSON.stringify(text)}` });
    const zone = m[3] ?? "Z";
    const base = Date.parse(`${m[1]}${zone}`);
    if (Number.isNaN(base)) throw new PlanError({ message: `not an ISO-8601 timestamp: ${JSON.stringify(text)}` });
    const frac = (m[2] ?? "").padEnd(6, "0").slice(0, 6);
    return new Timestamp(BigInt(base) * 1000n + BigInt(frac), ntz);
  }

  /** The JS Date (sub-millisecond digits are truncated toward negative infinity). */
  toDate(): Date {
    const ms = this.epochMicros / 1000n - (this.epochMicros % 1000n < 0n ? 1n : 0n);
    return new Date(Number(ms));
  }

  /** ISO-8601 with 6 fraction digits; `Z` suffix unless `ntz`. */
  toISOString(): string {
    let micros = this.epochMicros % 1000000n;
    if (micros < 0n) micros += 1000000n;
    const seconds = (this.epochMicros - micros) / 1000000n;
    const iso = new Date(Number(seconds) * 1000).toISOString();
    return `${iso.slice(0, 19)}.${micros.toString().padStart(6, "0")}${this.ntz ? "" : "Z"}`;
  }

  toString(): string {
    return this.toISOString();
  }

  toJSON(): string {
    return this.toISOString();
  }

  equals(other: Timestamp): boolean {
    return this.epochMicros === other.epochMicros && this.ntz === other.ntz;
  }
}

/**
 * A Spark `CalendarIntervalType` value. PySpark has no direct equivalent (it refuses to collect them).
 */
export interface CalendarInterval {
  readonly months: number;
  readonly days: number;
  readonly microseconds: bigint;
}

/**
 * A dense matrix decoded from Spark ML's `MatrixUDT`, values in column-major order (as Spark's
 * `DenseMatrix`; sparse matrices are expanded). PySpark equivalent: `pyspark.ml.linalg.DenseMatrix`.
 */
export class DenseMatrix {
  readonly numRows: number;
  readonly numCols: number;
  /** Column-major values, `numRows * numCols` long. */
  readonly values: Float64Array;

  constructor(numRows: number, numCols: number, values: Float64Array) {
    if (values.length !== numRows * numCols) {
      throw new PlanError({
        message: `DenseMatrix ${numRows}x${numCols} needs ${numRows * numCols} values, got ${values.length}`,
      });
    }
    this.numRows = numRows;
    this.numCols = numCols;
    this.values = values;
  }

  /** The value at row `i`, column `j`. */
  get(i: number, j: number): number {
    return this.values[j * this.numRows + i] as number;
  }

  /** Rows as arrays. */
  toArray(): number[][] {
    const out: number[][] = [];
    for (let i = 0; i < this.numRows; i++) {
      const row: number[] = [];
      for (let j = 0; j < this.numCols; j++) row.push(this.get(i, j));
      out.push(row);
    }
    return out;
  }

  toJSON(): { numRows: number; numCols: number; values: number[] } {
    return { numRows: this.numRows, numCols: this.numCols, values: Array.from(this.values) };
  }
}
