import { describe, expect, it } from "vitest";
import { Row, RowLayout } from "../../src/connect/row.ts";
import { displayWidth, formatRows, formatShowTable, type ShowLayout } from "../../src/connect/show-format.ts";

// Expected texts were captured once from Spark 4.1.1 (PySpark Connect `df._show_string(...)`) for
//   createDataFrame([("a", 1, "short"), ("bb", 22, None), ("日本語テキスト", -333, "a very long string that
//   exceeds twenty characters"), ("tab\there", 4, "new\nline")], "name string, n int, note string")
const header = ["name", "n", "note"];
const cells = [
  ["a", "1", "short"],
  ["bb", "22", "NULL"],
  ["日本語テキスト", "-333", "a very long string that exceeds twenty characters"],
  ["tab\there", "4", "new\nline"],
];

const cases: Array<[string, ShowLayout, readonly (readonly string[])[], string]> = [
  [
    "default (n=20, truncate=true)",
    { numRows: 20, truncate: true },
    cells,
    "+--------------+----+--------------------+\n|          name|   n|                note|\n+--------------+----+--------------------+\n|             a|   1|               short|\n|            bb|  22|                NULL|\n|日本語テキスト|-333|a very long strin...|\n|     tab\\there|   4|           new\\nline|\n+--------------+----+--------------------+\n",
  ],
  [
    "n=2 has a footer",
    { numRows: 2, truncate: true },
    cells.slice(0, 3),
    "+----+---+-----+\n|name|  n| note|\n+----+---+-----+\n|   a|  1|short|\n|  bb| 22| NULL|\n+----+---+-----+\nonly showing top 2 rows",
  ],
  [
    "n=1 says row",
    { numRows: 1, truncate: true },
    cells.slice(0, 2),
    "+----+---+-----+\n|name|  n| note|\n+----+---+-----+\n|   a|  1|short|\n+----+---+-----+\nonly showing top 1 row",
  ],
  [
    "truncate=5",
    { numRows: 20, truncate: 5 },
    cells,
    "+-------+----+-----+\n|   name|   n| note|\n+-------+----+-----+\n|      a|   1|short|\n|     bb|  22| NULL|\n|日本...|-333|a ...|\n|  ta...|   4|ne...|\n+-------+----+-----+\n",
  ],
  [
    "truncate=2 (no ellipsis under 4)",
    { numRows: 20, truncate: 2 },
    cells,
    "+----+---+----+\n|name|  n|note|\n+----+---+----+\n|   a|  1|  sh|\n|  bb| 22|  NU|\n|日本| -3|  a |\n|  ta|  4|  ne|\n+----+---+----+\n",
  ],
  [
    "truncate=false left-aligns",
    { numRows: 20, truncate: false },
    cells,
    "+--------------+----+-------------------------------------------------+\n|name          |n   |note                                             |\n+--------------+----+-------------------------------------------------+\n|a             |1   |short                                            |\n|bb            |22  |NULL                                             |\n|日本語テキスト|-333|a very long string that exceeds twenty characters|\n|tab\\there     |4   |new\\nline                                        |\n+--------------+----+-------------------------------------------------+\n",
  ],
  [
    "vertical",
    { numRows: 20, truncate: true, vertical: true },
    cells,
    "-RECORD 0--------------------\n name | a                    \n n    | 1                    \n note | short                \n-RECORD 1--------------------\n name | bb                   \n n    | 22                   \n note | NULL                 \n-RECORD 2--------------------\n name | 日本語テキスト       \n n    | -333                 \n note | a very long strin... \n-RECORD 3--------------------\n name | tab\\there            \n n    | 4                    \n note | new\\nline            \n",
  ],
  [
    "vertical n=1",
    { numRows: 1, truncate: true, vertical: true },
    cells.slice(0, 2),
    "-RECORD 0-----\n name | a     \n n    | 1     \n note | short \nonly showing top 1 row",
  ],
  [
    "empty",
    { numRows: 20, truncate: true },
    [],
    "+----+---+----+\n|name|  n|note|\n+----+---+----+\n+----+---+----+\n",
  ],
  ["empty vertical", { numRows: 20, truncate: true, vertical: true }, [], "(0 rows)"],
];

describe("formatShowTable matches Spark's showString", () => {
  it.each(cases)("%s", (_name, layout, rows, expected) => {
    expect(formatShowTable(header, rows, layout)).toBe(expected);
  });

  it("full-width and Hangul characters count twice (captured: select 'ｆｕｌｌ' as `ｗ`, '한국어' as k)", () => {
    expect(formatShowTable(["ｗ", "k"], [["ｆｕｌｌ", "한국어"]], { numRows: 20, truncate: true })).toBe(
      "+--------+------+\n|      ｗ|     k|\n+--------+------+\n|ｆｕｌｌ|한국어|\n+--------+------+\n",
    );
  });

  it("displayWidth", () => {
    expect(displayWidth("abc")).toBe(3);
    expect(displayWidth("日本")).toBe(4);
    expect(displayWidth("")).toBe(0);
  });
});

describe("formatRows renders Row values", () => {
  it("uses field names as header and NULL for null", () => {
    const layout = new RowLayout(["name", "n"]);
    const rows = [new Row(layout, ["a", 1]), new Row(layout, [null, 22])];
    expect(formatRows(rows, { numRows: 20, truncate: true })).toBe(
      "+----+---+\n|name|  n|\n+----+---+\n|   a|  1|\n|NULL| 22|\n+----+---+\n",
    );
  });
});
