import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, inject, it } from "vitest";
import { freePort } from "../../../src/cli/local/ports.ts";
import { readPidRecord, sidecarRunFiles } from "../../../udf-server/src/manage/run-files.ts";
import { type SidecarHandle, startSidecar } from "../../../udf-server/src/manage/start-sidecar.ts";
import { isAlive, stopProcessGroup } from "../../../udf-server/src/process/managed-process.ts";
import { cliEnv } from "../helpers/cli-env.ts";
import { faultRunArgs, runOrchard, waitForRowsServed } from "../helpers/orchard-cli.ts";
import { TEST_LOG_DIR, testLayout } from "../helpers/test-paths.ts";

// Issue 13, stopped sidecar: the sidecar is SIGSTOPped in the middle of the features step. It
// holds its port and its connections but answers nothing. The bridges' keepalive fails their
// exchanges (PING unanswered: <= 20 s), their reconnect finds no sidecar answering, and the bridge
// exits 1: the task fails within TASK_FAILS_WITHIN_MS of the stop, and Spark runs it again (local
// masters get 4 attempts per task). An operator (here: the test) then lets the sidecar go on with
// SIGCONT; the retried task completes, rows in == rows out, and no row records the stall.

/** The deadline docs/faults.md states for a stopped sidecar to fail its tasks. */
const TASK_FAILS_WITHIN_MS = 60_000;

const work = mkdtempSync(join(tmpdir(), "orchard-sidecar-stop-"));
const runDir = join(testLayout().cacheRoot, "run");
let sidecar: SidecarHandle | undefined;
let port = 0;

afterAll(async () => {
  // The stopped process must not outlive the test: let it go on, then stop it (and any sidecar a
  // bridge started on this port).
  if (sidecar && isAlive(sidecar.pid)) {
    process.kill(-sidecar.pid, "SIGCONT");
    await stopProcessGroup(sidecar.pid, 10_000);
  }
  const record = port ? readPidRecord(sidecarRunFiles(runDir, port).pidFile) : undefined;
  if (record && isAlive(record.pid)) await stopProcessGroup(record.pid, 10_000);
  rmSync(work, { recursive: true, force: true });
});

/** The Spark server log of the test Spark, and how many "Lost task" lines it has. */
function lostTasks(): string[] {
  const sparkPort = new URL(inject("sparkRemote").replace(/^sc:/, "http:")).port;
  const log = readFileSync(join(TEST_LOG_DIR, `spark-${sparkPort}.log`), "utf8");
  return log.split("\n").filter((l) => /TaskSetManager: Lost task/.test(l));
}

describe("a sidecar stopped (SIGSTOP) mid-featurize", () => {
  it("fails the tasks within the deadline; the retried tasks complete once it goes on", async () => {
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
    sidecar = await startSidecar({ port, pidFile: files.pidFile, logFile: files.logFile });
    const stopped = sidecar;
    const lostBefore = lostTasks().length;

    const output = join(work, "out");
    const run = runOrchard(faultRunArgs(join(work, "in"), output), {
      env: { ...cliEnv(), ORCHARD_SIDECAR: stopped.address },
      timeout: 900_000,
    });
    await waitForRowsServed(stopped.address, stopped.secretFile, 24);
    process.kill(-stopped.pid, "SIGSTOP");
    const stoppedAt = performance.now();
    let failedAfterMs: number | undefined;
    let lost: string[] = [];
    while (performance.now() - stoppedAt < TASK_FAILS_WITHIN_MS + 30_000) {
      lost = lostTasks().slice(lostBefore);
      if (lost.length > 0) {
        failedAfterMs = performance.now() - stoppedAt;
        break;
      }
      await sleep(100);
    }
    process.kill(-stopped.pid, "SIGCONT");

    expect(failedAfterMs, "no task failed after the sidecar was stopped").toBeDefined();
    expect(failedAfterMs).toBeLessThan(TASK_FAILS_WITHIN_MS);
    expect(lost[0]).toMatch(/orchard-bridge: the exchange broke \(DoExchange on .*(Connection dropped|keepalive)/i);
    console.log(`[sidecar-stop] first task failed ${((failedAfterMs ?? 0) / 1000).toFixed(1)} s after SIGSTOP`);

    const { code, stderr } = await run;
    expect(code, stderr).toBe(0);
    const summary = JSON.parse(readFileSync(join(output, "run.json"), "utf8"));
    expect(summary.counts).toEqual({ filesIn: images, rowsOut: images, failed: 0 });
    expect(isAlive(stopped.pid)).toBe(true);
  }, 600_000);
});
