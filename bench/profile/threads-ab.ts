/**
 * A/B of thread settings on the pipeline's features step (issue 14, "thread contention": ONNX
 * Runtime's threads, Spark's task threads and the bridges compete for the cores). Each variant gets
 * its own local Spark server (its `local[N,4]` master: N task slots, N bridges at a time) and its
 * own sidecar (`--threads T --sessions S`: S ONNX sessions of T/S intra-op threads each). Each
 * variant's first run warms its server and is not counted; then the variants' runs alternate,
 * the order rotated each round, so all see the same minutes of a shared machine. Prints every
 * run (wall, images/s, the CPU seconds of its JVM + bridges and of its sidecar, load) and per
 * variant the median images/s and its ratio to the first variant's. sharp's concurrency is not a
 * variant: on glibc without jemalloc sharp already runs libvips with 1 thread (`sharp.concurrency()`).
 *
 *   npx tsx bench/profile/threads-ab.ts [--copies 2] [--rounds 3] [--variants current,sidecar-1,slots-3,intra-2]
 *
 * Variants: current (local[2], 2 sessions x 1 thread), sidecar-1 (local[2], 1 session x 1
 * thread: a core left to the JVM and the bridges), slots-3 (local[3], 2 x 1), slots-1 (local[1],
 * 2 x 1), intra-2 (local[2], 1 session x 2 threads). Needs `npm run setup`. Prints figures; asserts nothing.
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
import { javaPid, processCpu } from "../lib/proc-stats.ts";
import { baseImages, copiesDataset } from "../lib/sample-set.ts";

const VARIANTS = {
  current: { slots: 2, threads: 2, sessions: 2 },
  "sidecar-1": { slots: 2, threads: 1, sessions: 1 },
  "slots-3": { slots: 3, threads: 2, sessions: 2 },
  "slots-1": { slots: 1, threads: 2, sessions: 2 },
  "intra-2": { slots: 2, threads: 2, sessions: 1 },
} as const;
type VariantName = keyof typeof VARIANTS;

const { values } = parseArgs({
  options: { copies: { type: "string" }, rounds: { type: "string" }, variants: { type: "string" } },
});
const copies = Number(values.copies ?? 2);
const rounds = Number(values.rounds ?? 3);
const names = (values.variants ?? "current,sidecar-1,slots-3,intra-2").split(",") as VariantName[];
for (const n of names) if (!(n in VARIANTS)) throw new Error(`unknown variant ${n}: one of ${Object.keys(VARIANTS)}`);
const work = mkdtempSync(join(tmpdir(), "orchard-threads-ab-"));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/** One variant, started: its server's session and JVM pid, and its sidecar. */
interface Setup {
  name: VariantName;
  slots: number;
  threads: number;
  sessions: number;
  spark: ReturnType<typeof localSession>;
  sidecar: Awaited<ReturnType<typeof startSidecar>>;
  jvm: number;
}

async function main(): Promise<void> {
  execFileSync(BRIDGE_BIN, ["--prepare"], { stdio: "ignore" });
  const images = baseImages();
  const input = copiesDataset(images, copies, join(work, "images"));
  const n = images.length * copies;
  const stops: Array<() => Promise<void>> = [];
  try {
    const setups: Setup[] = [];
    for (const name of names) {
      const v = VARIANTS[name];
      const server = await startLocalSpark({
        port: await freePort(),
        master: `local[${v.slots}]`,
        logDir: join(work, `logs-${name}`),
      });
      stops.push(server.stop);
      const sidecar = await startSidecar({
        port: await freePort(),
        threads: v.threads,
        extraArgs: ["--sessions", String(v.sessions)],
        logFile: join(work, `sidecar-${name}.log`),
      });
      stops.push(() => sidecar.stop());
      const spark = localSession(server);
      stops.push(() => spark.stop());
      setups.push({ name, ...v, spark, sidecar, jvm: javaPid(server.pid) });
    }
    const step = (s: Setup) =>
      featuresStep(s.spark, {
        input,
        images: n,
        slots: s.slots,
        sidecar: s.sidecar.address,
        secretFile: s.sidecar.secretFile,
      });
    for (const s of setups) {
      const w = await step(s);
      console.log(`warm-up ${s.name}: ${w.rows} rows in ${w.seconds.toFixed(1)} s`);
    }
    console.log(`\n${n} images a run, ${rounds} rounds, variants alternating`);
    console.log("round  variant     wall s  img/s  JVM+bridges CPU s  sidecar CPU s  load1m");
    const rates = new Map<string, number[]>();
    const cpus = new Map<string, number[]>();
    for (let r = 0; r < rounds; r++) {
      const order = setups.map((_, i) => setups[(i + r) % setups.length] as Setup);
      for (const s of order) {
        const load = loadavg()[0] ?? 0;
        const j0 = processCpu(s.jvm);
        const c0 = processCpu(s.sidecar.pid).self;
        const got = await step(s);
        const j1 = processCpu(s.jvm);
        const c1 = processCpu(s.sidecar.pid).self;
        if (got.rows !== n || got.failed !== 0) throw new Error(`${s.name}: ${got.rows} rows, ${got.failed} failed`);
        rates.set(s.name, [...(rates.get(s.name) ?? []), n / got.seconds]);
        const cpu = j1.self + j1.children - j0.self - j0.children + c1 - c0;
        cpus.set(s.name, [...(cpus.get(s.name) ?? []), (1000 * cpu) / n]);
        console.log(
          [
            String(r + 1).padEnd(6),
            s.name.padEnd(10),
            got.seconds.toFixed(1).padStart(7),
            (n / got.seconds).toFixed(1).padStart(6),
            (j1.self + j1.children - j0.self - j0.children).toFixed(1).padStart(18),
            (c1 - c0).toFixed(1).padStart(14),
            load.toFixed(1).padStart(7),
          ].join(" "),
        );
      }
    }
    const base = median(rates.get(names[0] as string) ?? [1]);
    console.log("\nvariant     master    sidecar sessions x threads  median img/s  vs first  CPU ms/img (ours)");
    for (const s of setups) {
      const m = median(rates.get(s.name) ?? [0]);
      console.log(
        [
          s.name.padEnd(11),
          `local[${s.slots}]`.padEnd(9),
          `${s.sessions} x ${s.threads / s.sessions}`.padStart(27),
          m.toFixed(1).padStart(13),
          `${(m / base).toFixed(2)}x`.padStart(9),
          median(cpus.get(s.name) ?? [0])
            .toFixed(1)
            .padStart(18),
        ].join(" "),
      );
    }
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
