import * as arrow from "apache-arrow";
import type * as pb from "#connect-proto";
import { ProtocolError } from "../errors.ts";

/** Decodes one `ArrowBatch` (an Arrow IPC stream) and checks its row count and start offset. */
export function decodeArrowBatch(batch: pb.ExecutePlanResponse_ArrowBatch, rowsSoFar: bigint): arrow.RecordBatch[] {
  if (batch.startOffset !== undefined && batch.startOffset !== rowsSoFar) {
    throw new ProtocolError({
      message: `Arrow batch starts at row ${batch.startOffset} but ${rowsSoFar} rows were received before it`,
    });
  }
  const reader = arrow.RecordBatchReader.from(batch.data);
  const out: arrow.RecordBatch[] = [];
  let n = 0;
  for (const b of reader) {
    out.push(b);
    n += b.numRows;
  }
  if (BigInt(n) !== batch.rowCount) {
    throw new ProtocolError({ message: `Arrow batch announced ${batch.rowCount} rows but contained ${n}` });
  }
  return out;
}
