/**
 * What a sidecar that orchard starts (`orchard sidecar start`, the real CLI and sidecar) gets and
 * leaves: only the environment it needs (no AWS keys, no Spark token, no S3 secret, whatever the
 * CLI's environment holds); a fresh secret in a 0600 file of its run folder that appears in no
 * command line, log or status output; and `orchard sidecar status` reads it to show the model.
 * Stopping it removes the secret file.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../../../src/cli/local/ports.ts";
import { readPidRecord, sidecarRunFiles } from "../../../udf-server/src/manage/run-files.ts";
import { isAlive, stopProcessGroup } from "../../../udf-server/src/process/managed-process.ts";
import { runOrchard } from "../helpers/orchard-cli.ts";

const work = mkdtempSync(join(tmpdir(), "orchard-sidecar-env-"));
const runDir = join(work, "run");
let pid: number | undefined;

afterAll(async () => {
  if (pid !== undefined && isAlive(pid)) await stopProcessGroup(pid, 10_000);
  rmSync(work, { recursive: true, force: true });
});

const orchard = (args: string[], env: NodeJS.ProcessEnv) => runOrchard(args, { env, timeout: 300_000 });

describe("the environment and the secret of a sidecar orchard starts", () => {
  it("passes no keys or tokens, keeps the secret 0600 and out of argv and logs, and removes it on stop", async () => {
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ORCHARD_RUN_DIR: runDir,
      AWS_ACCESS_KEY_ID: "AKIAORCHARDTEST",
      AWS_SECRET_ACCESS_KEY: "aws-secret-for-the-test",
      AWS_SESSION_TOKEN: "aws-session-for-the-test",
      SPARK_CONNECT_AUTHENTICATE_TOKEN: "spark-token-for-the-test",
      SPARK_REMOTE: "sc://127.0.0.1:1/;token=spark-token-for-the-test",
      ORCHARD_S3_SECRET_KEY: "s3-secret-for-the-test",
    };
    const started = await orchard(["sidecar", "start", "--port", String(port), "--threads", "1"], env);
    expect(started.code, started.stderr).toBe(0);
    const files = sidecarRunFiles(runDir, port);
    pid = readPidRecord(files.pidFile)?.pid;
    expect(pid).toBeGreaterThan(0);

    const environ = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").filter(Boolean);
    const names = environ.map((kv) => kv.slice(0, kv.indexOf("=")));
    expect(names.filter((n) => /^(AWS_|SPARK_)|SECRET|TOKEN/.test(n))).toEqual([]);
    expect(environ.join("\n")).not.toMatch(/for-the-test|AKIAORCHARDTEST/);
    expect(names).toContain("ORCHARD_RUN_DIR");

    expect(statSync(files.secretFile).mode & 0o777).toBe(0o600);
    const secret = readFileSync(files.secretFile, "utf8").trim();
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    expect(readFileSync(`/proc/${pid}/cmdline`, "utf8")).not.toContain(secret);
    expect(started.stdout + started.stderr).not.toContain(secret);

    const status = await orchard(["sidecar", "status", "--port", String(port), "--json"], env);
    expect(status.code, status.stderr).toBe(0);
    const json = JSON.parse(status.stdout) as { info?: { model: string; sha256: string } };
    expect(json.info?.model).toBe("efficientnet-lite0");
    expect(json.info?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(status.stdout).not.toContain(secret);

    const stopped = await orchard(["sidecar", "stop", "--port", String(port)], env);
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(existsSync(files.secretFile)).toBe(false);
    expect(readFileSync(files.logFile, "utf8")).not.toContain(secret);
    expect(readFileSync(files.logFile, "utf8")).toContain(`shared secret in ${files.secretFile} (0600)`);
  });
});
