/**
 * Cluster benchmark (issue 11): the pipeline's images/s on docker/compose.yaml's Spark standalone
 * cluster (2 workers x 1 core, a sidecar on each, MinIO) and on `local[2]` with one sidecar, over the
 * same images, in the same run. The runs alternate (cluster, local, cluster, local, ...) so both
 * sides get the same minutes of this machine; the first run of each side is on a fresh server and
 * reported apart (it pays the JVM's warm-up), the rest give the median.
 *
 *   npx tsx bench/cluster/run.ts [--images 400] [--repeat 2] [--k 50]
 *
 * Needs `npm run setup` (Spark, model, sample data) and a Docker engine (`bash scripts/setup.sh docker
 * docker-image`, which the bench runs itself, as the docker-cluster test does). The cluster reads
 * the images from its own MinIO (s3a://), local[2] from the local disk, as each is used. Both sides
 * run on this one machine, so the cluster's figure is the cost of the distributed design (a master,
 * two executor JVMs, two sidecars, MinIO) on the same cores, not a scale-out. Prints figures; asserts
 * nothing. Everything it starts is stopped, the compose project taken down with its volume.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { freePort } from "../../src/cli/local/ports.ts";
import { startLocalSpark } from "../../src/cli/local/spark-server.ts";
import { SparkSession } from "../../src/connect/spark-session.ts";
import { runPipeline } from "../../src/pipeline/run-pipeline.ts";
import type { RunSummary } from "../../src/pipeline/run-summary.ts";
import { s3CompatibleAccess } from "../../src/s3.ts";
import { sh, startComposeCluster } from "../../test/support/compose-cluster.ts";
import { startSidecar } from "../../udf-server/src/manage/start-sidecar.ts";
import { localSession } from "../lib/local-session.ts";
import { baseImages, copiesDataset } from "../lib/sample-set.ts";

const { values } = parseArgs({
  options: { images: { type: "string" }, repeat: { type: "string" }, k: { type: "string" } },
});
const count = Number(values.images ?? 400);
const repeat = Number(values.repeat ?? 2);
const k = Number(values.k ?? 50);
const work = mkdtempSync(join(tmpdir(), "orchard-bench-cluster-"));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

interface Side {
  name: string;
  run(i: number): Promise<RunSummary>;
  rates: { e2e: number; features: number }[];
}

function row(side: string, label: string, s: RunSummary): { e2e: number; features: number } {
  const n = s.counts.filesIn;
  const features = (s.timingsMs.features ?? 0) / 1000;
  const rates = { e2e: n / (s.wallMs / 1000), features: n / features };
  console.log(
    [
      side.padEnd(18),
      label.padEnd(6),
      String(n).padStart(6),
      (s.wallMs / 1000).toFixed(1).padStart(7),
      features.toFixed(1).padStart(11),
      ((s.timingsMs.pca ?? 0) / 1000).toFixed(1).padStart(6),
      rates.e2e.toFixed(1).padStart(10),
      rates.features.toFixed(1).padStart(15),
      (loadavg()[0] ?? 0).toFixed(1).padStart(6),
    ].join(" "),
  );
  return rates;
}

async function main(): Promise<void> {
  const stops: Array<() => Promise<unknown>> = [];
  try {
    const dir = join(work, "images");
    const base = baseImages(count);
    copiesDataset(base, 1, dir);
    const n = base.length;

    const c = await startComposeCluster({ prefix: "orchard-bench" });
    stops.push(() => c.down());
    console.log(
      `compose cluster ${c.project}: image ${c.image} (${(c.timings.image / 1000).toFixed(0)} s), up --wait ${(c.timings.up / 1000).toFixed(0)} s`,
    );
    const upload = await sh(
      process.execPath,
      [
        ...[join(import.meta.dirname, "..", "..", "bin", "orchard.mjs"), "s3", "upload", dir],
        ...["--to", `s3://${c.bucket}/in`, "--endpoint", c.s3Endpoint],
      ],
      c.hostEnv(),
    );
    if (upload.code !== 0) throw new Error(`orchard s3 upload failed: ${upload.stderr}`);

    const local = await startLocalSpark({ port: await freePort(), master: "local[2]", logDir: join(work, "logs") });
    stops.push(local.stop);
    const sidecar = await startSidecar({ port: await freePort(), logFile: join(work, "sidecar.log") });
    stops.push(() => sidecar.stop());

    const onCluster = SparkSession.builder.remote(c.remote()).getOrCreate();
    stops.push(() => onCluster.stop());
    const onLocal = localSession(local);
    stops.push(() => onLocal.stop());
    const common = { reduction: { k }, keepFeatures: false, extensions: ["jpg"], mode: "overwrite" as const };
    const sides: Side[] = [
      {
        name: "compose 2 x 1 core",
        rates: [],
        run: (i) =>
          runPipeline(
            onCluster,
            {
              ...common,
              input: `s3a://${c.bucket}/in`,
              output: `s3a://${c.bucket}/out-${i}`,
              // Each executor feeds its own node's sidecar, with the image's bridge.
              sidecar: "127.0.0.1:8815",
              bridge: "orchard-bridge",
            },
            // The driver's own listing and run.json go to MinIO's published port.
            { s3: s3CompatibleAccess(c.s3Endpoint, { accessKeyId: c.accessKey, secretAccessKey: c.secretKey }) },
          ),
      },
      {
        name: "local[2]",
        rates: [],
        run: (i) =>
          runPipeline(onLocal, {
            ...common,
            input: pathToFileURL(dir).href,
            output: pathToFileURL(join(work, `out-${i}`)).href,
            sidecar: sidecar.address,
          }),
      },
    ];

    console.log(`\n${n} images, k=${k}, ${availableParallelism()} cores on this machine`);
    console.log("side               run    images  wall s  features s  pca s  e2e img/s  features img/s  load");
    for (let i = 0; i <= repeat; i++) {
      for (const side of sides) {
        const rates = row(side.name, i === 0 ? "fresh" : `warm${i}`, await side.run(i));
        if (i > 0) side.rates.push(rates);
      }
    }
    const [onC, onL] = sides.map((s) => ({
      e2e: median(s.rates.map((r) => r.e2e)),
      features: median(s.rates.map((r) => r.features)),
    })) as [{ e2e: number; features: number }, { e2e: number; features: number }];
    console.log(
      `\nwarm medians: compose ${onC.e2e.toFixed(1)} img/s, local[2] ${onL.e2e.toFixed(1)} img/s end to end; ` +
        `compose/local ${(onC.e2e / onL.e2e).toFixed(2)} end to end, ${(onC.features / onL.features).toFixed(2)} in the features step`,
    );
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
