import { inspect } from "node:util";
import type { StructType } from "../connect/data-types.ts";

/**
 * How the shell echoes values. A DataFrame is echoed as its schema, the way PySpark's repr shows
 * it (`DataFrame[path: string, label: string]`); the schema is fetched by the shell's eval before
 * the (synchronous) writer runs, and handed over in a {@link DataFrameEcho}.
 */
export class DataFrameEcho {
  constructor(readonly schema: StructType) {}
}

/** `DataFrame[id: bigint, name: string]` (PySpark's `DataFrame.__repr__`). */
export function dataFrameRepr(schema: StructType): string {
  return `DataFrame[${schema.fields.map((f) => `${f.name}: ${f.dataType.simpleString()}`).join(", ")}]`;
}

/** The REPL writer: DataFrames as their schema, everything else as Node's REPL shows it. */
export function shellWriter(colors: boolean): (value: unknown) => string {
  return (value) =>
    value instanceof DataFrameEcho ? dataFrameRepr(value.schema) : inspect(value, { colors, depth: 4 });
}
