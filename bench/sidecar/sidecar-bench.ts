/**
 * Sidecar benchmark: images/s on the sample fruit set, measured in the same run, interleaved
 * over rounds (median reported), for
 *   (a)  the in-process loop: H3a's featurizer called directly, batches of --batch images;
 *   (b2) the sidecar over Arrow Flight fed by 2 concurrent clients; (b4) by 4 clients;
 *   (c)  the bridge executable fed through stdin/stdout (what Spark runs per partition),
 *        cold start included;
 * then b/a, c/a and the sidecar's peak RSS (VmHWM). Targets on a 2-core box: b/a >= 0.9,
 * c/a >= 0.8, RSS <= 500 MB.
 *
 *   npx tsx bench/sidecar/sidecar-bench.ts [--images 512] [--rounds 3] [--batch 16] [--client-batch 32] [--concurrent-batches N]
 * Needs scripts/setup-model.sh and scripts/setup-sample-data.sh.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { cacheRoot } from "../../scripts/lib/paths.ts";
import { loadFeaturizer } from "../../udf-server/src/featurizer.ts";
import { FlightClient } from "../../udf-server/src/flight/client.ts";
import { sidecarStatus } from "../../udf-server/src/manage/sidecar-status.ts";
import { startSidecar } from "../../udf-server/src/manage/start-sidecar.ts";

const { values } = parseArgs({
  options: {
    images: { type: "string" },
    rounds: { type: "string" },
    batch: { type: "string" },
    "client-batch": { type: "string" },
    "concurrent-batches": { type: "string" },
  },
});
const N = Number(values.images ?? 512);
const ROUNDS = Number(values.rounds ?? 3);
const BATCH = Number(values.batch ?? 16);
const CLIENT_BATCH = Number(values["client-batch"] ?? 32);
const THREADS = availableParallelism();
const root = join(import.meta.dirname, "..", "..");
const bridgeBin = join(root, "udf-server", "bin", "orchard-bridge");
/** The started sidecar's secret file (its clients and bridges read the secret from it). */
let secretFile = "";

function sampleImages(limit: number): { paths: string[]; bytes: Buffer[] } {
  const base = join(cacheRoot(), "data", "fruits", "Training");
  const paths = readdirSync(base)
    .sort()
    .flatMap((c) => readdirSync(join(base, c)).map((f) => join(base, c, f)))
    .sort()
    .slice(0, limit);
  return { paths, bytes: paths.map((p) => readFileSync(p)) };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

async function timed(fn: () => Promise<number>): Promise<number> {
  const t = performance.now();
  const count = await fn();
  if (count !== N) throw new Error(`bench: expected ${N} results, got ${count}`);
  return N / ((performance.now() - t) / 1000);
}

/** One client streaming its share of the images through one exchange, pipelined. */
async function client(address: string, ids: string[], bytes: Buffer[]): Promise<number> {
  const flight = new FlightClient(address, { secretFile });
  const ex = flight.featureExchange();
  const results = (async () => {
    let n = 0;
    for await (const rows of ex.batches()) {
      for (const r of rows) if (r.error !== null) throw new Error(`bench: ${r.id}: ${r.error}`);
      n += rows.length;
    }
    return n;
  })();
  for (let k = 0; k < ids.length; k += CLIENT_BATCH) {
    await ex.send(ids.slice(k, k + CLIENT_BATCH), bytes.slice(k, k + CLIENT_BATCH));
  }
  ex.end();
  const n = await results;
  flight.close();
  return n;
}

async function clients(address: string, k: number, paths: string[], bytes: Buffer[]): Promise<number> {
  const shares = Array.from({ length: k }, (_, s) => paths.map((_, i) => i).filter((i) => i % k === s));
  const counts = await Promise.all(
    shares.map((idx) =>
      client(
        address,
        idx.map((i) => paths[i] as string),
        idx.map((i) => bytes[i] as Buffer),
      ),
    ),
  );
  return counts.reduce((a, b) => a + b, 0);
}

function runBridge(address: string, inputFile: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bridgeBin, "--sidecar", address, "--secret-file", secretFile], {
      stdio: [openSync(inputFile, "r"), "pipe", "inherit"],
    });
    let lines = 0;
    let errors = 0;
    let tail = "";
    child.stdout?.on("data", (d: Buffer) => {
      const text = tail + d.toString("latin1");
      const parts = text.split("\n");
      tail = parts.pop() ?? "";
      lines += parts.length;
      for (const p of parts) if (!p.includes("\t\\N\t")) errors++;
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) reject(new Error(`bench: bridge exited with ${code}`));
      else if (errors > 0) reject(new Error(`bench: bridge reported ${errors} row errors`));
      else resolve(lines);
    });
  });
}

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

async function main(): Promise<void> {
  const { paths, bytes } = sampleImages(N);
  if (paths.length < N) throw new Error(`bench: only ${paths.length} sample images (run scripts/setup-sample-data.sh)`);
  const totalKb = bytes.reduce((a, b) => a + b.length, 0) / 1024;
  console.log(
    `sidecar bench: ${N} fruit images (${(totalKb / N).toFixed(1)} KB avg), ${THREADS} cores, ${ROUNDS} rounds (median), ` +
      `featurizer batch ${BATCH}, client/bridge batch ${CLIENT_BATCH}, load ${loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")}`,
  );

  const work = mkdtempSync(join(tmpdir(), "orchard-sidecar-bench-"));
  const inputFile = join(work, "bridge-input.tsv");
  writeFileSync(inputFile, paths.map((p, i) => `${p}\t${(bytes[i] as Buffer).toString("base64")}\n`).join(""));

  const featurizer = await loadFeaturizer({ model: "efficientnet-lite0", threads: THREADS });
  const extraArgs = values["concurrent-batches"] ? ["--concurrent-batches", values["concurrent-batches"]] : [];
  const sidecar = await startSidecar({
    port: 0,
    threads: THREADS,
    maxBatch: BATCH,
    logFile: join(work, "sidecar.log"),
    pidFile: join(work, "sidecar.pid"),
    extraArgs,
  });
  try {
    secretFile = sidecar.secretFile;
    const info = (await sidecarStatus(sidecar.address, 2000, secretFile)).info;
    console.log(`sidecar ${sidecar.address} pid ${sidecar.pid}: batching ${JSON.stringify(info?.batching)}`);
    // Warm-up: the model's first runs, the bridge bundle.
    await featurizer.featurize(bytes.slice(0, BATCH));
    await clients(sidecar.address, 1, paths.slice(0, BATCH), bytes.slice(0, BATCH));
    await runBridge(sidecar.address, inputFile);

    const a: number[] = [];
    const b2: number[] = [];
    const b4: number[] = [];
    const c: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      a.push(
        await timed(async () => {
          let n = 0;
          for (let k = 0; k < N; k += BATCH) n += (await featurizer.featurize(bytes.slice(k, k + BATCH))).length;
          return n;
        }),
      );
      b2.push(await timed(() => clients(sidecar.address, 2, paths, bytes)));
      b4.push(await timed(() => clients(sidecar.address, 4, paths, bytes)));
      c.push(await timed(() => runBridge(sidecar.address, inputFile)));
      console.log(
        `  round ${r + 1}: a ${a[r]?.toFixed(1)}  b2 ${b2[r]?.toFixed(1)}  b4 ${b4[r]?.toFixed(1)}  c ${c[r]?.toFixed(1)} img/s`,
      );
    }
    const [ma, mb2, mb4, mc] = [median(a), median(b2), median(b4), median(c)];
    const rss = peakRssMb(sidecar.pid);
    const row = (label: string, v: number) => console.log(`${label.padEnd(52)} ${v.toFixed(1).padStart(8)} img/s`);
    console.log("");
    row("(a)  in-process featurizer loop", ma);
    row("(b)  sidecar over Flight, 2 concurrent clients", mb2);
    row("(b)  sidecar over Flight, 4 concurrent clients", mb4);
    row("(c)  bridge via stdin/stdout (cold start included)", mc);
    console.log(`b/a  ${(mb2 / ma).toFixed(3)} (2 clients)  ${(mb4 / ma).toFixed(3)} (4 clients)   target >= 0.9`);
    console.log(`c/a  ${(mc / ma).toFixed(3)}   target >= 0.8`);
    console.log(`sidecar peak RSS (VmHWM) ${rss.toFixed(0)} MB   target <= 500 MB`);
  } finally {
    await featurizer.close();
    await sidecar.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
