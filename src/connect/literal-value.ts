import type * as pb from "#connect-proto";
import { matrixFromFields, vectorFromFields } from "./arrow/arrow-decode.ts";
import { MATRIX_UDT_CLASS, VECTOR_UDT_CLASS } from "./data-types.ts";
import { ProtocolError } from "./errors.ts";

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
  if (udt === VECTOR_UDT_CLASS) return vectorFromFields(fields);
  if (udt === MATRIX_UDT_CLASS) return matrixFromFields(fields);
  return fields;
}
