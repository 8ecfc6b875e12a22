/**
 * Reads the rows Spark's script transformation writes to the bridge's stdin for
 * `TRANSFORM(path, base64(content)) ROW FORMAT DELIMITED FIELDS TERMINATED BY '\t'
 * LINES TERMINATED BY '\n' NULL DEFINED AS '\\N'`.
 *
 * Spark's delimited writer (no SerDe) does not escape: it joins the fields' string values with
 * the field delimiter, writes the null marker for nulls, and ends each row with the line
 * delimiter. So a tab or newline inside a path arrives raw, and Spark 4's `base64()` chunks its
 * output into 76-character lines separated by CRLF (`spark.sql.chunkBase64String.enabled`,
 * true by default). The parser undoes both: the content is always the last field (base64 has
 * no tab), a line without a tab can only be the first part of a path that held a newline, and a
 * content line ending in CR continues on the next line.
 */

/** One input row. */
export interface InputRow {
  id: string | null;
  /** Decoded bytes, or null for a null content. */
  content: Uint8Array | null;
  /** Set when the row itself is malformed (its content is then null). */
  error: string | null;
}

const NL = 0x0a;
const TAB = 0x09;
const CR = 0x0d;
const NULL_MARKER = "\\N";

/** Incremental parser: feed stdin chunks with `push`, then `end()`; rows come out in order. */
export class DelimitedRowParser {
  private partial: Buffer[] = [];
  private idPrefix: string | null = null;
  private continuing: { id: string | null; content: string[] } | null = null;

  constructor(private readonly emit: (row: InputRow) => void) {}

  /** Feeds a chunk of stdin. */
  push(chunk: Buffer): void {
    let start = 0;
    let nl = chunk.indexOf(NL, start);
    while (nl >= 0) {
      let line: Buffer;
      if (this.partial.length > 0) {
        this.partial.push(chunk.subarray(start, nl));
        line = Buffer.concat(this.partial);
        this.partial = [];
      } else {
        line = chunk.subarray(start, nl);
      }
      this.line(line);
      start = nl + 1;
      nl = chunk.indexOf(NL, start);
    }
    if (start < chunk.length) this.partial.push(chunk.subarray(start));
  }

  /** Ends the input: a last line without a line terminator still counts. */
  end(): void {
    if (this.partial.length > 0) {
      const line = Buffer.concat(this.partial);
      this.partial = [];
      this.line(line);
    }
    if (this.continuing) {
      const { id, content } = this.continuing;
      this.continuing = null;
      this.emitRow(id, content.join(""));
    }
    if (this.idPrefix !== null) {
      const id = this.idPrefix.slice(0, -1);
      this.idPrefix = null;
      this.emit({ id, content: null, error: "malformed input row: no content field" });
    }
  }

  private line(line: Buffer): void {
    if (this.continuing) {
      const endsWithCr = line.length > 0 && line[line.length - 1] === CR;
      this.continuing.content.push(line.toString("latin1", 0, endsWithCr ? line.length - 1 : line.length));
      if (!endsWithCr) {
        const { id, content } = this.continuing;
        this.continuing = null;
        this.emitRow(id, content.join(""));
      }
      return;
    }
    const tab = line.lastIndexOf(TAB);
    if (tab < 0) {
      // No field delimiter: the start of a path that contained a newline.
      this.idPrefix = `${this.idPrefix ?? ""}${line.toString("utf8")}\n`;
      return;
    }
    const idText = line.toString("utf8", 0, tab);
    const fullId = this.idPrefix === null ? idText : this.idPrefix + idText;
    this.idPrefix = null;
    const id = fullId === NULL_MARKER ? null : fullId;
    if (line.length > tab + 1 && line[line.length - 1] === CR) {
      this.continuing = { id, content: [line.toString("latin1", tab + 1, line.length - 1)] };
      return;
    }
    this.emitRow(id, line.toString("latin1", tab + 1));
  }

  private emitRow(id: string | null, content: string): void {
    if (content === NULL_MARKER) {
      this.emit({ id, content: null, error: null });
      return;
    }
    this.emit({ id, content: Buffer.from(content, "base64"), error: null });
  }
}
