import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import repl, { type REPLEval, type REPLServer } from "node:repl";
import { Column } from "../connect/column.ts";
import { DataFrame } from "../connect/data-frame.ts";
import * as functions from "../connect/functions.ts";
import { clientOf } from "../connect/internal.ts";
import { SparkSession } from "../connect/spark-session.ts";
import { compactErrorsInShell, DataFrameEcho, shellWriter } from "./shell-echo.ts";
import { showActionProgress } from "./shell-progress.ts";

export interface ShellOptions {
  readonly spark: SparkSession;
  readonly input: NodeJS.ReadableStream;
  readonly output: NodeJS.WritableStream;
  /** Draw a progress bar for running actions (on a terminal). */
  readonly progress: boolean;
  /** Where the command history is kept (none when absent). */
  readonly historyFile?: string;
}

/**
 * orchard's interactive shell: Node's REPL (top-level `await` works) with `spark`, `F`
 * (functions), `col`, `lit`, `expr`, `when` bound. An echoed DataFrame shows its schema, as in
 * PySpark. Ctrl-C while an evaluation runs interrupts the session's Spark operations
 * (`spark.interruptAll()`) and returns to the prompt; Ctrl-C at the prompt behaves as in Node.
 * Resolves when the user leaves (`.exit`, Ctrl-D).
 */
export async function runShell(options: ShellOptions): Promise<void> {
  const { spark, output } = options;
  const terminal = (output as NodeJS.WriteStream).isTTY === true;
  const server: REPLServer = repl.start({
    prompt: "orchard> ",
    input: options.input,
    output,
    terminal,
    useColors: terminal,
    breakEvalOnSigint: true,
    ignoreUndefined: true,
    writer: shellWriter(terminal),
  });
  Object.assign(server.context, {
    spark,
    F: functions,
    functions,
    col: functions.col,
    lit: functions.lit,
    expr: functions.expr,
    when: functions.when,
    SparkSession,
    DataFrame,
    Column,
  });
  const progress = options.progress ? showActionProgress(clientOf(spark), output) : undefined;
  const restoreErrors = compactErrorsInShell();

  let running = 0;
  const evaluate = server.eval;
  (server as { eval: REPLEval }).eval = (code, context, file, done) => {
    running++;
    evaluate.call(server, code, context, file, (err, result) => {
      running = Math.max(0, running - 1);
      if (err || !(result instanceof DataFrame)) {
        done(err, result);
        return;
      }
      result.schema().then(
        (schema) => done(null, new DataFrameEcho(schema)),
        (e: unknown) => done(e as Error, undefined),
      );
    });
  };
  server.on("SIGINT", () => {
    if (running === 0) return;
    running = 0;
    progress?.clear();
    const say = (line: string) => {
      output.write(`${line}\n`);
      server.displayPrompt(true);
    };
    spark.interruptAll().then(
      (ids) => say(`interrupted ${ids.length} running Spark operation${ids.length === 1 ? "" : "s"}`),
      (e: unknown) => say(`could not interrupt the Spark operation: ${(e as Error).message}`),
    );
  });
  if (options.historyFile) {
    const historyFile = options.historyFile;
    await mkdir(dirname(historyFile), { recursive: true });
    await new Promise<void>((resolve) => server.setupHistory(historyFile, () => resolve()));
  }
  await new Promise<void>((resolve) => server.on("exit", () => resolve()));
  progress?.restore();
  restoreErrors();
}
