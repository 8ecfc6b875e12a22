import { type Row, renderValue } from "./row.ts";

/** How {@link formatShowTable} lays the table out; the meaning of PySpark's `show()` arguments. */
export interface ShowLayout {
  /** Rows shown at most (PySpark `n`). */
  numRows: number;
  /** `true` cuts cells to 20 characters, a number to that many, `false`/0 never (PySpark `truncate`). */
  truncate: boolean | number;
  /** One block per record instead of a table (PySpark `vertical`). */
  vertical?: boolean;
}

const MIN_COL_WIDTH = 3;

// East Asian wide and full-width ranges Spark counts as two columns (Utils.stringHalfWidth).
const FULL_WIDTH =
  /[\u1100-\u115F\u2E80-\uA4CF\uAC00-\uD7A3\uF900-\uFAFF\uFE10-\uFE19\uFE30-\uFE6F\uFF00-\uFF60\uFFE0-\uFFE6]/g;

/** Display width as Spark measures it: UTF-16 length plus one per wide (CJK, full-width) character. */
export function displayWidth(s: string): number {
  return s.length + (s.match(FULL_WIDTH)?.length ?? 0);
}

const META: Record<string, string> = {
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\f": "\\f",
  "\b": "\\b",
  "\u000B": "\\v",
  "\u0007": "\\a",
};

/** Escapes control characters that would break the table, as Spark does (`\n` -> `\\n`, ...). */
function escapeMetaCharacters(s: string): string {
  let out = "";
  for (const c of s) out += META[c] ?? c;
  return out;
}

function truncateTo(layout: ShowLayout): number {
  if (layout.truncate === true) return 20;
  if (layout.truncate === false) return 0;
  return Math.max(0, Math.trunc(layout.truncate));
}

function cut(s: string, truncate: number): string {
  if (truncate <= 0 || s.length <= truncate) return s;
  return truncate < 4 ? s.slice(0, truncate) : `${s.slice(0, truncate - 3)}...`;
}

function padLeft(s: string, width: number): string {
  return " ".repeat(Math.max(0, width - displayWidth(s))) + s;
}

function padRight(s: string, width: number, fill = " "): string {
  return s + fill.repeat(Math.max(0, width - displayWidth(s)));
}

/**
 * Spark's `show()` text for a header and already-rendered cells, laid out exactly as Spark's
 * `Dataset.showString` does (the text PySpark prints): `+---+` borders, cells right-aligned when
 * truncating and left-aligned otherwise, wide characters counted twice, control characters
 * escaped, and the footer "only showing top n rows" when `cells` holds more than `numRows` rows
 * (pass up to `numRows + 1`), or "(0 rows)" for an empty vertical display.
 */
export function formatShowTable(
  header: readonly string[],
  cells: readonly (readonly string[])[],
  layout: ShowLayout,
): string {
  const numRows = Math.max(0, Math.trunc(layout.numRows));
  const truncate = truncateTo(layout);
  const hasMoreData = cells.length > numRows;
  const names = header.map(escapeMetaCharacters);
  const data = cells.slice(0, numRows).map((row) => row.map((c) => cut(escapeMetaCharacters(c), truncate)));
  let out = "";
  if (!layout.vertical) {
    const widths = names.map((n) => Math.max(MIN_COL_WIDTH, displayWidth(n)));
    for (const row of data) {
      row.forEach((c, i) => {
        widths[i] = Math.max(widths[i] ?? MIN_COL_WIDTH, displayWidth(c));
      });
    }
    const pad = (c: string, i: number) => (truncate > 0 ? padLeft(c, widths[i] ?? 0) : padRight(c, widths[i] ?? 0));
    const line = (row: readonly string[]) => `|${row.map(pad).join("|")}|\n`;
    const sep = `+${widths.map((w) => "-".repeat(w)).join("+")}+\n`;
    out = sep + line(names) + sep + data.map(line).join("") + sep;
  } else {
    const nameWidth = names.reduce((m, n) => Math.max(m, displayWidth(n)), MIN_COL_WIDTH);
    const dataWidth = data.reduce((m, row) => Math.max(m, ...row.map(displayWidth)), MIN_COL_WIDTH);
    data.forEach((row, i) => {
      out += `${padRight(`-RECORD ${i}`, nameWidth + dataWidth + 5, "-")}\n`;
      out += row.map((c, j) => ` ${padRight(names[j] ?? "", nameWidth)} | ${padRight(c, dataWidth)} \n`).join("");
    });
  }
  if (layout.vertical && data.length === 0) out += "(0 rows)";
  else if (hasMoreData) out += `only showing top ${numRows} ${numRows === 1 ? "row" : "rows"}`;
  return out;
}

/**
 * Spark's `show()` text for rows already on the client, cells rendered with `renderValue` (the
 * text is Spark's wherever the JS value renders as Spark renders it: strings, integers, NULL,
 * dates, binaries, arrays, maps, structs). For a DataFrame, `df.show()` asks the server instead.
 */
export function formatRows(rows: readonly Row[], layout: ShowLayout, header?: readonly string[]): string {
  const names = header ?? rows[0]?.fieldNames ?? [];
  return formatShowTable(
    names,
    rows.map((r) => r.values.map(renderValue)),
    layout,
  );
}
