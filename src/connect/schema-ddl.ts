import {
  ArrayType,
  BinaryType,
  BooleanType,
  ByteType,
  CalendarIntervalType,
  CharType,
  DAY_TIME_FIELDS,
  type DataType,
  DateType,
  DayTimeIntervalType,
  DecimalType,
  DoubleType,
  FloatType,
  IntegerType,
  LongType,
  MapType,
  NullType,
  ShortType,
  StringType,
  StructField,
  StructType,
  TimestampNTZType,
  TimestampType,
  VarcharType,
  VariantType,
  YEAR_MONTH_FIELDS,
  YearMonthIntervalType,
} from "./data-types.ts";
import { PlanError } from "./errors.ts";

/** A recursive-descent parser of Spark DDL type and column-list strings. */
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
 * (`"bigint"` becomes `struct<value: bigint>` as in PySpark). PySpark: `_parse_datatype_string`.
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
