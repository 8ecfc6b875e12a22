import { describe, expect, it } from "vitest";
import { DelimitedRowParser, type InputRow } from "../../udf-server/src/bridge/delimited-input.ts";
import { formatFeatures, formatFloat32, formatOutputRow } from "../../udf-server/src/bridge/delimited-output.ts";

function parse(chunks: (string | Buffer)[], maxContentBytes?: number): InputRow[] {
  const rows: InputRow[] = [];
  const p = new DelimitedRowParser((r) => rows.push(r), maxContentBytes);
  for (const c of chunks) p.push(Buffer.isBuffer(c) ? c : Buffer.from(c, "utf8"));
  p.end();
  return rows;
}

const b64 = (s: string) => Buffer.from(s).toString("base64");
const text = (r: InputRow) => (r.content === null ? null : Buffer.from(r.content).toString());

describe("bridge input: Spark's delimited rows", () => {
  it("reads ids, base64 content and \\N nulls, across arbitrary chunk boundaries", () => {
    const stream = `a.jpg\t${b64("first image")}\n\\N\t${b64("x")}\nc.png\t\\N\nd\t\n`;
    for (const size of [1, 3, 7, stream.length]) {
      const chunks: string[] = [];
      for (let i = 0; i < stream.length; i += size) chunks.push(stream.slice(i, i + size));
      const rows = parse(chunks);
      expect(rows.map((r) => r.id)).toEqual(["a.jpg", null, "c.png", "d"]);
      expect(rows.map(text)).toEqual(["first image", "x", null, ""]);
      expect(rows.every((r) => r.error === null)).toBe(true);
    }
  });

  it("keeps a tab and a newline inside the path (Spark writes them raw)", () => {
    const rows = parse([`dir/a\tb.jpg\t${b64("one")}\nline\nbreak.jpg\t${b64("two")}\n`]);
    expect(rows.map((r) => r.id)).toEqual(["dir/a\tb.jpg", "line\nbreak.jpg"]);
    expect(rows.map(text)).toEqual(["one", "two"]);
  });

  it("joins Spark 4's chunked base64 (76 characters per line, CRLF between)", () => {
    const payload = "y".repeat(300);
    const chunked = (b64(payload).match(/.{1,76}/g) ?? []).join("\r\n");
    const rows = parse([`big.jpg\t${chunked}\nnext.jpg\t${b64("n")}\n`]);
    expect(rows.map((r) => r.id)).toEqual(["big.jpg", "next.jpg"]);
    expect(rows.map(text)).toEqual([payload, "n"]);
  });

  describe("a row larger than the limit is an error row, never held whole", () => {
    const limit = 1000;
    const chunkedB64 = (n: number) => (b64("q".repeat(n)).match(/.{1,76}/g) ?? []).join("\r\n");
    const tooBig = "image too large for the bridge: more than 1000 bytes";
    it.each([
      { name: "chunked base64 (Spark 4's default)", content: chunkedB64 },
      { name: "one base64 line", content: (n: number) => b64("q".repeat(n)) },
    ])("$name, fed whole and in 7-byte chunks", ({ content }) => {
      const stream = `ok.jpg\t${content(limit)}\nbig.jpg\t${content(50 * limit)}\nafter.jpg\t${b64("a")}\n`;
      for (const size of [7, stream.length]) {
        const chunks: string[] = [];
        for (let i = 0; i < stream.length; i += size) chunks.push(stream.slice(i, i + size));
        const rows = parse(chunks, limit);
        expect(rows.map((r) => r.id)).toEqual(["ok.jpg", "big.jpg", "after.jpg"]);
        expect(rows.map((r) => r.error)).toEqual([null, tooBig, null]);
        expect(rows.map((r) => r.content?.length ?? null)).toEqual([limit, null, 1]);
      }
    });

    it("a huge unterminated line is dropped as it streams and its row still comes out", () => {
      const rows: InputRow[] = [];
      const p = new DelimitedRowParser((r) => rows.push(r), limit);
      p.push(Buffer.from("huge.jpg\t"));
      const block = Buffer.from("A".repeat(64 * 1024));
      for (let i = 0; i < 100; i++) p.push(block); // 6.4 MB of base64, never concatenated
      p.push(Buffer.from(`\nnext.jpg\t${b64("n")}\n`));
      p.end();
      expect(rows.map((r) => [r.id, r.error])).toEqual([
        ["huge.jpg", tooBig],
        ["next.jpg", null],
      ]);
    });

    it("an oversized last row without a newline is reported at the end", () => {
      const rows = parse([`tail.jpg\t${"A".repeat(200 * 1024)}`], limit);
      expect(rows.map((r) => [r.id, r.error])).toEqual([["tail.jpg", tooBig]]);
    });
  });

  it("handles empty input, a last line without newline, and a dangling path", () => {
    expect(parse([])).toEqual([]);
    expect(parse([`last\t${b64("z")}`]).map(text)).toEqual(["z"]);
    const dangling = parse(["no-tab-here\n"]);
    expect(dangling).toHaveLength(1);
    expect(dangling[0]?.error).toMatch(/malformed/);
  });
});

describe("bridge output", () => {
  it("formats float32 values that read back exactly", () => {
    const values = new Float32Array([0, 1, -1, 0.1, 1 / 3, 3.4028234663852886e38, 1.4e-45, 123456.789, 6, 1e-7]);
    for (const v of values) {
      const s = formatFloat32(v);
      expect(Math.fround(Number(s))).toBe(v);
      expect(s.replace(/^-/, "").replace(/e.*$/, "").replace(".", "").replace(/^0+/, "").length).toBeLessThanOrEqual(9);
    }
    expect(JSON.parse(formatFeatures(values))).toHaveLength(values.length);
    expect(formatFloat32(Number.NaN)).toBe("null");
  });

  it("writes tab-separated fields with \\N for null and no raw tab or newline", () => {
    expect(
      formatOutputRow({ id: "a.jpg", features: new Float32Array([0.5, 2]), error: null, width: 100, height: 50 }),
    ).toBe("a.jpg\t[0.5,2]\t\\N\t100\t50\n");
    const line = formatOutputRow({
      id: "x\ty\nz",
      features: null,
      error: "bad\nimage\tdata",
      width: null,
      height: null,
    });
    expect(line).toBe("x\\ty\\nz\t\\N\tbad image data\t\\N\t\\N\n");
    expect(line.slice(0, -1)).not.toMatch(/\n/);
    expect(line.split("\t")).toHaveLength(5);
  });
});
