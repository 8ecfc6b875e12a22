import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import * as pb from "#connect-proto";
import { literalToValue } from "../../src/connect/literal-value.ts";
import { DenseMatrix } from "../../src/connect/spark-values.ts";

// Builds server-style literals the way Spark's ML fetch answers them (a struct tagged with the UDT).
const lit = (literalType: pb.Expression_Literal["literalType"]) => create(pb.Expression_LiteralSchema, { literalType });
const nul = () => lit({ case: "null", value: create(pb.DataTypeSchema) });
const int = (value: number) => lit({ case: "integer", value });
const byte = (value: number) => lit({ case: "byte", value });
const bool = (value: boolean) => lit({ case: "boolean", value });
const ints = (values: number[]) =>
  lit({
    case: "specializedArray",
    value: create(pb.Expression_Literal_SpecializedArraySchema, {
      valueType: { case: "ints", value: create(pb.IntsSchema, { values }) },
    }),
  });
const doubles = (values: number[]) =>
  lit({
    case: "specializedArray",
    value: create(pb.Expression_Literal_SpecializedArraySchema, {
      valueType: { case: "doubles", value: create(pb.DoublesSchema, { values }) },
    }),
  });
const udtStruct = (jvmClass: string, elements: pb.Expression_Literal[]) =>
  lit({
    case: "struct",
    value: create(pb.Expression_Literal_StructSchema, {
      structType: create(pb.DataTypeSchema, {
        kind: { case: "udt", value: create(pb.DataType_UDTSchema, { type: "udt", jvmClass }) },
      }),
      elements,
    }),
  });
const VECTOR = "org.apache.spark.ml.linalg.VectorUDT";
const MATRIX = "org.apache.spark.ml.linalg.MatrixUDT";

describe("literalToValue", () => {
  it.each([
    ["dense vector", udtStruct(VECTOR, [byte(1), nul(), nul(), doubles([0.5, 0.25])]), Float64Array.from([0.5, 0.25])],
    [
      "sparse vector",
      udtStruct(VECTOR, [byte(0), int(4), ints([1, 3]), doubles([7, 9])]),
      Float64Array.from([0, 7, 0, 9]),
    ],
    ["integer", int(3), 3],
    ["long", lit({ case: "long", value: 2n ** 40n }), 2n ** 40n],
    ["string", lit({ case: "string", value: "x" }), "x"],
    ["null", nul(), null],
  ])("decodes a %s", (_name, input, expected) => {
    expect(literalToValue(input)).toEqual(expected);
  });

  it("decodes a dense matrix in column-major order", () => {
    const m = literalToValue(
      udtStruct(MATRIX, [byte(1), int(3), int(2), nul(), nul(), doubles([1, 2, 3, 4, 5, 6]), bool(false)]),
    ) as DenseMatrix;
    expect(m).toBeInstanceOf(DenseMatrix);
    expect(m.toArray()).toEqual([
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
  });

  it("decodes a transposed dense matrix", () => {
    const m = literalToValue(
      udtStruct(MATRIX, [byte(1), int(3), int(2), nul(), nul(), doubles([1, 2, 3, 4, 5, 6]), bool(true)]),
    ) as DenseMatrix;
    expect(m.toArray()).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
  });

  it("expands a sparse (CSC) matrix", () => {
    // [[1, 0], [0, 2], [3, 0]]: column 0 has rows 0 and 2, column 1 has row 1.
    const m = literalToValue(
      udtStruct(MATRIX, [byte(0), int(3), int(2), ints([0, 2, 3]), ints([0, 2, 1]), doubles([1, 3, 2]), bool(false)]),
    ) as DenseMatrix;
    expect(m.toArray()).toEqual([
      [1, 0],
      [0, 2],
      [3, 0],
    ]);
  });
});
