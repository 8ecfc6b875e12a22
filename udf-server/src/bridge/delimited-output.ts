/**
 * Writes the bridge's output rows as Spark's delimited reader expects them for
 * `AS (path string, features string, error string, width int, height int) ROW FORMAT DELIMITED
 * FIELDS TERMINATED BY '\t' LINES TERMINATED BY '\n' NULL DEFINED AS '\\N'`: fields joined by
 * tabs, `\N` for null. Spark splits on the delimiters without unescaping, so no field may hold
 * a tab or a newline: features are JSON (none), errors have them replaced by spaces, and ids
 * (paths) that contain them get them written as the two-character escapes `\t`, `\n`, `\r`.
 */
import type { FeatureRow } from "../flight/feature-schema.ts";

const NULL_MARKER = "\\N";

/**
 * A float32 as the shortest JSON number text of at most 9 significant digits, which always
 * reads back (as float32) to the same value; non-finite values become `null`.
 */
export function formatFloat32(v: number): string {
  if (v === 0) return "0";
  if (!Number.isFinite(v)) return "null";
  const s = v.toPrecision(9);
  const e = s.indexOf("e");
  const mantissa = e < 0 ? s : s.slice(0, e);
  const exponent = e < 0 ? "" : s.slice(e);
  if (mantissa.indexOf(".") < 0) return s;
  let end = mantissa.length;
  while (mantissa.charCodeAt(end - 1) === 48) end--;
  if (mantissa.charCodeAt(end - 1) === 46) end--;
  return mantissa.slice(0, end) + exponent;
}

/** A feature vector as a JSON array. */
export function formatFeatures(features: Float32Array): string {
  const parts = new Array<string>(features.length);
  for (let i = 0; i < features.length; i++) parts[i] = formatFloat32(features[i] as number);
  return `[${parts.join(",")}]`;
}

function escapeId(id: string): string {
  return /[\t\n\r]/.test(id) ? id.replace(/\t/g, "\\t").replace(/\n/g, "\\n").replace(/\r/g, "\\r") : id;
}

function oneLine(text: string): string {
  return /[\t\n\r]/.test(text) ? text.replace(/[\t\n\r]+/g, " ") : text;
}

/** One output line (with its terminating newline). */
export function formatOutputRow(row: FeatureRow): string {
  const id = row.id === null ? NULL_MARKER : escapeId(row.id);
  const features = row.features === null ? NULL_MARKER : formatFeatures(row.features);
  const error = row.error === null ? NULL_MARKER : oneLine(row.error);
  const width = row.width === null ? NULL_MARKER : String(row.width);
  const height = row.height === null ? NULL_MARKER : String(row.height);
  return `${id}\t${features}\t${error}\t${width}\t${height}\n`;
}
