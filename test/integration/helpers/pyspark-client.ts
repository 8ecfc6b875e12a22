import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { testLayout } from "./test-paths.ts";

const run = promisify(execFile);

/**
 * The environment that points PySpark at `remote`, token included: PySpark sends a token without
 * TLS only to the host name `localhost` (loopback addresses are `localhost` here), and takes it from
 * `SPARK_CONNECT_AUTHENTICATE_TOKEN`, so it never is on a command line.
 */
function pySparkRemote(remote: string): Record<string, string> {
  const token = /;token=([^;]+)/.exec(remote)?.[1];
  if (token === undefined) return { ORCHARD_TEST_REMOTE: remote };
  const url = remote.replace(/;token=[^;]+/, "").replace(/^sc:\/\/(127\.0\.0\.1|\[::1\])(?=[:/]|$)/, "sc://localhost");
  return { ORCHARD_TEST_REMOTE: url.replace(/\/;?$/, ""), SPARK_CONNECT_AUTHENTICATE_TOKEN: decodeURIComponent(token) };
}

/**
 * Runs a Python snippet with PySpark's own Connect client (from the project venv) against
 * `remote`; the snippet gets `spark` bound and prints its result as JSON on the last line.
 * For interop checks against the reference client.
 */
export async function withPySpark<T>(remote: string, snippet: string): Promise<T> {
  const python = join(testLayout().pythonVenv, "bin", "python");
  const program = [
    "import json, os, sys",
    "from pyspark.sql import SparkSession",
    "spark = SparkSession.builder.remote(os.environ['ORCHARD_TEST_REMOTE']).getOrCreate()",
    snippet,
  ].join("\n");
  const { stdout } = await run(python, ["-c", program], {
    maxBuffer: 64 * 1024 * 1024,
    timeout: 170_000,
    env: { ...process.env, ...pySparkRemote(remote) },
  });
  const last = stdout.trim().split("\n").at(-1) ?? "";
  return JSON.parse(last) as T;
}
