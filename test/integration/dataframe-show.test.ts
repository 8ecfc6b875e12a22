import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import { SparkSession } from "../../src/index.ts";
import { withPySpark } from "./helpers/pyspark-client.ts";

let spark: SparkSession;
let remote: string;

beforeAll(() => {
  remote = inject("sparkRemote");
  spark = SparkSession.builder.remote(remote).create();
});

afterAll(async () => {
  await spark.stop();
});

const QUERY = `SELECT * FROM VALUES
  (1, 'short', 1.5D, CAST(10 AS BIGINT), array(1, 2), map('k', 'v'), named_struct('a', 1, 'b', 'x'), X'0102FF', DATE'2024-02-29', 12.50BD),
  (2, NULL, 1e10D, NULL, array(NULL, 3), NULL, NULL, NULL, NULL, NULL),
  (3, 'a string that is much longer than twenty characters', -0.001D, 9223372036854775807L, array(), map(), named_struct('a', NULL, 'b', 'y'), X'', DATE'1969-12-31', -0.01BD),
  (4, '日本語テキスト', 0D, -1L, NULL, map('x', NULL), NULL, X'41', NULL, 0BD),
  (5, 'tab\\there', 3.0D, 5L, array(7), NULL, NULL, NULL, NULL, NULL)
  AS t(id, s, d, l, arr, m, st, bin, dt, dec)`;

const layouts: Array<[number, boolean | number, boolean]> = [
  [20, true, false],
  [2, true, false],
  [1, true, false],
  [20, 5, false],
  [20, 2, false],
  [20, false, false],
  [3, true, true],
  [0, true, false],
];

describe("show() prints exactly what PySpark's show() prints", () => {
  it.each(layouts)("n=%s truncate=%s vertical=%s", async (n, truncate, vertical) => {
    const py = await withPySpark<string>(
      remote,
      [
        "import io, contextlib",
        `df = spark.sql(${JSON.stringify(QUERY)})`,
        "buf = io.StringIO()",
        "with contextlib.redirect_stdout(buf):",
        `    df.show(${n}, ${typeof truncate === "boolean" ? (truncate ? "True" : "False") : truncate}, ${vertical ? "True" : "False"})`,
        "print(json.dumps(buf.getvalue()))",
      ].join("\n"),
    );
    const printed: string[] = [];
    const spy = vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
      printed.push(`${args.map(String).join(" ")}\n`);
    });
    try {
      await spark.sql(QUERY).show(n, truncate, vertical);
    } finally {
      spy.mockRestore();
    }
    expect(printed.join("")).toBe(py);
    expect(py.length).toBeGreaterThan(10);
  });

  it("show({ n, truncate, vertical }) is show(n, truncate, vertical)", async () => {
    const df = spark.sql(QUERY);
    expect(await df.showString({ n: 2, truncate: 4, vertical: true })).toBe(await df.showString(2, 4, true));
    expect(await df.showString({ truncate: false })).toBe(await df.showString(20, false));
  });

  it("an empty result and a one-column range", async () => {
    for (const q of ["SELECT * FROM range(0)", "SELECT id FROM range(25)"]) {
      const py = await withPySpark<string>(
        remote,
        `print(json.dumps(spark.sql(${JSON.stringify(q)})._show_string(20, 20, False)))`,
      );
      expect(await spark.sql(q).showString()).toBe(py);
    }
  });
});
