import { randomBytes } from "node:crypto";
import type { MlParams } from "../connect/ml-operations.ts";

/**
 * The params plumbing every Spark ML class in this folder shares: uids, the params sent to the
 * server, and params read back from a saved model or operator.
 */

/** A fresh uid in Spark's form, e.g. `LogisticRegression_4f1c0a9b2e3d` (PySpark: `Identifiable._randomUID`). */
export function newUid(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString("hex")}`;
}

/** The params as Spark ML params: every defined value, by its PySpark name. */
export function toMlParams(params: object): MlParams {
  return Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined)) as MlParams;
}

/**
 * `defaults` with the values `loaded` holds for the same names, each coerced to its default's type
 * (a long comes back as a bigint, a double param saved as a whole number as an int); the optional
 * params named in `optional` are taken as they are, when present.
 */
export function paramsFrom<P extends object>(
  defaults: P,
  loaded: Record<string, unknown>,
  optional: Partial<Record<string, (v: unknown) => unknown>> = {},
): P {
  const out: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [name, fallback] of Object.entries(defaults)) {
    const v = loaded[name];
    if (v === undefined || v === null) continue;
    if (typeof fallback === "number") out[name] = Number(v);
    else if (typeof fallback === "boolean") out[name] = Boolean(v);
    else if (typeof fallback === "string") out[name] = String(v);
    else out[name] = v;
  }
  for (const [name, coerce] of Object.entries(optional)) {
    const v = loaded[name];
    if (v !== undefined && v !== null && coerce) out[name] = coerce(v);
  }
  return out as P;
}
