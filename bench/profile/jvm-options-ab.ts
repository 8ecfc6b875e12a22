/**
 * A/B of JVM options for the local Spark server on the pipeline's features step (issue 14: the
 * profile, bench/profile/featurize-profile.ts, found the JIT compiler threads using more CPU than
 * the executor tasks during a featurize on a once-warmed server). Two servers, A (`--a`, default
 * none) and B (`--b`, default `-XX:TieredStopAtLevel=1`, C1 only), started one after the other,
 * share one sidecar; their runs alternate (A1 B1 A2 B2 ...), so both see the same minutes of a
 * shared machine. An empty option string keeps the launch's own (LOCAL_DRIVER_JAVA_OPTIONS). Each run prints its wall time and the JVM's CPU seconds (/proc), split into JIT
 * compiler threads and the rest; the first run of each is its fresh-server (cold) run.
 *
 *   npx tsx bench/profile/jvm-options-ab.ts [--copies 2] [--runs 3] [--a "-XX:TieredStopAtLevel=4"] [--b "-XX:TieredStopAtLevel=1"]
 *
 * Prints figures; asserts nothing.
 */

import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { freePort } from "../../src/cli/local/ports.ts";
import { startLocalSpark } from "../../src/cli/local/spark-server.ts";
import { BRIDGE_BIN } from "../../udf-server/src/bridge/bridge-command.ts";
import { startSidecar } from "../../udf-server/src/manage/start-sidecar.ts";
import { featuresStep } from "../lib/features-step.ts";
import { localSession } from "../lib/local-session.ts";
import { javaPid, processCpu, threadsOf } from "../lib/proc-stats.ts";
import { baseImages, copiesDataset } from "../lib/sample-set.ts";

const { values } = parseArgs({
  options: { copies: { type: "string" }, runs: { type: "string" }, a: { type: "string" }, b: { type: "string" } },
});
const copies = Number(values.copies ?? 2);
const runs = Number(values.runs ?? 3);
const variants = [
  { name: "A", options: values.a ?? "-XX:TieredStopAtLevel=4" },
  { name: "B", options: values.b ?? "-XX:TieredStopAtLevel=1" },
];
const work = mkdtempSync(join(tmpdir(), "orchard-jvm-ab-"));

/**
 * CPU seconds of the process `pid` (its exited threads included) and of its live JIT compiler
 * threads (the JVM may retire an idle compiler thread, whose time then drops out of `jit`).
 */
function jvmCpu(pid: number): { total: number; jit: number } {
  let jit = 0;
  for (const [name, seconds] of threadsOf(pid)) if (/CompilerThre/.test(name)) jit += seconds;
  return { total: processCpu(pid).self, jit };
}

async function main(): Promise<void> {
  execFileSync(BRIDGE_BIN, ["--prepare"], { stdio: "ignore" });
  const images = baseImages();
  const input = copiesDataset(images, copies, join(work, "images"));
  const n = images.length * copies;
  const stops: Array<() => Promise<void>> = [];
  try {
    const sidecar = await startSidecar({ port: await freePort(), logFile: join(work, "sidecar.log") });
    stops.push(() => sidecar.stop());
    const servers = [];
    for (const v of variants) {
      const server = await startLocalSpark({
        port: await freePort(),
        logDir: join(work, `logs-${v.name}`),
        ...(v.options ? { conf: { "spark.driver.extraJavaOptions": v.options } } : {}),
      });
      stops.push(server.stop);
      servers.push({ ...v, jvm: javaPid(server.pid), spark: localSession(server) });
    }
    console.log(
      `${n} images, ${runs} runs each, alternating; A: "${variants[0]?.options}", B: "${variants[1]?.options}"`,
    );
    console.log("run  variant  wall s  img/s  JVM CPU s  of which JIT s  load1m");
    const results = new Map<string, number[]>();
    for (let i = 0; i < runs; i++) {
      for (const s of i % 2 === 0 ? servers : [...servers].reverse()) {
        const load = loadavg()[0] ?? 0;
        const c0 = jvmCpu(s.jvm);
        const step = await featuresStep(s.spark, {
          input,
          images: n,
          slots: 2,
          sidecar: sidecar.address,
          secretFile: sidecar.secretFile,
        });
        const wall = step.seconds;
        const c1 = jvmCpu(s.jvm);
        if (step.rows !== n) throw new Error(`expected ${n} rows, got ${step.rows}`);
        results.set(s.name, [...(results.get(s.name) ?? []), wall]);
        console.log(
          [
            String(i + 1).padEnd(4),
            s.name.padEnd(8),
            wall.toFixed(1).padStart(6),
            (n / wall).toFixed(1).padStart(6),
            (c1.total - c0.total).toFixed(1).padStart(10),
            (c1.jit - c0.jit).toFixed(1).padStart(15),
            load.toFixed(1).padStart(7),
          ].join(" "),
        );
      }
    }
    for (const s of servers) await s.spark.stop();
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
