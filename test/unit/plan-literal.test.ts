import { toJson } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import * as pb from "#connect-proto";
import { PlanError } from "../../src/connect/errors.ts";
import { toLiteral } from "../../src/connect/literal.ts";
import type { LiteralValue } from "../../src/connect/literal-input.ts";
import { Decimal, Timestamp } from "../../src/connect/spark-values.ts";

const json = (v: LiteralValue) => toJson(pb.Expression_LiteralSchema, toLiteral(v));

describe("toLiteral: narrowest exact Spark type", () => {
  const cases: Array<[string, LiteralValue, unknown]> = [
    ["int32 max", 2147483647, { integer: 2147483647 }],
    ["int32 min", -2147483648, { integer: -2147483648 }],
    ["zero", 0, { integer: 0 }],
    ["just above int32", 2147483648, { long: "2147483648" }],
    ["just below int32", -2147483649, { long: "-2147483649" }],
    ["max safe integer", Number.MAX_SAFE_INTEGER, { long: "9007199254740991" }],
    ["unsafe integer is a double", 2 ** 60, { double: 2 ** 60 }],
    ["fraction", 1.5, { double: 1.5 }],
    ["negative zero keeps its sign as a double", -0, { double: -0 }],
    ["NaN", Number.NaN, { double: "NaN" }],
    ["Infinity", Number.POSITIVE_INFINITY, { double: "Infinity" }],
    ["bigint", 5n, { long: "5" }],
    ["int64 max bigint", 2n ** 63n - 1n, { long: "9223372036854775807" }],
    [
      "bigint beyond int64 is a decimal",
      2n ** 63n,
      { decimal: { value: "9223372036854775808", precision: 19, scale: 0 } },
    ],
    ["true", true, { boolean: true }],
    ["string", "héllo", { string: "héllo" }],
    ["empty string", "", { string: "" }],
    ["null is a NullType null", null, { null: { null: {} } }],
    ["undefined is a NullType null", undefined, { null: { null: {} } }],
    ["Date at UTC midnight is a date", new Date(Date.UTC(2024, 1, 29)), { date: 19782 }],
    ["Date before the epoch", new Date(Date.UTC(1969, 11, 31)), { date: -1 }],
    [
      "Date with a time is a timestamp",
      new Date(Date.UTC(2024, 1, 29, 12, 0, 0, 5)),
      { timestamp: "1709208000005000" },
    ],
    ["Timestamp", new Timestamp(1234567n), { timestamp: "1234567" }],
    ["Timestamp ntz", new Timestamp(-5n, true), { timestampNtz: "-5" }],
    ["Decimal", Decimal.parse("-12.340"), { decimal: { value: "-12.340", precision: 5, scale: 3 } }],
    ["binary", new Uint8Array([0, 255, 7]), { binary: "AP8H" }],
  ];
  it.each(cases)("%s", (_name, value, expected) => {
    expect(json(value)).toEqual(expected);
  });
});

describe("toLiteral: arrays", () => {
  const intType = { integer: {} };
  const cases: Array<[string, LiteralValue, unknown]> = [
    ["ints", [1, 2], { array: { elementType: intType, elements: [{ integer: 1 }, { integer: 2 }] } }],
    [
      "int widened to long",
      [1, 2147483648],
      { array: { elementType: { long: {} }, elements: [{ long: "1" }, { long: "2147483648" }] } },
    ],
    [
      "int and fraction widened to double",
      [1, 0.5],
      { array: { elementType: { double: {} }, elements: [{ double: 1 }, { double: 0.5 }] } },
    ],
    [
      "null element is a typed null of the element type",
      ["a", null],
      { array: { elementType: { string: {} }, elements: [{ string: "a" }, { null: { string: {} } }] } },
    ],
    ["empty array of NullType", [], { array: { elementType: { null: {} } } }],
    [
      "nested arrays widen inside",
      [[1], [2.5]],
      {
        array: {
          elementType: { array: { elementType: { double: {} } } },
          elements: [
            { array: { elementType: { double: {} }, elements: [{ double: 1 }] } },
            { array: { elementType: { double: {} }, elements: [{ double: 2.5 }] } },
          ],
        },
      },
    ],
    [
      "Float32Array is array<float>",
      new Float32Array([0.5, 1]),
      { array: { elementType: { float: {} }, elements: [{ float: 0.5 }, { float: 1 }] } },
    ],
    [
      "Float64Array is array<double>",
      new Float64Array([2]),
      { array: { elementType: { double: {} }, elements: [{ double: 2 }] } },
    ],
  ];
  it.each(cases)("%s", (_name, value, expected) => {
    expect(json(value)).toEqual(expected);
  });

  it("marks arrays holding nulls as containsNull", () => {
    const lit = toLiteral([1, null]);
    expect(lit.literalType.case).toBe("array");
    const arr = lit.literalType.value as pb.Expression_Literal_Array;
    expect(arr.elements[1]?.literalType).toEqual({ case: "null", value: expect.anything() });
  });
});

describe("toLiteral: refusals are PlanErrors", () => {
  const bad: Array<[string, unknown]> = [
    ["plain object", { a: 1 }],
    ["function", () => 1],
    ["symbol", Symbol("x")],
    ["mixed array", [1, "a"]],
    ["invalid Date", new Date(Number.NaN)],
    ["bigint beyond 38 digits", 10n ** 40n],
  ];
  it.each(bad)("%s", (_name, value) => {
    expect(() => toLiteral(value as LiteralValue)).toThrow(PlanError);
  });
});
