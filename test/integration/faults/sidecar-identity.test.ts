/**
 * Who the bridges talk to, with the real Spark, the real sidecar and the real CLI:
 * - an impostor Flight server on the sidecar's port (as any local user could bind it after the
 *   sidecar's idle exit; the secret file the old sidecar left is still there) is refused by every
 *   bridge: the run fails with the bridge's reason, the impostor never gets the secret nor an
 *   image, and no output is published;
 * - a run whose expected model checksum is not the one the sidecar serves fails loudly (the
 *   library path, where a caller states the model), with no error rows written;
 * - a normal run records the model's name and checksum in run.json, as the sidecar reports them.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, inject, it } from "vitest";
import { freePort } from "../../../src/cli/local/ports.ts";
import { SparkSession } from "../../../src/connect/spark-session.ts";
import { runPipeline } from "../../../src/pipeline/run-pipeline.ts";
import type { RunSummary } from "../../../src/pipeline/run-summary.ts";
import { generateSecret, writeSecretFile } from "../../../udf-server/src/auth/sidecar-secret.ts";
import { sidecarStatus } from "../../../udf-server/src/manage/sidecar-status.ts";
import { type FakeFlightServer, startFakeFlightServer } from "../../support/fake-flight-server.ts";
import { cliEnv } from "../helpers/cli-env.ts";
import { runOrchard } from "../helpers/orchard-cli.ts";
import { testLayout } from "../helpers/test-paths.ts";

const work = mkdtempSync(join(tmpdir(), "orchard-sidecar-identity-"));
const sidecar = inject("sidecar");
const sidecarSecretFile = inject("sidecarSecretFile");
let fake: FakeFlightServer | undefined;

afterAll(async () => {
  await fake?.close();
  rmSync(work, { recursive: true, force: true });
});

/** Two classes of four photos each. */
function smallInput(): string {
  const dir = join(work, "in");
  if (existsSync(dir)) return dir;
  const fruits = join(testLayout().cacheRoot, "data", "fruits", "Training");
  for (const label of readdirSync(fruits).sort().slice(0, 2)) {
    mkdirSync(join(dir, label), { recursive: true });
    for (const f of readdirSync(join(fruits, label)).sort().slice(0, 4)) {
      copyFileSync(join(fruits, label, f), join(dir, label, f));
    }
  }
  return dir;
}

const orchard = (args: string[], env: NodeJS.ProcessEnv) => runOrchard(args, { env });

describe("the bridges check who they talk to", () => {
  it("refuses an impostor on the sidecar's port: the run fails, the impostor gets no secret and no image", async () => {
    const port = await freePort();
    // The secret a sidecar on this port left behind (SIGKILLed, or exited): readable by this user only.
    const secretFile = join(work, "run", `sidecar-${port}.secret`);
    writeSecretFile(secretFile, generateSecret());
    const real = (await sidecarStatus(sidecar, 5000, sidecarSecretFile)).info;
    // The impostor even claims the right model and checksum.
    fake = await startFakeFlightServer(port, { name: "efficientnet-lite0", sha256: real?.sha256 ?? "" });
    const output = join(work, "out-impostor");
    const ran = await orchard(
      ["run", "--input", smallInput(), "--output", output, "--k", "2", "--partitions", "2", "--no-start", "--quiet"],
      { ...cliEnv(), ORCHARD_SIDECAR: fake.address, ORCHARD_SIDECAR_SECRET_FILE: secretFile },
    );
    expect(ran.code).not.toBe(0);
    expect(ran.stderr).toMatch(/did not prove that it knows the sidecar's secret/);
    expect(fake.rowsReceived).toBe(0);
    expect(fake.calls.filter((c) => c.method === "DoExchange")).toEqual([]);
    expect(fake.calls.every((c) => c.authorization === undefined)).toBe(true);
    expect(existsSync(join(output, "run.json"))).toBe(false);
    expect(existsSync(join(output, "data", "_SUCCESS"))).toBe(false);
  });

  it("fails loudly when the sidecar serves another model checksum than the run expects (no error rows)", async () => {
    const spark = SparkSession.builder.remote(inject("sparkRemote")).getOrCreate();
    const output = join(work, "out-mismatch");
    try {
      const run = runPipeline(
        spark,
        {
          input: pathToFileURL(smallInput()).href,
          output: pathToFileURL(output).href,
          reduction: { k: 2 },
          keepFeatures: false,
          extensions: ["jpg"],
          mode: "errorifexists",
          partitions: 2,
          sidecar,
          sidecarSecretFile,
          expectedModel: { name: "efficientnet-lite0", sha256: "0".repeat(64) },
        },
        { report: false },
      );
      await expect(run).rejects.toThrow(
        /serves model efficientnet-lite0 \(sha256 [0-9a-f]{64}\), but this run asked for/,
      );
    } finally {
      await spark.stop();
    }
    expect(existsSync(join(output, "run.json"))).toBe(false);
    expect(existsSync(join(output, "data"))).toBe(false);
  });

  it("records the model's name and checksum in run.json: those the sidecar serves", async () => {
    const info = (await sidecarStatus(sidecar, 5000, sidecarSecretFile)).info;
    expect(info?.sha256).toMatch(/^[0-9a-f]{64}$/);
    const output = join(work, "out-ok");
    const ran = await orchard(
      ["run", "--input", smallInput(), "--output", output, "--k", "2", "--partitions", "2", "--no-start", "--quiet"],
      cliEnv(),
    );
    expect(ran.stderr).toBe("");
    expect(ran.code).toBe(0);
    const summary = JSON.parse(readFileSync(join(output, "run.json"), "utf8")) as RunSummary;
    expect(summary.model).toEqual({ name: "efficientnet-lite0", sha256: info?.sha256 });
    expect(summary.counts).toMatchObject({ filesIn: 8, rowsOut: 8, failed: 0 });
    expect(JSON.stringify(summary)).not.toContain(readFileSync(sidecarSecretFile, "utf8").trim());
  });
});
