import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateSecret, writeSecretFile } from "../../../udf-server/src/auth/sidecar-secret.ts";
import { type FeatureResult, type Featurizer, loadFeaturizer } from "../../../udf-server/src/featurizer.ts";
import { type FlightServer, startFlightServer } from "../../../udf-server/src/server/flight-server.ts";
import { cliEnv } from "../helpers/cli-env.ts";
import { faultRunArgs, runOrchard } from "../helpers/orchard-cli.ts";
import { testLayout } from "../helpers/test-paths.ts";

// Issue 13, worker and model faults: the real model, served by a real Flight server in this
// process to the bridges of the test Spark, (1) throws once, (2) loses an ONNX worker thread in
// the middle of a batch (test/support/crashing-onnx-worker.mjs: the real worker plus an exit).
// The batch fails (never its rows), a dead worker is replaced, the bridges send the batch again,
// and the run ends with rows in == rows out and no error row.

const work = mkdtempSync(join(tmpdir(), "orchard-model-faults-"));
let real: Featurizer | undefined;
let server: FlightServer | undefined;
let images = 0;

const crashMarker = join(work, "crash");
const secretFile = join(work, "sidecar.secret");

/** What the wrapper does to the next featurize() calls. */
const fault = { throwNext: 0, thrown: 0 };

beforeAll(async () => {
  const fruits = join(testLayout().cacheRoot, "data", "fruits", "Training");
  for (const label of readdirSync(fruits).sort().slice(0, 4)) {
    mkdirSync(join(work, "in", label), { recursive: true });
    for (const f of readdirSync(join(fruits, label)).sort()) {
      copyFileSync(join(fruits, label, f), join(work, "in", label, f));
      images++;
    }
  }
  // The worker threads read the marker's path when they start (see crashing-onnx-worker.mjs).
  process.env.ORCHARD_TEST_CRASH_MARKER = crashMarker;
  const model = await loadFeaturizer({
    model: "efficientnet-lite0",
    threads: 2,
    cacheDir: testLayout().cacheRoot,
    workerScript: join(import.meta.dirname, "..", "..", "support", "crashing-onnx-worker.mjs"),
  });
  real = model;
  const faulty: Featurizer = {
    info: model.info,
    get sessions() {
      return model.sessions;
    },
    async featurize(batch): Promise<FeatureResult[]> {
      if (fault.throwNext > 0) {
        fault.throwNext--;
        fault.thrown++;
        throw new Error("injected: the model threw");
      }
      return model.featurize(batch);
    },
    close: () => model.close(),
  };
  // The in-process sidecar's shared secret, in a 0600 file the CLI and the bridges are pointed at.
  const secret = generateSecret();
  writeSecretFile(secretFile, secret);
  server = await startFlightServer(faulty, {
    host: "127.0.0.1",
    port: 0,
    secret,
    batching: { maxBatch: 16, maxWaitMs: 5, maxConcurrentBatches: 2 },
    limits: { maxPendingPerStream: 256, maxQueued: 1024, maxBatchRows: 4096 },
    maxMessageBytes: 256 * 1024 * 1024,
  });
}, 300_000);

afterAll(async () => {
  delete process.env.ORCHARD_TEST_CRASH_MARKER;
  await server?.close(5000);
  await real?.close();
  rmSync(work, { recursive: true, force: true });
});

const runPipeline = (output: string) =>
  runOrchard(faultRunArgs(join(work, "in"), output), {
    env: { ...cliEnv(), ORCHARD_SIDECAR: server?.address, ORCHARD_SIDECAR_SECRET_FILE: secretFile },
  });

function counts(output: string): unknown {
  return JSON.parse(readFileSync(join(output, "run.json"), "utf8")).counts;
}

describe("model and worker faults", () => {
  it("the model throws once: the batch is sent again, no row records it", async () => {
    fault.throwNext = 1;
    const output = join(work, "out-throw");
    const { code, stderr } = await runPipeline(output);
    expect(code, stderr).toBe(0);
    expect(fault.thrown).toBe(1);
    expect(counts(output)).toEqual({ filesIn: images, rowsOut: images, failed: 0 });
  }, 600_000);

  it("an ONNX worker thread dies in a batch: it is replaced, the batch is sent again, no row records it", async () => {
    const before = real?.sessions?.restarts ?? 0;
    writeFileSync(`${crashMarker}.armed`, "");
    const output = join(work, "out-worker");
    const { code, stderr } = await runPipeline(output);
    expect(code, stderr).toBe(0);
    expect(existsSync(crashMarker)).toBe(true); // a worker did crash
    expect(real?.sessions).toEqual({ alive: 2, total: 2, restarts: before + 1 });
    expect(counts(output)).toEqual({ filesIn: images, rowsOut: images, failed: 0 });
  }, 600_000);

  it("a model that keeps throwing fails the run loudly and publishes no output", async () => {
    fault.throwNext = Number.POSITIVE_INFINITY;
    const output = join(work, "out-broken");
    try {
      const { code, stderr } = await runPipeline(output);
      expect(code, stderr).toBe(1);
      expect(stderr).toMatch(/featurizer failed: injected: the model threw/);
      expect(existsSync(join(output, "run.json"))).toBe(false);
    } finally {
      fault.throwNext = 0;
    }
  }, 600_000);
});
