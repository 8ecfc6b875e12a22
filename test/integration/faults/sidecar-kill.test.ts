import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../../../src/cli/local/ports.ts";
import { readPidRecord, sidecarRunFiles } from "../../../udf-server/src/manage/run-files.ts";
import { startSidecar } from "../../../udf-server/src/manage/start-sidecar.ts";
import { isAlive, stopProcessGroup } from "../../../udf-server/src/process/managed-process.ts";
import { cliEnv } from "../helpers/cli-env.ts";
import { faultRunArgs, runOrchard, waitForRowsServed } from "../helpers/orchard-cli.ts";
import { testLayout } from "../helpers/test-paths.ts";

// Issue 13, sidecar deaths: the sidecar is SIGKILLed in the middle of the features step. The
// bridges Spark runs notice the broken exchange, bring a sidecar back on the same port (the one
// on-demand start of the node) and send again what had no answer: the run completes, rows in ==
// rows out, and no row records the kill as an image error.

const work = mkdtempSync(join(tmpdir(), "orchard-sidecar-kill-"));
// The bridges run under the test Spark's environment: their on-demand sidecar keeps its pid file
// in the cache's run folder, where this test's own sidecar records itself too.
const runDir = join(testLayout().cacheRoot, "run");
let port = 0;

afterAll(async () => {
  const record = port ? readPidRecord(sidecarRunFiles(runDir, port).pidFile) : undefined;
  if (record && isAlive(record.pid)) await stopProcessGroup(record.pid, 10_000);
  rmSync(work, { recursive: true, force: true });
});

describe("a sidecar killed mid-featurize", () => {
  it("does not fail the run: rows in == rows out, and no image error", async () => {
    const fruits = join(testLayout().cacheRoot, "data", "fruits", "Training");
    const labels = readdirSync(fruits).sort().slice(0, 8);
    for (const label of labels) {
      mkdirSync(join(work, "in", label), { recursive: true });
      for (const f of readdirSync(join(fruits, label)).sort())
        copyFileSync(join(fruits, label, f), join(work, "in", label, f));
    }
    const images = labels.reduce((n, l) => n + readdirSync(join(work, "in", l)).length, 0);
    port = await freePort();
    const files = sidecarRunFiles(runDir, port);
    const first = await startSidecar({ port, pidFile: files.pidFile, logFile: files.logFile });

    const output = join(work, "out");
    const run = runOrchard(faultRunArgs(join(work, "in"), output), {
      env: { ...cliEnv(), ORCHARD_SIDECAR: first.address },
      timeout: 900_000,
    });
    // Kill it once it has answered some of the images, while the tasks still stream.
    await waitForRowsServed(first.address, first.secretFile, 24);
    process.kill(first.pid, "SIGKILL");

    const { code, stderr } = await run;
    expect(code, stderr).toBe(0);
    const summary = JSON.parse(readFileSync(join(output, "run.json"), "utf8"));
    expect(summary.counts).toEqual({ filesIn: images, rowsOut: images, failed: 0 });
    // A new sidecar, started by a bridge, answers on the same port now.
    const restarted = readPidRecord(files.pidFile);
    expect(restarted?.pid).not.toBe(first.pid);
    expect(restarted && isAlive(restarted.pid)).toBe(true);
  });
});
