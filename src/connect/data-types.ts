import { PlanError } from "./errors.ts";

/**
 * Spark SQL data types, mirroring `pyspark.sql.types`. Instances are immutable values; compare
 * with `equals`. `simpleString()` gives Spark's short form (`bigint`, `array<int>`), `sql()` the
 * DDL form (`BIGINT`), `typeName()` the JSON name (`long`). Conversions to and from the protocol's
 * `spark.connect.DataType` are in data-type-proto.ts, the DDL parser in schema-ddl.ts. How values
 * of each type look in JS is the type contract in docs/types.md.
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

/** The fields of a day-time interval, in order (`DayTimeIntervalType` start/end index them). */
export const DAY_TIME_FIELDS = ["day", "hour", "minute", "second"] as const;
/** The fields of a year-month interval, in order (`YearMonthIntervalType` start/end index them). */
export const YEAR_MONTH_FIELDS = ["year", "month"] as const;

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
