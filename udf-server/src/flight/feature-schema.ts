/**
 * The Arrow schemas of the sidecar's `DoExchange`, shared by the server and its clients: input
 * `(id utf8, content binary)`, or `(id utf8, path utf8)` for the path transport (the sidecar reads
 * each `file:` path itself, see ../server/image-file-reader.ts); output `(id utf8, features
 * list<float32>, error utf8, width int32, height int32)` — DESIGN's `(id, features, error)` plus
 * the image size.
 */
import {
  Binary,
  Field,
  Float32,
  Int32,
  LargeBinary,
  LargeUtf8,
  List,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  type Table,
  Type,
  Utf8,
} from "apache-arrow";
import { IpcProtocolError } from "./ipc.ts";

/** Input: one row per image. */
export const inputSchema = new Schema([new Field("id", new Utf8(), true), new Field("content", new Binary(), true)]);

/** Input of the path transport: one row per image, its `file:` URI instead of its bytes. */
export const pathInputSchema = new Schema([new Field("id", new Utf8(), true), new Field("path", new Utf8(), true)]);

/** Output: one row per input row, same order. */
export const outputSchema = new Schema([
  new Field("id", new Utf8(), true),
  new Field("features", new List(new Field("item", new Float32(), true)), true),
  new Field("error", new Utf8(), true),
  new Field("width", new Int32(), true),
  new Field("height", new Int32(), true),
]);

/** One output row. */
export interface FeatureRow {
  id: string | null;
  features: Float32Array | null;
  error: string | null;
  width: number | null;
  height: number | null;
}

const encoder = new TextEncoder();

function validity(n: number, isValid: (i: number) => boolean): { bitmap: Uint8Array; nullCount: number } {
  const bitmap = new Uint8Array((n + 7) >> 3);
  let nullCount = 0;
  for (let i = 0; i < n; i++) {
    if (isValid(i)) bitmap[i >> 3] |= 1 << (i & 7);
    else nullCount++;
  }
  return { bitmap, nullCount };
}

function packBytes(values: ReadonlyArray<Uint8Array | null>) {
  const n = values.length;
  const valueOffsets = new Int32Array(n + 1);
  let total = 0;
  for (let i = 0; i < n; i++) {
    total += values[i]?.length ?? 0;
    valueOffsets[i + 1] = total;
  }
  const data = new Uint8Array(total);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v) data.set(v, valueOffsets[i]);
  }
  const { bitmap, nullCount } = validity(n, (i) => values[i] !== null);
  return { length: n, nullCount, nullBitmap: bitmap, valueOffsets, data };
}

function binaryColumn(values: ReadonlyArray<Uint8Array | null>) {
  return makeData({ type: new Binary(), ...packBytes(values) });
}

function utf8Column(values: ReadonlyArray<string | null>) {
  return makeData({ type: new Utf8(), ...packBytes(values.map((v) => (v === null ? null : encoder.encode(v)))) });
}

function int32Column(values: ReadonlyArray<number | null>) {
  const data = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) data[i] = values[i] ?? 0;
  const { bitmap, nullCount } = validity(values.length, (i) => values[i] !== null);
  return makeData({ type: new Int32(), length: values.length, nullCount, nullBitmap: bitmap, data });
}

function featuresColumn(values: ReadonlyArray<Float32Array | null>) {
  const n = values.length;
  const offsets = new Int32Array(n + 1);
  let total = 0;
  for (let i = 0; i < n; i++) {
    total += values[i]?.length ?? 0;
    offsets[i + 1] = total;
  }
  const flat = new Float32Array(total);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v) flat.set(v, offsets[i]);
  }
  const listType = outputSchema.fields[1]?.type as List<Float32>;
  const child = makeData({ type: new Float32(), length: total, nullCount: 0, data: flat });
  const { bitmap, nullCount } = validity(n, (i) => values[i] !== null);
  return makeData({ type: listType, length: n, nullCount, nullBitmap: bitmap, valueOffsets: offsets, child });
}

function batchOf(schema: Schema, length: number, children: ReturnType<typeof makeData>[]): RecordBatch {
  const data = makeData({ type: new Struct(schema.fields), length, nullCount: 0, children });
  return new RecordBatch(schema, data);
}

/** Builds an input batch `(id, content)`. */
export function makeInputBatch(
  ids: ReadonlyArray<string | null>,
  contents: ReadonlyArray<Uint8Array | null>,
): RecordBatch {
  return batchOf(inputSchema, ids.length, [utf8Column(ids), binaryColumn(contents)]);
}

/** Builds an input batch `(id, path)` of the path transport. */
export function makePathInputBatch(
  ids: ReadonlyArray<string | null>,
  paths: ReadonlyArray<string | null>,
): RecordBatch {
  return batchOf(pathInputSchema, ids.length, [utf8Column(ids), utf8Column(paths)]);
}

/** Builds an output batch from rows. */
export function makeOutputBatch(rows: ReadonlyArray<FeatureRow>): RecordBatch {
  return batchOf(outputSchema, rows.length, [
    utf8Column(rows.map((r) => r.id)),
    featuresColumn(rows.map((r) => r.features)),
    utf8Column(rows.map((r) => r.error)),
    int32Column(rows.map((r) => r.width)),
    int32Column(rows.map((r) => r.height)),
  ]);
}

/** Where the id and content (or path) columns of an input schema are. */
export interface InputColumns {
  id: number;
  /** The image column: `content` (binary) or, for the path transport, `path` (utf8). */
  content: number;
  kind: "content" | "path";
}

const isUtf8 = (type: unknown) => type instanceof Utf8 || type instanceof LargeUtf8;

/**
 * Finds `id` (utf8) and `content` (binary) by name, or `id` and `path` (utf8, the path transport),
 * else the first two columns as `(id, content)`; throws a protocol error otherwise.
 */
export function resolveInputColumns(schema: Schema): InputColumns {
  const byName = (name: string) => schema.fields.findIndex((f) => f.name === name);
  let id = byName("id");
  const path = byName("path");
  if (id >= 0 && path >= 0 && byName("content") < 0) {
    if (isUtf8(schema.fields[id]?.type) && isUtf8(schema.fields[path]?.type))
      return { id, content: path, kind: "path" };
  }
  let content = byName("content");
  if (id < 0 || content < 0) {
    id = 0;
    content = 1;
  }
  const contentType = schema.fields[content]?.type;
  const isBinary = contentType instanceof Binary || contentType instanceof LargeBinary;
  if (!isUtf8(schema.fields[id]?.type) || !isBinary) {
    throw new IpcProtocolError(
      `input schema must be (id utf8, content binary) or (id utf8, path utf8); got (${schema.fields.map((f) => `${f.name} ${Type[f.typeId]}`).join(", ")})`,
    );
  }
  return { id, content, kind: "content" };
}

/** The rows of one input batch: ids, and the images' bytes or (path transport) their paths. */
export type InputRows =
  | { kind: "content"; ids: (string | null)[]; contents: (Uint8Array | null)[] }
  | { kind: "path"; ids: (string | null)[]; paths: (string | null)[] };

/** Reads ids and contents (or paths) from an input table (views into the message, no copy). */
export function readInputTable(table: Table, columns: InputColumns): InputRows {
  const idVector = table.getChildAt(columns.id);
  const valueVector = table.getChildAt(columns.content);
  const ids: (string | null)[] = new Array(table.numRows);
  const values: unknown[] = new Array(table.numRows);
  for (let i = 0; i < table.numRows; i++) {
    ids[i] = (idVector?.get(i) as string | null) ?? null;
    values[i] = valueVector?.get(i) ?? null;
  }
  return columns.kind === "path"
    ? { kind: "path", ids, paths: values as (string | null)[] }
    : { kind: "content", ids, contents: values as (Uint8Array | null)[] };
}

/** Reads output rows from an output table. */
export function readOutputTable(table: Table): FeatureRow[] {
  const col = (name: string) => table.getChild(name);
  const ids = col("id");
  const features = col("features");
  const errors = col("error");
  const widths = col("width");
  const heights = col("height");
  const rows: FeatureRow[] = new Array(table.numRows);
  for (let i = 0; i < table.numRows; i++) {
    const f = features?.get(i) as { toArray(): Float32Array } | null;
    rows[i] = {
      id: (ids?.get(i) as string | null) ?? null,
      features: f ? Float32Array.from(f.toArray()) : null,
      error: (errors?.get(i) as string | null) ?? null,
      width: (widths?.get(i) as number | null) ?? null,
      height: (heights?.get(i) as number | null) ?? null,
    };
  }
  return rows;
}
