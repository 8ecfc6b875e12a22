import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { testLayout } from "./test-paths.ts";

const run = promisify(execFile);

/**
 * Runs a Python snippet with PySpark's own Connect client (from the project venv) against
 * `remote`; the snippet gets `spark` bound and prints its result as JSON on the last line.
 * For interop checks against the reference client.
 */
export async function withPySpark<T>(remote: string, snippet: string): Promise<T> {
  const python = join(testLayout().pythonVenv, "bin", "python");
  const program = [
    "import json, sys",
    "from pyspark.sql import SparkSession",
    "spark = SparkSession.builder.remote(sys.argv[1]).getOrCreate()",
    snippet,
  ].join("\n");
  const { stdout } = await run(python, ["-c", program, remote], { maxBuffer: 64 * 1024 * 1024, timeout: 170_000 });
  const last = stdout.trim().split("\n").at(-1) ?? "";
  return JSON.parse(last) as T;
}
