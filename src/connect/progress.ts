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
