/**
 * Peer benchmark (issue 14): orchard against the classic PySpark job it replaces (peer.py: binaryFile
 * -> pandas UDF with Pillow + onnxruntime, 1 thread per Python worker -> Spark ML PCA -> Parquet), on
 * the same model.onnx, images, k and `local[2]`, side by side in one invocation:
 *
 *   for each scale (default 1x and 8x the sample set's Training images):
 *     start a fresh orchard (Spark Connect server + sidecar) and a fresh peer (its own Python
 *     driver and SparkSession), one after the other;
 *     cold: orchard's first run on its fresh server, then the peer's first run in its fresh process;
 *     warm: `--warm` pairs, back to back, the order flipped each pair (o,p then p,o, ...): the peer's
 *     warm runs are repeats in its one SparkSession, so its Python workers are reused.
 *
 * Both sides run one at a time (never together), with the other side idle. The machine's 1-minute
 * load average is printed beside every run: on a shared machine absolute figures drift, so the
 * ratios of back-to-back pairs are the figures to compare. Start-up (server, sidecar, SparkSession)
 * is printed apart and is in no run's time; orchard's sidecar loads its model at start-up, the
 * peer's Python workers load theirs during the first run.
 *
 *   npx tsx bench/peer/run.ts [--scales 1,8] [--warm 2] [--k 50] [--base N] [--json out.json]
 *       [--model efficientnet-lite0-int8]
 *
 * `--model` (a catalog name, default efficientnet-lite0): the model both sides run, e.g. the INT8
 * one: orchard's sidecar serves it, the peer loads the same folder's model.onnx.
 *
 * Makes the peer's venv (bench/peer/venv.sh, pinned with hashes) on first use. Needs `npm run
 * setup` (Spark, model, sample data). Prints figures; asserts nothing.
 */
import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { cacheRoot } from "../../scripts/lib/paths.ts";
import { freePort } from "../../src/cli/local/ports.ts";
import { startLocalSpark } from "../../src/cli/local/spark-server.ts";
import { runPipeline } from "../../src/pipeline/run-pipeline.ts";
import { STEPS, type Step } from "../../src/pipeline/run-summary.ts";
import { BRIDGE_BIN } from "../../udf-server/src/bridge/bridge-command.ts";
import { startSidecar } from "../../udf-server/src/manage/start-sidecar.ts";
import { localSession } from "../lib/local-session.ts";
import { baseImages, copiesDataset } from "../lib/sample-set.ts";

const { values } = parseArgs({
  options: {
    base: { type: "string" },
    scales: { type: "string" },
    warm: { type: "string" },
    k: { type: "string" },
    json: { type: "string" },
    model: { type: "string" },
  },
});
const scales = (values.scales ?? "1,8").split(",").map(Number);
const warmPairs = Number(values.warm ?? 2);
const k = Number(values.k ?? 50);
const here = import.meta.dirname;
const work = mkdtempSync(join(tmpdir(), "orchard-bench-peer-"));
const model = values.model ?? "efficientnet-lite0";
const modelDir = join(cacheRoot(), "models", model);

type Side = "orchard" | "peer";
interface Run {
  scale: number;
  side: Side;
  kind: "cold" | "warm";
  images: number;
  wallS: number;
  featuresS: number;
  pcaS: number;
  load1m: number;
  /** orchard's step timings (run.json's timingsMs), in seconds. */
  stepsS?: Partial<Record<Step, number>>;
}

const load = () => Number((loadavg()[0] ?? 0).toFixed(2));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/** `env` less SPARK_REMOTE, which makes PySpark refuse a `local[...]` master. */
function withoutSparkRemote(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { SPARK_REMOTE: _, ...rest } = env;
  return rest;
}

/** The peer's Python driver, kept alive between runs: one JSON line in, one `PEER {...}` line out. */
class Peer {
  private readonly lines: AsyncIterator<string>;
  readonly log: string[] = [];
  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    this.lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  }

  static async start(python: string, logFile: string): Promise<{ peer: Peer; startupS: number }> {
    const child = spawn(python, [join(here, "peer.py"), "--model-dir", modelDir, "--master", "local[2]"], {
      env: { ...withoutSparkRemote(process.env), PYTHONUNBUFFERED: "1" },
    });
    const peer = new Peer(child);
    child.stderr.on("data", (d: Buffer) => peer.log.push(d.toString()));
    child.once("exit", () => writeFileSync(logFile, peer.log.join("")));
    const ready = JSON.parse((await peer.next()).replace(/^PEER ready /, "")) as { startupMs: number };
    return { peer, startupS: ready.startupMs / 1000 };
  }

  private async next(): Promise<string> {
    for (;;) {
      const { value, done } = await this.lines.next();
      if (done) {
        const tail = this.log.join("").split("\n").slice(-20).join("\n");
        throw new Error(`the peer exited (code ${this.child.exitCode}); the end of its log:\n${tail}`);
      }
      if (value.startsWith("PEER ")) return value;
    }
  }

  async run(
    input: string,
    output: string,
  ): Promise<{ images: number; wallS: number; featuresS: number; pcaS: number }> {
    this.child.stdin.write(`${JSON.stringify({ input, output, k })}\n`);
    const r = JSON.parse((await this.next()).slice("PEER ".length)) as Record<string, number>;
    return {
      images: r.images ?? 0,
      wallS: (r.wallMs ?? 0) / 1000,
      featuresS: (r.featuresMs ?? 0) / 1000,
      pcaS: (r.pcaMs ?? 0) / 1000,
    };
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.stdin.end();
    await exited;
  }
}

/** A fresh orchard: Spark Connect server (`local[2]`) and sidecar on free loopback ports. */
async function startOrchard(scale: number) {
  const t0 = performance.now();
  // Warmed up as `orchard spark start` does (its time is start-up, in no run).
  const server = await startLocalSpark({ port: await freePort(), logDir: join(work, `logs-${scale}`), warmUp: true });
  const sparkS = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  const sidecar = await startSidecar({ port: await freePort(), logFile: join(work, `sidecar-${scale}.log`), model });
  const sidecarS = (performance.now() - t1) / 1000;
  const spark = localSession(server);
  return {
    sparkS,
    warmUpS: (server.warmUpMs ?? 0) / 1000,
    sidecarS,
    async run(input: string, output: string) {
      const t = performance.now();
      const s = await runPipeline(spark, {
        input: pathToFileURL(input).href,
        output: pathToFileURL(output).href,
        reduction: { k },
        keepFeatures: false,
        extensions: ["jpg"],
        mode: "overwrite",
        model,
        sidecar: sidecar.address,
        sidecarSecretFile: sidecar.secretFile,
      });
      return {
        images: s.counts.filesIn,
        wallS: (performance.now() - t) / 1000,
        featuresS: (s.timingsMs.features ?? 0) / 1000,
        pcaS: (s.timingsMs.pca ?? 0) / 1000,
        stepsS: Object.fromEntries(Object.entries(s.timingsMs).map(([step, ms]) => [step, (ms ?? 0) / 1000])),
      };
    },
    async stop() {
      await spark.stop().catch(() => undefined);
      await sidecar.stop().catch(() => undefined);
      await server.stop().catch(() => undefined);
    },
  };
}

function printRun(r: Run): void {
  console.log(
    [
      `${r.scale}x`.padEnd(5),
      r.side.padEnd(8),
      r.kind.padEnd(5),
      String(r.images).padStart(6),
      r.wallS.toFixed(1).padStart(7),
      (r.images / r.wallS).toFixed(1).padStart(9),
      r.featuresS.toFixed(1).padStart(10),
      (r.images / r.featuresS).toFixed(1).padStart(10),
      r.pcaS.toFixed(1).padStart(6),
      r.load1m.toFixed(2).padStart(6),
    ].join(" "),
  );
  if (r.stepsS) {
    const steps = r.stepsS;
    const known = STEPS.reduce((sum, step) => sum + (steps[step] ?? 0), 0);
    const parts = STEPS.filter((step) => steps[step] !== undefined).map((step) => `${step} ${steps[step]?.toFixed(1)}`);
    console.log(`      orchard steps (s): ${parts.join(", ")}, outside the steps ${(r.wallS - known).toFixed(1)}`);
  }
}

async function main(): Promise<void> {
  const python = execFileSync("bash", [join(here, "venv.sh")], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  })
    .trim()
    .split("\n")
    .at(-1) as string;
  // The bridge's bundle is built on its first use in a checkout: not in a cold run.
  execFileSync(BRIDGE_BIN, ["--prepare"], { stdio: "ignore" });
  const images = baseImages(values.base ? Number(values.base) : undefined);
  const cores = availableParallelism();
  console.log(
    `${new Date().toISOString()}  ${cores} cores (${cpus()[0]?.model ?? "?"}), load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  console.log(
    `base set: ${images.length} images; scales ${scales.join(", ")}; k=${k}; ${warmPairs} warm pairs; local[2]; model ${model}`,
  );
  const runs: Run[] = [];
  const pairs: Array<{ scale: number; kind: "cold" | "warm"; ratio: number }> = [];
  for (const scale of scales) {
    const input = copiesDataset(images, scale, join(work, `x${scale}`));
    const orchard = await startOrchard(scale);
    try {
      const { peer, startupS } = await Peer.start(python, join(work, `peer-${scale}.log`));
      try {
        console.log(
          `\n${scale}x: ${images.length * scale} images; start-up (not in the runs): orchard Spark server ${orchard.sparkS.toFixed(1)} s (warm-up ${orchard.warmUpS.toFixed(1)} s of it), sidecar ${orchard.sidecarS.toFixed(1)} s; peer SparkSession ${startupS.toFixed(1)} s`,
        );
        console.log("scale side     run   images  wall s  e2e img/s  features s  feat img/s  pca s  load1m");
        const once = async (side: Side, kind: "cold" | "warm"): Promise<Run> => {
          const output = join(work, `out-${side}-${scale}`);
          const load1m = load();
          const r = side === "orchard" ? await orchard.run(input, output) : await peer.run(input, output);
          rmSync(output, { recursive: true, force: true });
          const run = { scale, side, kind, load1m, ...r };
          runs.push(run);
          printRun(run);
          return run;
        };
        const o = await once("orchard", "cold");
        const p = await once("peer", "cold");
        pairs.push({ scale, kind: "cold", ratio: p.wallS / o.wallS });
        for (let i = 0; i < warmPairs; i++) {
          const order: Side[] = i % 2 === 0 ? ["orchard", "peer"] : ["peer", "orchard"];
          const [a, b] = [await once(order[0] as Side, "warm"), await once(order[1] as Side, "warm")];
          const [ow, pw] = a.side === "orchard" ? [a, b] : [b, a];
          pairs.push({ scale, kind: "warm", ratio: pw.wallS / ow.wallS });
        }
      } finally {
        await peer.stop().catch(() => undefined);
      }
    } finally {
      await orchard.stop();
      rmSync(input, { recursive: true, force: true });
    }
  }

  console.log("\nsummary (orchard/peer = peer wall / orchard wall: > 1 means orchard is faster)");
  console.log(
    "scale  images  orchard cold  peer cold  orchard/peer cold  orchard warm  peer warm  orchard/peer warm (pairs)",
  );
  for (const scale of scales) {
    const of = (side: Side, kind: string) =>
      runs.filter((r) => r.scale === scale && r.side === side && r.kind === kind);
    const wallMedian = (rs: Run[]) => median(rs.map((r) => r.wallS));
    const warmRatios = pairs.filter((p) => p.scale === scale && p.kind === "warm").map((p) => p.ratio);
    const cold = pairs.find((p) => p.scale === scale && p.kind === "cold")?.ratio ?? Number.NaN;
    console.log(
      [
        `${scale}x`.padEnd(5),
        String(of("orchard", "cold")[0]?.images ?? 0).padStart(7),
        `${wallMedian(of("orchard", "cold")).toFixed(1)} s`.padStart(13),
        `${wallMedian(of("peer", "cold")).toFixed(1)} s`.padStart(10),
        `${cold.toFixed(2)}x`.padStart(18),
        `${wallMedian(of("orchard", "warm")).toFixed(1)} s`.padStart(13),
        `${wallMedian(of("peer", "warm")).toFixed(1)} s`.padStart(10),
        `${median(warmRatios).toFixed(2)}x (${warmRatios.map((r) => r.toFixed(2)).join(", ")})`.padStart(27),
      ].join(" "),
    );
  }
  if (values.json) {
    writeFileSync(
      values.json,
      `${JSON.stringify({ measured: new Date().toISOString(), cores, cpu: cpus()[0]?.model, model, k, runs, pairs }, null, 2)}\n`,
    );
  }
}

try {
  await main();
} finally {
  rmSync(work, { recursive: true, force: true });
}
