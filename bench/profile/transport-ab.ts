/**
 * A/B of featurize's image transport (issue 14): `bytes` (binaryFile reads each file, base64 through
 * the TRANSFORM pipe, the bridge decodes it and sends it over Flight) against `path` (only the path
 * goes through; the sidecar reads the `file:` itself). One Spark server, one sidecar; the two
 * alternate (A B, B A, ...) so both see the same minutes of a shared machine, after one warm-up run
 * of each. Each run prints its wall time and the CPU seconds of the JVM, of the bridges (the JVM's
 * reaped children) and of the sidecar (/proc), and the 1-minute load average; then the medians.
 *
 *   npx tsx bench/profile/transport-ab.ts [--copies 2] [--runs 3] [--side 0]
 *
 * `--side N` (> 0) re-encodes every image as an N x N JPEG (quality 90, sharp) first: the sample
 * set's photos are 100x100, about 3 KB, far smaller than a camera's. Prints figures; asserts nothing.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import sharp from "sharp";
import { freePort } from "../../src/cli/local/ports.ts";
import { startLocalSpark } from "../../src/cli/local/spark-server.ts";
import { col, count, lit, max, size, when } from "../../src/connect/functions.ts";
import { persist, unpersist } from "../../src/connect/persistence.ts";
import { featurizePartitions } from "../../src/pipeline/cluster-cores.ts";
import { featurize } from "../../src/pipeline/featurize.ts";
import { readImages } from "../../src/pipeline/ingest.ts";
import { BRIDGE_BIN } from "../../udf-server/src/bridge/bridge-command.ts";
import { startSidecar } from "../../udf-server/src/manage/start-sidecar.ts";
import { localSession } from "../lib/local-session.ts";
import { baseImages, copiesDataset } from "../lib/sample-set.ts";

const { values } = parseArgs({
  options: { copies: { type: "string" }, runs: { type: "string" }, side: { type: "string" } },
});
const copies = Number(values.copies ?? 2);
const runs = Number(values.runs ?? 3);
const side = Number(values.side ?? 0);
const work = mkdtempSync(join(tmpdir(), "orchard-transport-ab-"));

/** utime + stime (own) and cutime + cstime (reaped children) of a process, in seconds. */
function cpuOf(pid: number): { self: number; children: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { self: (Number(f[11]) + Number(f[12])) / 100, children: (Number(f[13]) + Number(f[14])) / 100 };
}

function javaPid(pid: number): number {
  if (readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "java") return pid;
  for (const kid of readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean)) {
    const found = javaPid(Number(kid));
    if (found) return found;
  }
  return 0;
}

/** Re-encodes every file under `dir` as a `side` x `side` JPEG, in place. */
async function resizeAll(dir: string): Promise<void> {
  for (const label of readdirSync(dir)) {
    for (const file of readdirSync(join(dir, label))) {
      const path = join(dir, label, file);
      writeFileSync(path, await sharp(path).resize(side, side).jpeg({ quality: 90 }).toBuffer());
    }
  }
}

function bytesUnder(dir: string): number {
  let total = 0;
  for (const label of readdirSync(dir))
    for (const f of readdirSync(join(dir, label))) total += statSync(join(dir, label, f)).size;
  return total;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

async function main(): Promise<void> {
  execFileSync(BRIDGE_BIN, ["--prepare"], { stdio: "ignore" });
  const images = baseImages();
  const folder = join(work, "images");
  mkdirSync(folder, { recursive: true });
  const input = copiesDataset(images, copies, folder);
  if (side > 0) await resizeAll(input);
  const n = images.length * copies;
  const inputUri = pathToFileURL(input).href;
  const stops: Array<() => Promise<void>> = [];
  try {
    const sidecar = await startSidecar({ port: await freePort(), logFile: join(work, "sidecar.log") });
    stops.push(() => sidecar.stop());
    const server = await startLocalSpark({ port: await freePort(), logDir: join(work, "logs") });
    stops.push(server.stop);
    const jvm = javaPid(server.pid);
    const spark = localSession(server);
    const mean = bytesUnder(input) / n;
    console.log(
      `${n} images (${side > 0 ? `${side}x${side}` : "100x100"}, mean ${(mean / 1024).toFixed(1)} KiB), ${runs} runs each, alternating, after one warm-up of each`,
    );
    const run = async (transport: "bytes" | "path") => {
      const files = readImages(spark, { uri: inputUri, extensions: ["jpg"] });
      const partitions = featurizePartitions(n, 2);
      const tasks = n >= 32 * partitions ? files.coalesce(partitions) : files.repartition(partitions);
      const load = loadavg()[0] ?? 0;
      const j0 = cpuOf(jvm);
      const s0 = cpuOf(sidecar.pid);
      const t0 = performance.now();
      const featurized = await persist(
        await featurize(spark, tasks, {
          sidecar: sidecar.address,
          secretFile: sidecar.secretFile,
          ...(transport === "path" ? { readRoots: [inputUri] } : {}),
        }),
      );
      const row = await featurized
        .agg(count(lit(1)), count(col("error")), max(when(col("error").isNull(), size(col("features")))))
        .first();
      const wall = (performance.now() - t0) / 1000;
      await unpersist(featurized);
      const j1 = cpuOf(jvm);
      const s1 = cpuOf(sidecar.pid);
      if (Number(row?.get(0)) !== n || Number(row?.get(1)) !== 0) {
        throw new Error(`${transport}: expected ${n} rows without error, got ${row?.get(0)} (${row?.get(1)} errors)`);
      }
      return {
        wall,
        jvm: j1.self - j0.self,
        bridges: j1.children - j0.children,
        sidecar: s1.self - s0.self,
        load,
      };
    };
    for (const t of ["bytes", "path"] as const) {
      const w = await run(t);
      console.log(`warm-up ${t}: ${w.wall.toFixed(1)} s`);
    }
    console.log("run  transport  wall s  img/s  JVM CPU s  bridges CPU s  sidecar CPU s  total CPU s  load1m");
    const results = new Map<string, Array<Awaited<ReturnType<typeof run>>>>();
    for (let i = 0; i < runs; i++) {
      for (const t of i % 2 === 0 ? (["bytes", "path"] as const) : (["path", "bytes"] as const)) {
        const r = await run(t);
        results.set(t, [...(results.get(t) ?? []), r]);
        console.log(
          [
            String(i + 1).padEnd(4),
            t.padEnd(9),
            r.wall.toFixed(1).padStart(7),
            (n / r.wall).toFixed(1).padStart(6),
            r.jvm.toFixed(1).padStart(10),
            r.bridges.toFixed(1).padStart(14),
            r.sidecar.toFixed(1).padStart(14),
            (r.jvm + r.bridges + r.sidecar).toFixed(1).padStart(12),
            r.load.toFixed(1).padStart(7),
          ].join(" "),
        );
      }
    }
    console.log("medians:");
    for (const [t, rs] of results) {
      const m = (f: (r: (typeof rs)[number]) => number) => median(rs.map(f)).toFixed(1);
      console.log(
        `  ${t.padEnd(6)} wall ${m((r) => r.wall)} s, ${median(rs.map((r) => n / r.wall)).toFixed(1)} img/s; CPU s: JVM ${m((r) => r.jvm)}, bridges ${m((r) => r.bridges)}, sidecar ${m((r) => r.sidecar)}, total ${m((r) => r.jvm + r.bridges + r.sidecar)}`,
      );
    }
    await spark.stop();
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
