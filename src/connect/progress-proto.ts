import type * as pb from "#connect-proto";
import type { ExecutionProgress } from "./progress.ts";

/**
 * Converts the protocol's `ExecutePlanResponse.ExecutionProgress` (counts as numbers; bytes stay
 * bigint). PySpark: what `ProgressHandler` receives from `ExecutePlanResponseReattachableIterator`.
 */
export function toExecutionProgress(
  operationId: string,
  p: pb.ExecutePlanResponse_ExecutionProgress,
): ExecutionProgress {
  const stages = p.stages.map((s) => ({
    stageId: Number(s.stageId),
    numTasks: Number(s.numTasks),
    numCompletedTasks: Number(s.numCompletedTasks),
    inputBytesRead: s.inputBytesRead,
    done: s.done,
  }));
  return {
    operationId,
    stages,
    inflightTasks: Number(p.numInflightTasks),
    tasksDone: stages.reduce((a, s) => a + s.numCompletedTasks, 0),
    tasksTotal: stages.reduce((a, s) => a + s.numTasks, 0),
    inputBytesRead: stages.reduce((a, s) => a + s.inputBytesRead, 0n),
  };
}
