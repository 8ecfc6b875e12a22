/**
 * Conversions between orchard's Spark type model (data-types.ts) and the protocol's
 * `spark.connect.DataType`, both ways. Internal to the Spark Connect layer.
 */
import { create } from "@bufbuild/protobuf";
import * as pb from "#connect-proto";
import {
  ArrayType,
  BinaryType,
  BooleanType,
  ByteType,
  CalendarIntervalType,
  CharType,
  DataType,
  DateType,
  DayTimeIntervalType,
  DecimalType,
  DoubleType,
  FloatType,
  IntegerType,
  LongType,
  MATRIX_UDT_CLASS,
  MapType,
  matrixUDT,
  NullType,
  ShortType,
  StringType,
  StructField,
  StructType,
  TimestampNTZType,
  TimestampType,
  TimeType,
  UnparsedType,
  UserDefinedType,
  VarcharType,
  VariantType,
  VECTOR_UDT_CLASS,
  vectorUDT,
  YearMonthIntervalType,
} from "./data-types.ts";
import { PlanError } from "./errors.ts";

/** Converts the protocol's `spark.connect.DataType` to orchard's model. PySpark: `proto_schema_to_pyspark_data_type`. */
export function fromProtoDataType(t: pb.DataType): DataType {
  const k = t.kind;
  switch (k.case) {
    case "null":
      return new NullType();
    case "boolean":
      return new BooleanType();
    case "byte":
      return new ByteType();
    case "short":
      return new ShortType();
    case "integer":
      return new IntegerType();
    case "long":
      return new LongType();
    case "float":
      return new FloatType();
    case "double":
      return new DoubleType();
    case "string":
      return new StringType();
    case "binary":
      return new BinaryType();
    case "date":
      return new DateType();
    case "timestamp":
      return new TimestampType();
    case "timestampNtz":
      return new TimestampNTZType();
    case "calendarInterval":
      return new CalendarIntervalType();
    case "variant":
      return new VariantType();
    case "char":
      return new CharType(k.value.length);
    case "varChar":
      return new VarcharType(k.value.length);
    case "decimal":
      return new DecimalType(k.value.precision ?? 10, k.value.scale ?? 0);
    case "dayTimeInterval":
      return new DayTimeIntervalType(k.value.startField ?? 0, k.value.endField ?? 3);
    case "yearMonthInterval":
      return new YearMonthIntervalType(k.value.startField ?? 0, k.value.endField ?? 1);
    case "time":
      return new TimeType(k.value.precision ?? 6);
    case "array":
      return new ArrayType(requireChild(k.value.elementType, "array element"), k.value.containsNull);
    case "map":
      return new MapType(
        requireChild(k.value.keyType, "map key"),
        requireChild(k.value.valueType, "map value"),
        k.value.valueContainsNull,
      );
    case "struct":
      return new StructType(
        k.value.fields.map(
          (f) =>
            new StructField(
              f.name,
              requireChild(f.dataType, `field ${f.name}`),
              f.nullable,
              f.metadata ? (JSON.parse(f.metadata) as Record<string, unknown>) : {},
            ),
        ),
      );
    case "udt":
      // The server omits sqlType for UDTs it knows by class (Spark ML's VectorUDT, MatrixUDT).
      if (k.value.sqlType === undefined && k.value.jvmClass === VECTOR_UDT_CLASS) return vectorUDT();
      if (k.value.sqlType === undefined && k.value.jvmClass === MATRIX_UDT_CLASS) return matrixUDT();
      return new UserDefinedType(
        k.value.jvmClass ?? k.value.type,
        requireChild(k.value.sqlType, "udt sqlType"),
        k.value.pythonClass,
        k.value.serializedPythonClass,
      );
    case "unparsed":
      return new UnparsedType(k.value.dataTypeString);
    default:
      return new UnparsedType(k.case ?? "unknown");
  }
}

function requireChild(t: pb.DataType | undefined, what: string): DataType {
  if (t === undefined) throw new PlanError({ message: `server sent a data type without its ${what} type` });
  return fromProtoDataType(t);
}

/** Converts orchard's model to the protocol's `spark.connect.DataType`. PySpark: `pyspark_types_to_proto_types`. */
export function toProtoDataType(t: DataType): pb.DataType {
  const kind = ((): pb.DataType["kind"] => {
    if (t instanceof NullType) return { case: "null", value: create(pb.DataType_NULLSchema) };
    if (t instanceof BooleanType) return { case: "boolean", value: create(pb.DataType_BooleanSchema) };
    if (t instanceof ByteType) return { case: "byte", value: create(pb.DataType_ByteSchema) };
    if (t instanceof ShortType) return { case: "short", value: create(pb.DataType_ShortSchema) };
    if (t instanceof IntegerType) return { case: "integer", value: create(pb.DataType_IntegerSchema) };
    if (t instanceof LongType) return { case: "long", value: create(pb.DataType_LongSchema) };
    if (t instanceof FloatType) return { case: "float", value: create(pb.DataType_FloatSchema) };
    if (t instanceof DoubleType) return { case: "double", value: create(pb.DataType_DoubleSchema) };
    if (t instanceof StringType) return { case: "string", value: create(pb.DataType_StringSchema) };
    if (t instanceof BinaryType) return { case: "binary", value: create(pb.DataType_BinarySchema) };
    if (t instanceof DateType) return { case: "date", value: create(pb.DataType_DateSchema) };
    if (t instanceof TimestampType) return { case: "timestamp", value: create(pb.DataType_TimestampSchema) };
    if (t instanceof TimestampNTZType) return { case: "timestampNtz", value: create(pb.DataType_TimestampNTZSchema) };
    if (t instanceof CalendarIntervalType)
      return { case: "calendarInterval", value: create(pb.DataType_CalendarIntervalSchema) };
    if (t instanceof VariantType) return { case: "variant", value: create(pb.DataType_VariantSchema) };
    if (t instanceof CharType) return { case: "char", value: create(pb.DataType_CharSchema, { length: t.length }) };
    if (t instanceof VarcharType)
      return { case: "varChar", value: create(pb.DataType_VarCharSchema, { length: t.length }) };
    if (t instanceof DecimalType)
      return { case: "decimal", value: create(pb.DataType_DecimalSchema, { precision: t.precision, scale: t.scale }) };
    if (t instanceof DayTimeIntervalType)
      return {
        case: "dayTimeInterval",
        value: create(pb.DataType_DayTimeIntervalSchema, { startField: t.startField, endField: t.endField }),
      };
    if (t instanceof YearMonthIntervalType)
      return {
        case: "yearMonthInterval",
        value: create(pb.DataType_YearMonthIntervalSchema, { startField: t.startField, endField: t.endField }),
      };
    if (t instanceof TimeType)
      return { case: "time", value: create(pb.DataType_TimeSchema, { precision: t.precision }) };
    if (t instanceof ArrayType)
      return {
        case: "array",
        value: create(pb.DataType_ArraySchema, {
          elementType: toProtoDataType(t.elementType),
          containsNull: t.containsNull,
        }),
      };
    if (t instanceof MapType)
      return {
        case: "map",
        value: create(pb.DataType_MapSchema, {
          keyType: toProtoDataType(t.keyType),
          valueType: toProtoDataType(t.valueType),
          valueContainsNull: t.valueContainsNull,
        }),
      };
    if (t instanceof StructType)
      return {
        case: "struct",
        value: create(pb.DataType_StructSchema, {
          fields: t.fields.map((f) =>
            create(pb.DataType_StructFieldSchema, {
              name: f.name,
              dataType: toProtoDataType(f.dataType),
              nullable: f.nullable,
              ...(Object.keys(f.metadata).length > 0 ? { metadata: JSON.stringify(f.metadata) } : {}),
            }),
          ),
        }),
      };
    if (t instanceof UserDefinedType)
      return {
        case: "udt",
        value: create(pb.DataType_UDTSchema, {
          type: "udt",
          jvmClass: t.jvmClass,
          sqlType: toProtoDataType(t.sqlType),
          ...(t.pythonClass !== undefined ? { pythonClass: t.pythonClass } : {}),
          ...(t.serializedPythonClass !== undefined ? { serializedPythonClass: t.serializedPythonClass } : {}),
        }),
      };
    if (t instanceof UnparsedType)
      return { case: "unparsed", value: create(pb.DataType_UnparsedSchema, { dataTypeString: t.dataTypeString }) };
    throw new PlanError({ message: `cannot convert data type ${t.simpleString()} to the protocol` });
  })();
  return create(pb.DataTypeSchema, { kind });
}

/** Accepts either form and returns orchard's model (PySpark has only its own model). */
export function toDataType(t: pb.DataType | DataType): DataType {
  return t instanceof DataType ? t : fromProtoDataType(t);
}
