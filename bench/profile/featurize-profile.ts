/**
 * Where the cores go during featurize (issue 14, part 2): the pipeline's features step alone
 * (binaryFile -> TRANSFORM through the bridges -> sidecar -> from_json, persisted and counted, as
 * run-pipeline.ts does it) on `local[2]`, after one warm-up run, with
 *   - CPU seconds per process, from /proc: the Spark JVM itself, the bridges (the JVM's reaped
 *     children: `bash -c` + node), the sidecar, and the sidecar's threads by name;
 *   - the JVM: a JFR recording (settings=profile, started and dumped with jcmd around the run),
 *     its hottest methods (self samples of jdk.ExecutionSample);
 *   - the bridges and the sidecar: `node --cpu-prof` (Node refuses it in NODE_OPTIONS, so the
 *     bridges get it in the command Spark's TRANSFORM runs, featurize's `bridge` option, and the
 *     sidecar through startSidecar's `nodeArgs`), their hottest functions (self time, all
 *     profiles of a kind merged; worker threads write their own profiles).
 *
 *   npx tsx bench/profile/featurize-profile.ts [--copies 2] [--keep DIR]
 *
 * With `--keep DIR` the raw profiles (.jfr, .cpuprofile) are left in DIR (open them in JDK Mission
 * Control / Chrome DevTools). Prints figures; asserts nothing.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { freePort } from "../../src/cli/local/ports.ts";
import { startLocalSpark } from "../../src/cli/local/spark-server.ts";
import { BRIDGE_BIN } from "../../udf-server/src/bridge/bridge-command.ts";
import { type SidecarHandle, startSidecar } from "../../udf-server/src/manage/start-sidecar.ts";
import { featuresStep as runFeaturesStep } from "../lib/features-step.ts";
import { localSession } from "../lib/local-session.ts";
import { cpuOf, javaPid, threadsOf } from "../lib/proc-stats.ts";
import { baseImages, copiesDataset } from "../lib/sample-set.ts";

const { values } = parseArgs({ options: { copies: { type: "string" }, keep: { type: "string" } } });
const copies = Number(values.copies ?? 2);
const work = values.keep ?? mkdtempSync(join(tmpdir(), "orchard-profile-"));
interface CpuNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: CpuNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Self time (ms) per function over all .cpuprofile files in `dir`, and the profiles' total. */
function cpuprofileTop(dir: string): { total: number; idle: number; top: Array<[string, number]>; files: number } {
  const self = new Map<string, number>();
  let total = 0;
  let idle = 0;
  const files = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"));
  for (const file of files) {
    const p = JSON.parse(readFileSync(join(dir, file), "utf8")) as CpuProfile;
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    for (let i = 0; i < p.samples.length; i++) {
      const n = byId.get(p.samples[i] as number);
      const dt = (p.timeDeltas[i] ?? 0) / 1000;
      if (!n) continue;
      const { functionName, url, lineNumber } = n.callFrame;
      const where = url ? `${url.replace(/^.*\/(node_modules|src|dist)\//, "$1/")}:${lineNumber + 1}` : "";
      const key = `${functionName || "(anonymous)"} ${where}`.trim();
      if (key === "(idle)") {
        idle += dt;
        continue;
      }
      self.set(key, (self.get(key) ?? 0) + dt);
      total += dt;
    }
  }
  return { total, idle, top: [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 15), files: files.length };
}

/** Hottest Java methods (self samples) of a JFR recording, via `jfr print --json`. */
function jfrTop(
  jfrBin: string,
  file: string,
): { samples: number; top: Array<[string, number]>; byThread: Array<[string, number]> } {
  const json = execFileSync(
    jfrBin,
    ["print", "--json", "--stack-depth", "1", "--events", "jdk.ExecutionSample", file],
    {
      encoding: "utf8",
      maxBuffer: 1 << 30,
    },
  );
  const events = (JSON.parse(json) as { recording: { events: Array<{ values: Record<string, unknown> }> } }).recording
    .events;
  const self = new Map<string, number>();
  const threads = new Map<string, number>();
  for (const e of events) {
    const frames = (e.values.stackTrace as { frames?: Array<{ method: { type: { name: string }; name: string } }> })
      ?.frames;
    const top = frames?.[0];
    const key = top ? `${top.method.type.name}.${top.method.name}` : "(no stack)";
    self.set(key, (self.get(key) ?? 0) + 1);
    const thread = String((e.values.sampledThread as { javaName?: string })?.javaName ?? "?").replace(/\d+/g, "N");
    threads.set(thread, (threads.get(thread) ?? 0) + 1);
  }
  const sort = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, 15);
  return { samples: events.length, top: sort(self), byThread: sort(threads) };
}

const pct = (x: number, total: number) => `${((100 * x) / total).toFixed(1)}%`.padStart(6);

async function main(): Promise<void> {
  const javaHome = process.env.JAVA_HOME ?? "/usr/lib/jvm/java-17-openjdk-amd64";
  const jcmd = join(javaHome, "bin", "jcmd");
  const jfrBin = join(javaHome, "bin", "jfr");
  execFileSync(BRIDGE_BIN, ["--prepare"], { stdio: "ignore" });
  const images = baseImages();
  const input = copiesDataset(images, copies, join(work, "images"));
  const bridgeProfiles = join(work, "bridge-cpuprof");
  const sidecarProfiles = join(work, "sidecar-cpuprof");
  mkdirSync(bridgeProfiles, { recursive: true });
  mkdirSync(sidecarProfiles, { recursive: true });

  const server = await startLocalSpark({
    port: await freePort(),
    logDir: join(work, "logs"),
  });
  const stops: Array<() => Promise<void>> = [server.stop];
  let sidecar: SidecarHandle | undefined;
  try {
    const jvm = javaPid(server.pid);
    const spark = localSession(server);
    // Node refuses --cpu-prof in NODE_OPTIONS: the bridges get it on the command line Spark runs.
    const profiledBridge = (address: string) =>
      `${process.execPath} --cpu-prof --cpu-prof-dir=${bridgeProfiles} ${BRIDGE_BIN} --sidecar ${address}`;
    const n = images.length * copies;
    const featuresStep = (address: string, secretFile: string, bridge?: string) =>
      runFeaturesStep(spark, {
        input,
        images: n,
        slots: 2,
        sidecar: address,
        secretFile,
        ...(bridge ? { bridge } : {}),
      });

    // Warm-up: the JVM's first featurize (class loading, JIT), with a sidecar that is not profiled.
    const warm = await startSidecar({ port: await freePort(), logFile: join(work, "sidecar-warm.log") });
    const w = await featuresStep(warm.address, warm.secretFile);
    await warm.stop();
    rmSync(bridgeProfiles, { recursive: true, force: true });
    mkdirSync(bridgeProfiles, { recursive: true });
    console.log(`warm-up: ${w.rows} rows in ${w.seconds.toFixed(1)} s`);

    sidecar = await startSidecar({
      port: await freePort(),
      logFile: join(work, "sidecar.log"),
      nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${sidecarProfiles}`],
    });
    const sidecarPid = sidecar.pid;
    const sidecarThreads0 = threadsOf(sidecarPid);
    const jvmThreads0 = threadsOf(jvm);
    const jvm0 = cpuOf(`/proc/${jvm}/stat`);
    const side0 = cpuOf(`/proc/${sidecarPid}/stat`);
    const load0 = loadavg()[0] ?? 0;
    execFileSync(jcmd, [String(jvm), "JFR.start", "name=featurize", "settings=profile"], { stdio: "ignore" });
    const r = await featuresStep(sidecar.address, sidecar.secretFile, profiledBridge(sidecar.address));
    const jfrFile = join(work, "featurize.jfr");
    execFileSync(jcmd, [String(jvm), "JFR.stop", "name=featurize", `filename=${jfrFile}`], { stdio: "ignore" });
    const jvm1 = cpuOf(`/proc/${jvm}/stat`);
    const side1 = cpuOf(`/proc/${sidecarPid}/stat`);
    const sidecarThreads1 = threadsOf(sidecarPid);
    const jvmThreads1 = threadsOf(jvm);
    const load1 = loadavg()[0] ?? 0;
    await sidecar.stop();
    sidecar = undefined;
    await spark.stop();

    const cpu = {
      jvm: jvm1.self - jvm0.self,
      bridges: jvm1.children - jvm0.children,
      sidecar: side1.self - side0.self,
    };
    const all = cpu.jvm + cpu.bridges + cpu.sidecar;
    console.log(
      `\nfeaturize: ${r.rows} rows (${r.failed} failed, ${r.dim}-d) in ${r.seconds.toFixed(1)} s = ${(r.rows / r.seconds).toFixed(1)} img/s; load ${load0.toFixed(1)} -> ${load1.toFixed(1)}`,
    );
    console.log(`CPU seconds (of ${(2 * r.seconds).toFixed(1)} core-seconds of wall on 2 cores):`);
    for (const [k, v] of Object.entries(cpu))
      console.log(`  ${k.padEnd(8)} ${v.toFixed(1).padStart(6)} s ${pct(v, all)}`);
    for (const [label, before, after, total] of [
      ["JVM", jvmThreads0, jvmThreads1, cpu.jvm],
      ["sidecar", sidecarThreads0, sidecarThreads1, cpu.sidecar],
    ] as const) {
      console.log(`  ${label} threads (by name, as /proc shows it, digits folded):`);
      for (const [name, v] of [...after.entries()]
        .map(([n, s]) => [n, s - (before.get(n) ?? 0)] as const)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 10)) {
        console.log(`    ${name.padEnd(16)} ${v.toFixed(1).padStart(6)} s ${pct(v, total)}`);
      }
    }

    const j = jfrTop(jfrBin, jfrFile);
    console.log(`\nJVM (JFR, ${j.samples} execution samples), self by method:`);
    for (const [m, n] of j.top) console.log(`  ${pct(n, j.samples)}  ${m}`);
    console.log("  by thread:");
    for (const [t, n] of j.byThread.slice(0, 6)) console.log(`  ${pct(n, j.samples)}  ${t}`);
    for (const [label, dir] of [
      ["bridges", bridgeProfiles],
      ["sidecar", sidecarProfiles],
    ] as const) {
      const p = cpuprofileTop(dir);
      console.log(
        `\n${label} (node --cpu-prof, ${p.files} profiles, ${(p.total / 1000).toFixed(1)} s busy, ${(p.idle / 1000).toFixed(1)} s idle), self by function:`,
      );
      for (const [f, ms] of p.top) console.log(`  ${pct(ms, p.total)}  ${f}`);
    }
  } finally {
    await sidecar?.stop().catch(() => undefined);
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    if (!values.keep) rmSync(work, { recursive: true, force: true });
  }
}

await main();
