import { create } from "@bufbuild/protobuf";
import * as pb from "#connect-proto";
import { PlanError } from "./errors.ts";

/**
 * Spark SQL data types, mirroring `pyspark.sql.types`. Instances are immutable values; compare
 * with `equals`. `simpleString()` gives Spark's short form (`bigint`, `array<int>`), `sql()` the
 * DDL form (`BIGINT`), `typeName()` the JSON name (`long`). Conversions to and from the protocol's
 * `spark.connect.DataType` are `toProtoDataType` / `fromProtoDataType`. How values of each type
 * look in JS is the type contract in docs/types.md.
 */
export abstract class DataType {
  /** The JSON type name, e.g. `long`, `decimal(10,2)`, `array`. PySpark: `DataType.typeName()`. */
  abstract typeName(): string;
  /** Spark's short form, e.g. `bigint`, `map<string,int>`. PySpark: `DataType.simpleString()`. */
  abstract simpleString(): string;
  /** The DDL form, e.g. `BIGINT`, `STRUCT<a: INT>`. */
  abstract sql(): string;
  /** Spark's JSON representation (as accepted by `DataType.fromJson` on the JVM). */
  abstract jsonValue(): unknown;

  json(): string {
    return JSON.stringify(this.jsonValue());
  }

  equals(other: DataType): boolean {
    return this.json() === other.json();
  }

  toString(): string {
    return this.simpleString();
  }
}

abstract class AtomicType extends DataType {
  protected abstract readonly names: readonly [json: string, simple: string, sql: string];
  typeName(): string {
    return this.names[0];
  }
  simpleString(): string {
    return this.names[1];
  }
  sql(): string {
    return this.names[2];
  }
  jsonValue(): unknown {
    return this.names[0];
  }
}

export class NullType extends AtomicType {
  protected readonly names = ["void", "void", "VOID"] as const;
}
export class BooleanType extends AtomicType {
  protected readonly names = ["boolean", "boolean", "BOOLEAN"] as const;
}
export class ByteType extends AtomicType {
  protected readonly names = ["byte", "tinyint", "TINYINT"] as const;
}
export class ShortType extends AtomicType {
  protected readonly names = ["short", "smallint", "SMALLINT"] as const;
}
export class IntegerType extends AtomicType {
  protected readonly names = ["integer", "int", "INT"] as const;
}
export class LongType extends AtomicType {
  protected readonly names = ["long", "bigint", "BIGINT"] as const;
}
export class FloatType extends AtomicType {
  protected readonly names = ["float", "float", "FLOAT"] as const;
}
export class DoubleType extends AtomicType {
  protected readonly names = ["double", "double", "DOUBLE"] as const;
}
export class StringType extends AtomicType {
  protected readonly names = ["string", "string", "STRING"] as const;
}
export class BinaryType extends AtomicType {
  protected readonly names = ["binary", "binary", "BINARY"] as const;
}
export class DateType extends AtomicType {
  protected readonly names = ["date", "date", "DATE"] as const;
}
export class TimestampType extends AtomicType {
  protected readonly names = ["timestamp", "timestamp", "TIMESTAMP"] as const;
}
export class TimestampNTZType extends AtomicType {
  protected readonly names = ["timestamp_ntz", "timestamp_ntz", "TIMESTAMP_NTZ"] as const;
}
export class CalendarIntervalType extends AtomicType {
  protected readonly names = ["interval", "interval", "INTERVAL"] as const;
}
export class VariantType extends AtomicType {
  protected readonly names = ["variant", "variant", "VARIANT"] as const;
}

const DAY_TIME_FIELDS = ["day", "hour", "minute", "second"] as const;
const YEAR_MONTH_FIELDS = ["year", "month"] as const;

function intervalName(fields: readonly string[], start: number, end: number): string {
  const s = fields[start] ?? "?";
  const e = fields[end] ?? "?";
  return start === end ? `interval ${s}` : `interval ${s} to ${e}`;
}

/** `INTERVAL DAY TO SECOND` and its sub-ranges; values are bigint microseconds. */
export class DayTimeIntervalType extends DataType {
  constructor(
    readonly startField = 0,
    readonly endField = 3,
  ) {
    super();
  }
  typeName(): string {
    return intervalName(DAY_TIME_FIELDS, this.startField, this.endField);
  }
  simpleString(): string {
    return this.typeName();
  }
  sql(): string {
    return this.typeName().toUpperCase();
  }
  jsonValue(): unknown {
    return this.typeName();
  }
}

/** `INTERVAL YEAR TO MONTH` and its sub-ranges; values are a number of months. */
export class YearMonthIntervalType extends DataType {
  constructor(
    readonly startField = 0,
    readonly endField = 1,
  ) {
    super();
  }
  typeName(): string {
    return intervalName(YEAR_MONTH_FIELDS, this.startField, this.endField);
  }
  simpleString(): string {
    return this.typeName();
  }
  sql(): string {
    return this.typeName().toUpperCase();
  }
  jsonValue(): unknown {
    return this.typeName();
  }
}

/** `TIME(p)` (time of day); values are bigint nanoseconds since midnight. */
export class TimeType extends DataType {
  constructor(readonly precision = 6) {
    super();
  }
  typeName(): string {
    return `time(${this.precision})`;
  }
  simpleString(): string {
    return this.typeName();
  }
  sql(): string {
    return `TIME(${this.precision})`;
  }
  jsonValue(): unknown {
    return this.typeName();
  }
}

export class CharType extends DataType {
  constructor(readonly length: number) {
    super();
  }
  typeName(): string {
    return `char(${this.length})`;
  }
  simpleString(): string {
    return this.typeName();
  }
  sql(): string {
    return `CHAR(${this.length})`;
  }
  jsonValue(): unknown {
    return this.typeName();
  }
}

export class VarcharType extends DataType {
  constructor(readonly length: number) {
    super();
  }
  typeName(): string {
    return `varchar(${this.length})`;
  }
  simpleString(): string {
    return this.typeName();
  }
  sql(): string {
    return `VARCHAR(${this.length})`;
  }
  jsonValue(): unknown {
    return this.typeName();
  }
}

/** `DECIMAL(precision, scale)`, precision 1..38. Values are `Decimal` (exact). */
export class DecimalType extends DataType {
  constructor(
    readonly precision = 10,
    readonly scale = 0,
  ) {
    super();
    if (!Number.isInteger(precision) || precision < 1 || precision > 38) {
      throw new PlanError({ message: `decimal precision must be 1..38, got ${precision}` });
    }
    if (!Number.isInteger(scale) || scale < 0 || scale > precision) {
      throw new PlanError({ message: `decimal scale must be 0..precision (${precision}), got ${scale}` });
    }
  }
  typeName(): string {
    return `decimal(${this.precision},${this.scale})`;
  }
  simpleString(): string {
    return this.typeName();
  }
  sql(): string {
    return `DECIMAL(${this.precision},${this.scale})`;
  }
  jsonValue(): unknown {
    return this.typeName();
  }
}

export class ArrayType extends DataType {
  constructor(
    readonly elementType: DataType,
    readonly containsNull = true,
  ) {
    super();
  }
  typeName(): string {
    return "array";
  }
  simpleString(): string {
    return `array<${this.elementType.simpleString()}>`;
  }
  sql(): string {
    return `ARRAY<${this.elementType.sql()}>`;
  }
  jsonValue(): unknown {
    return { type: "array", elementType: this.elementType.jsonValue(), containsNull: this.containsNull };
  }
}

export class MapType extends DataType {
  constructor(
    readonly keyType: DataType,
    readonly valueType: DataType,
    readonly valueContainsNull = true,
  ) {
    super();
  }
  typeName(): string {
    return "map";
  }
  simpleString(): string {
    return `map<${this.keyType.simpleString()},${this.valueType.simpleString()}>`;
  }
  sql(): string {
    return `MAP<${this.keyType.sql()}, ${this.valueType.sql()}>`;
  }
  jsonValue(): unknown {
    return {
      type: "map",
      keyType: this.keyType.jsonValue(),
      valueType: this.valueType.jsonValue(),
      valueContainsNull: this.valueContainsNull,
    };
  }
}

/** One field of a `StructType`. PySpark: `StructField(name, dataType, nullable, metadata)`. */
export class StructField {
  constructor(
    readonly name: string,
    readonly dataType: DataType,
    readonly nullable = true,
    readonly metadata: Readonly<Record<string, unknown>> = {},
  ) {}

  simpleString(): string {
    return `${this.name}:${this.dataType.simpleString()}`;
  }

  jsonValue(): unknown {
    return { name: this.name, type: this.dataType.jsonValue(), nullable: this.nullable, metadata: this.metadata };
  }
}

function quoteIdent(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : `\`${name.replaceAll("`", "``")}\``;
}

/** A row type. PySpark: `StructType([StructField(...), ...])`. Field names may repeat (query results can). */
export class StructType extends DataType {
  readonly fields: readonly StructField[];

  constructor(fields: readonly StructField[] = []) {
    super();
    this.fields = fields;
  }

  /** Field names in order. PySpark: `StructType.fieldNames()`. */
  get names(): string[] {
    return this.fields.map((f) => f.name);
  }

  /** A new struct with one more field. PySpark: `StructType.add`. */
  add(name: string, dataType: DataType, nullable = true): StructType {
    return new StructType([...this.fields, new StructField(name, dataType, nullable)]);
  }

  /** The first field called `name`, or undefined. */
  field(name: string): StructField | undefined {
    return this.fields.find((f) => f.name === name);
  }

  typeName(): string {
    return "struct";
  }
  simpleString(): string {
    return `struct<${this.fields.map((f) => f.simpleString()).join(",")}>`;
  }
  sql(): string {
    return `STRUCT<${this.fields.map((f) => `${quoteIdent(f.name)}: ${f.dataType.sql()}${f.nullable ? "" : " NOT NULL"}`).join(", ")}>`;
  }
  /** The DDL column list, e.g. ``a BIGINT, `b c` STRING NOT NULL`` (as `StructType.toDDL` on the JVM). */
  toDDL(): string {
    return this.fields
      .map((f) => `${quoteIdent(f.name)} ${f.dataType.sql()}${f.nullable ? "" : " NOT NULL"}`)
      .join(", ");
  }
  jsonValue(): unknown {
    return { type: "struct", fields: this.fields.map((f) => f.jsonValue()) };
  }

  /**
   * The `printSchema()` rendering:
   * ```
   * root
   *  |-- id: long (nullable = false)
   * ```
   * PySpark: `StructType.treeString()`.
   */
  treeString(maxDepth = Number.POSITIVE_INFINITY): string {
    const lines = ["root"];
    appendFields(lines, this, " |", 1, maxDepth);
    return `${lines.join("\n")}\n`;
  }
}

function treeTypeName(t: DataType): string {
  return t.typeName();
}

function appendChildren(lines: string[], t: DataType, prefix: string, depth: number, maxDepth: number): void {
  if (depth > maxDepth) return;
  if (t instanceof StructType) appendFields(lines, t, prefix, depth, maxDepth);
  else if (t instanceof ArrayType) {
    lines.push(`${prefix}-- element: ${treeTypeName(t.elementType)} (containsNull = ${t.containsNull})`);
    appendChildren(lines, t.elementType, `${prefix}    |`, depth + 1, maxDepth);
  } else if (t instanceof MapType) {
    lines.push(`${prefix}-- key: ${treeTypeName(t.keyType)}`);
    appendChildren(lines, t.keyType, `${prefix}    |`, depth + 1, maxDepth);
    lines.push(`${prefix}-- value: ${treeTypeName(t.valueType)} (valueContainsNull = ${t.valueContainsNull})`);
    appendChildren(lines, t.valueType, `${prefix}    |`, depth + 1, maxDepth);
  }
}

function appendFields(lines: string[], s: StructType, prefix: string, depth: number, maxDepth: number): void {
  if (depth > maxDepth) return;
  for (const f of s.fields) {
    lines.push(`${prefix}-- ${f.name}: ${treeTypeName(f.dataType)} (nullable = ${f.nullable})`);
    appendChildren(lines, f.dataType, `${prefix}    |`, depth + 1, maxDepth);
  }
}

/**
 * A user-defined type: values travel as `sqlType`. Spark ML's `VectorUDT` and `MatrixUDT` are
 * recognised by `jvmClass` and decoded to `Float64Array` / `DenseMatrix`.
 */
export class UserDefinedType extends DataType {
  constructor(
    readonly jvmClass: string,
    readonly sqlType: DataType,
    readonly pythonClass?: string,
    readonly serializedPythonClass?: string,
  ) {
    super();
  }
  typeName(): string {
    const simple = this.jvmClass.slice(this.jvmClass.lastIndexOf(".") + 1).replace(/\$$/, "");
    return simple.replace(/Type$/, "").replace(/UDT$/, "").toLowerCase();
  }
  simpleString(): string {
    return this.typeName();
  }
  sql(): string {
    return this.sqlType.sql();
  }
  jsonValue(): unknown {
    const v: Record<string, unknown> = { type: "udt", class: this.jvmClass, sqlType: this.sqlType.jsonValue() };
    if (this.pythonClass !== undefined) v.pyClass = this.pythonClass;
    if (this.serializedPythonClass !== undefined) v.serializedClass = this.serializedPythonClass;
    return v;
  }
}

/** JVM class of Spark ML's vector UDT. */
export const VECTOR_UDT_CLASS = "org.apache.spark.ml.linalg.VectorUDT";
/** JVM class of Spark ML's matrix UDT. */
export const MATRIX_UDT_CLASS = "org.apache.spark.ml.linalg.MatrixUDT";

/** Spark ML's `VectorUDT` (`struct<type:tinyint,size:int,indices:array<int>,values:array<double>>`). */
export function vectorUDT(): UserDefinedType {
  return new UserDefinedType(
    VECTOR_UDT_CLASS,
    new StructType([
      new StructField("type", new ByteType(), false),
      new StructField("size", new IntegerType(), true),
      new StructField("indices", new ArrayType(new IntegerType(), false), true),
      new StructField("values", new ArrayType(new DoubleType(), false), true),
    ]),
    "pyspark.ml.linalg.VectorUDT",
  );
}

/** Spark ML's `MatrixUDT`. */
export function matrixUDT(): UserDefinedType {
  return new UserDefinedType(
    MATRIX_UDT_CLASS,
    new StructType([
      new StructField("type", new ByteType(), false),
      new StructField("numRows", new IntegerType(), false),
      new StructField("numCols", new IntegerType(), false),
      new StructField("colPtrs", new ArrayType(new IntegerType(), false), true),
      new StructField("rowIndices", new ArrayType(new IntegerType(), false), true),
      new StructField("values", new ArrayType(new DoubleType(), false), true),
      new StructField("isTransposed", new BooleanType(), false),
    ]),
    "pyspark.ml.linalg.MatrixUDT",
  );
}

/** A type the server sent that orchard does not model (kept by name). */
export class UnparsedType extends DataType {
  constructor(readonly dataTypeString: string) {
    super();
  }
  typeName(): string {
    return this.dataTypeString;
  }
  simpleString(): string {
    return this.dataTypeString;
  }
  sql(): string {
    return this.dataTypeString.toUpperCase();
  }
  jsonValue(): unknown {
    return this.dataTypeString;
  }
}

/** Converts the protocol's `spark.connect.DataType` to orchard's model. */
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

/** Converts orchard's model to the protocol's `spark.connect.DataType`. */
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

/** Accepts either form and returns orchard's model. */
export function toDataType(t: pb.DataType | DataType): DataType {
  return t instanceof DataType ? t : fromProtoDataType(t);
}

// ---- DDL parsing ---------------------------------------------------------------------------

class DdlParser {
  private pos = 0;
  constructor(private readonly text: string) {}

  private fail(expected: string): never {
    throw new PlanError({
      message: `cannot parse schema ${JSON.stringify(this.text)}: expected ${expected} at position ${this.pos}`,
    });
  }
  private ws(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos] as string)) this.pos++;
  }
  private peek(s: string): boolean {
    this.ws();
    return this.text.startsWith(s, this.pos);
  }
  eat(s: string): boolean {
    if (this.peek(s)) {
      this.pos += s.length;
      return true;
    }
    return false;
  }
  private expect(s: string): void {
    if (!this.eat(s)) this.fail(`'${s}'`);
  }
  atEnd(): boolean {
    this.ws();
    return this.pos >= this.text.length;
  }
  ident(): string {
    this.ws();
    if (this.text[this.pos] === "`") {
      let out = "";
      this.pos++;
      for (;;) {
        if (this.pos >= this.text.length) this.fail("closing backtick");
        const c = this.text[this.pos++] as string;
        if (c === "`") {
          if (this.text[this.pos] === "`") {
            out += "`";
            this.pos++;
          } else return out;
        } else out += c;
      }
    }
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.text.slice(this.pos));
    if (!m) this.fail("an identifier");
    this.pos += m[0].length;
    return m[0];
  }
  private int(): number {
    this.ws();
    const m = /^\d+/.exec(this.text.slice(this.pos));
    if (!m) this.fail("an integer");
    this.pos += m[0].length;
    return Number(m[0]);
  }
  private word(): string | undefined {
    this.ws();
    const m = /^[A-Za-z_]+/.exec(this.text.slice(this.pos));
    return m?.[0].toLowerCase();
  }

  dataType(): DataType {
    const name = this.ident().toLowerCase();
    switch (name) {
      case "boolean":
      case "bool":
        return new BooleanType();
      case "tinyint":
      case "byte":
        return new ByteType();
      case "smallint":
      case "short":
        return new ShortType();
      case "int":
      case "integer":
        return new IntegerType();
      case "bigint":
      case "long":
        return new LongType();
      case "float":
      case "real":
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
      case "timestamp_ltz":
        return new TimestampType();
      case "timestamp_ntz":
        return new TimestampNTZType();
      case "void":
        return new NullType();
      case "variant":
        return new VariantType();
      case "char":
      case "varchar": {
        this.expect("(");
        const n = this.int();
        this.expect(")");
        return name === "char" ? new CharType(n) : new VarcharType(n);
      }
      case "decimal":
      case "dec":
      case "numeric": {
        if (!this.eat("(")) return new DecimalType(10, 0);
        const p = this.int();
        const s = this.eat(",") ? this.int() : 0;
        this.expect(")");
        return new DecimalType(p, s);
      }
      case "array": {
        this.expect("<");
        const e = this.dataType();
        this.expect(">");
        return new ArrayType(e, true);
      }
      case "map": {
        this.expect("<");
        const key = this.dataType();
        this.expect(",");
        const value = this.dataType();
        this.expect(">");
        return new MapType(key, value, true);
      }
      case "struct": {
        this.expect("<");
        const fields: StructField[] = [];
        if (!this.eat(">")) {
          do {
            const n = this.ident();
            this.eat(":");
            fields.push(this.fieldRest(n));
          } while (this.eat(","));
          this.expect(">");
        }
        return new StructType(fields);
      }
      case "interval": {
        const start = this.word();
        const ym = YEAR_MONTH_FIELDS.indexOf(start as (typeof YEAR_MONTH_FIELDS)[number]);
        const dt = DAY_TIME_FIELDS.indexOf(start as (typeof DAY_TIME_FIELDS)[number]);
        if (ym < 0 && dt < 0) return new CalendarIntervalType();
        this.ident();
        let end = ym >= 0 ? ym : dt;
        if (this.word() === "to") {
          this.ident();
          const e = this.ident().toLowerCase();
          end = ym >= 0 ? YEAR_MONTH_FIELDS.indexOf(e as "year") : DAY_TIME_FIELDS.indexOf(e as "day");
          if (end < 0) this.fail("an interval field");
        }
        return ym >= 0 ? new YearMonthIntervalType(ym, end) : new DayTimeIntervalType(dt, end);
      }
      default:
        return this.fail(`a data type (got ${name})`);
    }
  }

  fieldRest(name: string): StructField {
    const t = this.dataType();
    let nullable = true;
    if (this.word() === "not") {
      this.ident();
      if (this.ident().toLowerCase() !== "null") this.fail("NULL after NOT");
      nullable = false;
    }
    let metadata: Record<string, unknown> = {};
    if (this.word() === "comment") {
      this.ident();
      this.ws();
      const m = /^'((?:[^'\\]|\\.)*)'/.exec(this.text.slice(this.pos));
      if (!m) this.fail("a quoted comment");
      this.pos += m[0].length;
      metadata = { comment: m[1] };
    }
    return new StructField(name, t, nullable, metadata);
  }
}

/**
 * Parses a DDL schema: a column list (`"a INT, b ARRAY<STRING> NOT NULL"`, the form
 * `createDataFrame(data, "a int, b string")` takes), `"struct<a:int>"`, or a single type
 * (`"bigint"` becomes `struct<value: bigint>` as in PySpark).
 */
export function parseSchemaDDL(ddl: string): StructType {
  const asColumns = new DdlParser(ddl);
  try {
    const fields: StructField[] = [];
    do {
      const name = asColumns.ident();
      fields.push(asColumns.fieldRest(name));
    } while (asColumns.eat(","));
    if (!asColumns.atEnd()) throw new PlanError({ message: "trailing text" });
    return new StructType(fields);
  } catch (columnsError) {
    const single = new DdlParser(ddl);
    try {
      const t = single.dataType();
      if (!single.atEnd()) throw columnsError;
      return t instanceof StructType ? t : new StructType([new StructField("value", t, true)]);
    } catch {
      throw columnsError;
    }
  }
}

/** Parses one DDL data type, e.g. `"array<decimal(10,2)>"`. */
export function parseDataTypeDDL(ddl: string): DataType {
  const p = new DdlParser(ddl);
  const t = p.dataType();
  if (!p.atEnd()) throw new PlanError({ message: `cannot parse data type ${JSON.stringify(ddl)}: trailing text` });
  return t;
}
