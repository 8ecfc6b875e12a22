import type * as pb from "#connect-proto";

/** Progress of one Spark stage of a running operation. */
export interface StageProgress {
  readonly stageId: number;
  readonly numTasks: number;
  readonly numCompletedTasks: number;
  readonly inputBytesRead: bigint;
  readonly done: boolean;
}

/**
 * Execution progress of an operation, from `ExecutePlanResponse.execution_progress` (the server
 * sends these while a query runs). PySpark equivalent: `pyspark.sql.connect.shell.progress.Progress`.
 */
export interface ExecutionProgress {
  readonly operationId: string;
  readonly stages: readonly StageProgress[];
  readonly inflightTasks: number;
  /** Sums over the stages reported in this update. */
  readonly tasksDone: number;
  readonly tasksTotal: number;
  readonly inputBytesRead: bigint;
}

/** Converts the protocol message (counts as numbers; bytes stay bigint). */
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
