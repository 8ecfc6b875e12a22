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
 *
 * A row whose content exceeds `maxContentBytes` is never held whole: past the limit its base64 is
 * counted and dropped as it streams, and the row comes out with an error and no content (a 400 MB
 * file would otherwise be a string beyond V8's limit and end the bridge with a RangeError).
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

/** The error of a row whose content is larger than the limit. */
export function oversizedRowError(maxContentBytes: number): string {
  return `image too large for the bridge: more than ${maxContentBytes} bytes`;
}

/** Incremental parser: feed stdin chunks with `push`, then `end()`; rows come out in order. */
export class DelimitedRowParser {
  private partial: Buffer[] = [];
  private partialBytes = 0;
  private idPrefix: string | null = null;
  private continuing: { id: string | null; content: string[]; chars: number } | null = null;
  /**
   * Set while the rest of an oversized row streams past: its id, and the last byte dropped from
   * the current line (a CR there, just before the next chunk's newline, means the row goes on).
   */
  private skipping: { id: string | null; lastByte: number } | null = null;
  /** Base64 characters of content allowed in one row. */
  private readonly maxChars: number;

  /** `maxContentBytes`: the largest content (decoded bytes) a row may have (default: no limit). */
  constructor(
    private readonly emit: (row: InputRow) => void,
    private readonly maxContentBytes = Number.POSITIVE_INFINITY,
  ) {
    this.maxChars = Math.ceil(maxContentBytes / 3) * 4;
  }

  /** Feeds a chunk of stdin. */
  push(chunk: Buffer): void {
    let start = 0;
    let nl = chunk.indexOf(NL, start);
    while (nl >= 0) {
      if (this.skipping && this.partial.length === 0) {
        this.skipLine(chunk.subarray(start, nl));
      } else {
        let line: Buffer;
        if (this.partial.length > 0) {
          this.partial.push(chunk.subarray(start, nl));
          line = Buffer.concat(this.partial);
          this.partial = [];
          this.partialBytes = 0;
        } else {
          line = chunk.subarray(start, nl);
        }
        this.line(line);
      }
      start = nl + 1;
      nl = chunk.indexOf(NL, start);
    }
    if (start < chunk.length) {
      if (this.skipping) {
        this.skipping.lastByte = chunk[chunk.length - 1] as number;
        return;
      }
      this.partial.push(chunk.subarray(start));
      this.partialBytes += chunk.length - start;
      // One unterminated line longer than any allowed row (content not split into 76-character lines).
      if (this.partialBytes > this.maxChars + 64 * 1024) this.startSkippingLine();
    }
  }

  /** The current unterminated line is too long: keep its id, drop the rest of the line as it comes. */
  private startSkippingLine(): void {
    const line = Buffer.concat(this.partial);
    this.partial = [];
    this.partialBytes = 0;
    const lastByte = line[line.length - 1] ?? -1;
    if (this.continuing) {
      this.skipping = { id: this.continuing.id, lastByte };
      this.continuing = null;
      return;
    }
    const tab = line.lastIndexOf(TAB);
    const idText = tab < 0 ? line.toString("utf8", 0, 4096) : line.toString("utf8", 0, tab);
    const fullId = this.idPrefix === null ? idText : this.idPrefix + idText;
    this.idPrefix = null;
    this.skipping = { id: fullId === NULL_MARKER ? null : fullId, lastByte };
  }

  /** A line of an oversized row: the row ends with the first content line that does not end in CR. */
  private skipLine(line: Buffer): void {
    const skipping = this.skipping;
    if (!skipping) return;
    const last = line.length > 0 ? line[line.length - 1] : skipping.lastByte;
    skipping.lastByte = -1;
    if (last === CR) return;
    this.skipping = null;
    this.emit({ id: skipping.id, content: null, error: oversizedRowError(this.maxContentBytes) });
  }

  /** Ends the input: a last line without a line terminator still counts. */
  end(): void {
    if (this.skipping) {
      const { id } = this.skipping;
      this.skipping = null;
      this.partial = [];
      this.emit({ id, content: null, error: oversizedRowError(this.maxContentBytes) });
    }
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
      const text = line.toString("latin1", 0, endsWithCr ? line.length - 1 : line.length);
      this.continuing.content.push(text);
      this.continuing.chars += text.length;
      if (this.continuing.chars > this.maxChars) {
        // Past the limit: the content so far is dropped, the rest of the row is skipped as it streams.
        const { id } = this.continuing;
        this.continuing = null;
        if (endsWithCr) this.skipping = { id, lastByte: -1 };
        else this.emit({ id, content: null, error: oversizedRowError(this.maxContentBytes) });
        return;
      }
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
      const first = line.toString("latin1", tab + 1, line.length - 1);
      this.continuing = { id, content: [first], chars: first.length };
      return;
    }
    if (line.length - tab - 1 > this.maxChars) {
      this.emit({ id, content: null, error: oversizedRowError(this.maxContentBytes) });
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
