import { createHash } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import * as arrow from "apache-arrow";
import * as pb from "#connect-proto";
import { encodeLocalTable, withoutDictionaries } from "./arrow/arrow-encode.ts";
import { type LocalSchema, resolveLocalSchema } from "./arrow/type-inference.ts";
import { StructType } from "./data-types.ts";
import { PlanError } from "./errors.ts";
import type { Row } from "./row.ts";
import { parseSchemaDDL } from "./schema-ddl.ts";

/**
 * Largest Arrow payload sent inline in a `LocalRelation` (inside the ExecutePlan message). The
 * server accepts messages up to 128 MiB by default (`spark.connect.grpc.maxInboundMessageSize`)
 * and caches local relations above 64 MiB (`spark.sql.session.localRelationCacheThreshold`);
 * orchard switches earlier, at 32 MiB.
 */
export const LOCAL_RELATION_INLINE_MAX_BYTES = 32 * 1024 * 1024;

/**
 * Bigger local data is uploaded as session artifacts (`cache/<sha256>`, AddArtifacts RPC) in
 * Arrow IPC chunks of about this size, and referenced by a `ChunkedCachedLocalRelation`.
 */
const LOCAL_RELATION_CHUNK_BYTES = 16 * 1024 * 1024;

/** Input accepted by `createDataFrame`: objects, arrays (positional), Rows, or an Arrow table. */
export type LocalData = readonly Record<string, unknown>[] | readonly unknown[][] | readonly Row[] | arrow.Table;

/** A session artifact to upload before the plan that references it runs. */
export interface LocalArtifact {
  /** `cache/<sha256 hex of data>`. */
  name: string;
  data: Uint8Array;
}

/** What `createDataFrame` sends: the relation, plus artifacts to upload first when the data is big. */
export interface LocalRelationPlan {
  relType: pb.Relation["relType"];
  artifacts: LocalArtifact[];
}

function cacheArtifact(data: Uint8Array): LocalArtifact {
  return { name: `cache/${createHash("sha256").update(data).digest("hex")}`, data };
}

function resolveArrowSchema(table: arrow.Table, schema?: LocalSchema): { table: arrow.Table; spark?: StructType } {
  if (schema === undefined) return { table };
  if (schema instanceof StructType) return { table, spark: schema };
  if (typeof schema === "string") return { table, spark: parseSchemaDDL(schema) };
  const names = schema as readonly string[];
  if (names.length !== table.schema.fields.length) {
    throw new PlanError({
      message: `createDataFrame got ${names.length} names for ${table.schema.fields.length} Arrow columns`,
    });
  }
  const renamed = new arrow.Table(
    Object.fromEntries(table.schema.fields.map((_f, j) => [names[j] as string, table.getChildAt(j) as arrow.Vector])),
  );
  return { table: renamed };
}

/**
 * Builds what `createDataFrame` sends. Rows are checked against the schema client-side
 * (PlanError naming the column and row) and encoded as Arrow; an Arrow table is sent as is
 * (dictionary columns expanded). The schema travels in Spark's JSON form, so nullability, UDTs
 * and metadata survive. Up to LOCAL_RELATION_INLINE_MAX_BYTES the Arrow IPC stream goes inline
 * in a `LocalRelation`; above, it is cut into IPC streams of about LOCAL_RELATION_CHUNK_BYTES,
 * each uploaded as a `cache/<sha256>` artifact, and a `ChunkedCachedLocalRelation` refers to them
 * (PySpark does the same above `spark.sql.session.localRelationCacheThreshold`).
 */
export function planLocalRelation(data: LocalData, schema?: LocalSchema): LocalRelationPlan {
  let table: arrow.Table;
  let sparkSchema: StructType | undefined;
  if (data instanceof arrow.Table) {
    ({ table, spark: sparkSchema } = resolveArrowSchema(withoutDictionaries(data), schema));
  } else {
    sparkSchema = resolveLocalSchema(data as readonly unknown[], schema);
    table = encodeLocalTable(data as readonly unknown[], sparkSchema);
  }
  const bytes = arrow.tableToIPC(table, "stream");
  const schemaJson = sparkSchema?.json();
  if (bytes.byteLength <= LOCAL_RELATION_INLINE_MAX_BYTES) {
    return {
      relType: {
        case: "localRelation",
        value: create(pb.LocalRelationSchema, {
          data: bytes,
          ...(schemaJson !== undefined ? { schema: schemaJson } : {}),
        }),
      },
      artifacts: [],
    };
  }
  const rowsPerChunk = Math.max(1, Math.floor((table.numRows * LOCAL_RELATION_CHUNK_BYTES) / bytes.byteLength));
  const artifacts: LocalArtifact[] = [];
  for (let start = 0; start < table.numRows; start += rowsPerChunk) {
    artifacts.push(cacheArtifact(arrow.tableToIPC(table.slice(start, start + rowsPerChunk), "stream")));
  }
  const schemaArtifact = schemaJson === undefined ? undefined : cacheArtifact(new TextEncoder().encode(schemaJson));
  return {
    relType: {
      case: "chunkedCachedLocalRelation",
      value: create(pb.ChunkedCachedLocalRelationSchema, {
        dataHashes: artifacts.map((a) => a.name.slice("cache/".length)),
        ...(schemaArtifact !== undefined ? { schemaHash: schemaArtifact.name.slice("cache/".length) } : {}),
      }),
    },
    artifacts: schemaArtifact === undefined ? artifacts : [...artifacts, schemaArtifact],
  };
}

/** The inline `LocalRelation` of small local data (PlanError when it is too big to go inline). */
export function buildLocalRelation(data: LocalData, schema?: LocalSchema): pb.LocalRelation {
  const plan = planLocalRelation(data, schema);
  if (plan.relType.case !== "localRelation") {
    throw new PlanError({ message: "local data too big for an inline LocalRelation; use planLocalRelation" });
  }
  return plan.relType.value;
}
