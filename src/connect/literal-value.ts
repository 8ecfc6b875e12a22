import type * as pb from "#connect-proto";
import { ProtocolError } from "./errors.ts";
import { DenseMatrix } from "./spark-values.ts";

/**
 * Decodes a literal the server returns (ML attribute values, ML params) into orchard's JS values:
 * the same contract as collected rows (long is bigint, arrays are arrays), with Spark ML's
 * VectorUDT becoming a Float64Array and MatrixUDT a {@link DenseMatrix}.
 */
export function literalToValue(lit: pb.Expression_Literal): unknown {
  const { literalType: t } = lit;
  switch (t.case) {
    case undefined:
    case "null":
      return null;
    case "boolean":
    case "byte":
    case "short":
    case "integer":
    case "float":
    case "double":
    case "string":
    case "long":
      return t.value;
    case "binary":
      return t.value;
    case "array":
      return t.value.elements.map(literalToValue);
    case "specializedArray":
      return t.value.valueType.case === undefined
        ? []
        : Array.from(t.value.valueType.value.values as ArrayLike<unknown>);
    case "struct":
      return structToValue(t.value);
    default:
      throw new ProtocolError({ message: `unsupported literal in a server result: ${t.case}` });
  }
}

function structToValue(s: pb.Expression_Literal_Struct): unknown {
  const udt = s.structType?.kind.case === "udt" ? s.structType.kind.value.jvmClass : undefined;
  const fields = s.elements.map(literalToValue);
  if (udt === "org.apache.spark.ml.linalg.VectorUDT") return vectorFromFields(fields);
  if (udt === "org.apache.spark.ml.linalg.MatrixUDT") return matrixFromFields(fields);
  return fields;
}

// VectorUDT's sqlType: (type: byte 0 sparse | 1 dense, size: int, indices: array<int>, values: array<double>)
function vectorFromFields([type, size, indices, values]: unknown[]): Float64Array {
  const vals = Float64Array.from((values as number[] | null) ?? []);
  if (type === 1) return vals;
  const out = new Float64Array(size as number);
  ((indices as number[] | null) ?? []).forEach((idx, i) => {
    out[idx] = vals[i] as number;
  });
  return out;
}

// MatrixUDT's sqlType: (type: byte 0 sparse | 1 dense, numRows, numCols, colPtrs, rowIndices, values, isTransposed)
function matrixFromFields([type, numRows, numCols, colPtrs, rowIndices, values, isTransposed]: unknown[]): DenseMatrix {
  const rows = numRows as number;
  const cols = numCols as number;
  const vals = Float64Array.from((values as number[] | null) ?? []);
  const out = new Float64Array(rows * cols);
  if (type === 1) {
    if (!isTransposed) return new DenseMatrix(rows, cols, vals);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = vals[i * cols + j] as number;
    return new DenseMatrix(rows, cols, out);
  }
  // Compressed sparse column (or row, when transposed) storage.
  const ptrs = (colPtrs as number[]) ?? [];
  const idx = (rowIndices as number[]) ?? [];
  const major = isTransposed ? rows : cols;
  for (let m = 0; m < major; m++) {
    for (let p = ptrs[m] as number; p < (ptrs[m + 1] as number); p++) {
      const minor = idx[p] as number;
      const [i, j] = isTransposed ? [m, minor] : [minor, m];
      out[j * rows + i] = vals[p] as number;
    }
  }
  return new DenseMatrix(rows, cols, out);
}
