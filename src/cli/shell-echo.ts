import { inspect } from "node:util";
import type { StructType } from "../connect/data-types.ts";
import { Row } from "../connect/row.ts";
import { OrchardError } from "../errors.ts";

/**
 * How the shell echoes values. A DataFrame is echoed as its schema, the way PySpark's repr shows
 * it (`DataFrame[path: string, label: string]`); the schema is fetched by the shell's eval before
 * the (synchronous) writer runs, and handed over in a {@link DataFrameEcho}.
 */
export class DataFrameEcho {
  constructor(readonly schema: StructType) {}
}

/** `DataFrame[id: bigint, name: string]` (PySpark's `DataFrame.__repr__`). */
function dataFrameRepr(schema: StructType): string {
  return `DataFrame[${schema.fields.map((f) => `${f.name}: ${f.dataType.simpleString()}`).join(", ")}]`;
}

/**
 * The REPL writer: DataFrames as their schema, Rows as PySpark prints them (`Row(id=0, s=x)`, one
 * per line in a list), everything else as Node's REPL shows it.
 */
export function shellWriter(colors: boolean): (value: unknown) => string {
  return (value) => {
    if (value instanceof DataFrameEcho) return dataFrameRepr(value.schema);
    if (value instanceof Row) return value.toString();
    if (Array.isArray(value) && value.length > 0 && value.every((v) => v instanceof Row)) {
      return `[\n${value.map((r) => `  ${r.toString()}`).join(",\n")}\n]`;
    }
    return inspect(value, { colors, depth: 4 });
  };
}

/**
 * While the shell runs, orchard's errors print as one message (`SparkServerError: [TABLE_OR_VIEW_NOT_FOUND] ...`)
 * instead of the stack, cause and gRPC details Node's REPL shows for an uncaught error (errors of
 * top-level `await` go straight to the REPL's handler, so this is done through `util.inspect.custom`).
 * Returns the function that puts the default back.
 */
export function compactErrorsInShell(): () => void {
  const proto = OrchardError.prototype as unknown as Record<symbol, unknown>;
  const before = Object.getOwnPropertyDescriptor(proto, inspect.custom);
  Object.defineProperty(proto, inspect.custom, {
    configurable: true,
    value(this: OrchardError) {
      return `${this.name}: ${this.message}`;
    },
  });
  return () => {
    if (before) Object.defineProperty(proto, inspect.custom, before);
    else delete proto[inspect.custom];
  };
}
