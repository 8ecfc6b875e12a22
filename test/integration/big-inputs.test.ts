import { execFile } from "node:child_process";
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import sharp from "sharp";
import { afterAll, describe, expect, inject, it } from "vitest";
import { col } from "../../src/connect/functions.ts";
import { SparkSession } from "../../src/connect/spark-session.ts";
import { FlightClient } from "../../udf-server/src/flight/client.ts";
import { cliEnv } from "./helpers/cli-env.ts";
import { REPO_ROOT, testLayout } from "./helpers/test-paths.ts";

// Inputs that used to break a run (issue 13 part 7): an aspect-ratio bomb took the sidecar down,
// a 400 MB file ended the bridge with a RangeError. Now the elongated images are decoded through a
// window and get features, and a file over the image limit gets its error row without being read.

const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), "orchard-big-inputs-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function sidecarPid(): Promise<number> {
  const client = new FlightClient(inject("sidecar"), { secretFile: inject("sidecarSecretFile") });
  try {
    return (await client.actionJson<{ pid: number }>("health")).pid;
  } finally {
    client.close();
  }
}

describe("big and elongated inputs", () => {
  it("keep their rows: bombs get features, a 450 MB file an error row unread, and the sidecar lives", async () => {
    const input = join(work, "images", "apple");
    mkdirSync(input, { recursive: true });
    const apples = join(testLayout().cacheRoot, "data", "fruits", "Training", "apple_red");
    for (const f of readdirSync(apples).sort().slice(0, 3)) copyFileSync(join(apples, f), join(input, f));
    const strip = (width: number, height: number) =>
      sharp({ create: { width, height, channels: 3, background: { r: 200, g: 30, b: 30 } } })
        .png()
        .toBuffer();
    writeFileSync(join(input, "bomb-1x40000.png"), await strip(1, 40000));
    writeFileSync(join(input, "bomb-40000x1.png"), await strip(40000, 1));
    writeFileSync(join(input, "huge.jpg"), "");
    truncateSync(join(input, "huge.jpg"), 450 * 1024 * 1024); // sparse: 450 MB long, no disk used
    const pidBefore = await sidecarPid();

    const output = join(work, "out");
    await run(
      process.execPath,
      [join(REPO_ROOT, "bin", "orchard.mjs"), "run", "--input", join(work, "images"), "--output", output, "--k", "2"],
      { cwd: REPO_ROOT, env: { ...cliEnv(), ORCHARD_SIDECAR: inject("sidecar") }, timeout: 600_000 },
    ).catch((err) => {
      throw new Error(`orchard run failed: ${err.stderr}`);
    });
    const summary = JSON.parse(readFileSync(join(output, "run.json"), "utf8"));
    expect(summary.counts).toEqual({ filesIn: 6, rowsOut: 6, failed: 1 });
    expect(await sidecarPid()).toBe(pidBefore);

    const spark = SparkSession.builder.remote(inject("sparkRemote")).getOrCreate();
    try {
      const rows = await spark.read
        .parquet(pathToFileURL(join(output, "data")).href)
        .select(col("path"), col("error"), col("pca").isNotNull().alias("projected"))
        .orderBy("path")
        .collect();
      const byName = Object.fromEntries(
        rows.map((r) => [
          String(r.get("path")).split("/").pop(),
          { error: r.get("error"), projected: r.get("projected") },
        ]),
      );
      expect(byName["huge.jpg"]).toEqual({
        error: `image too large: ${450 * 1024 * 1024} bytes > limit ${50 * 1024 * 1024}`,
        projected: false,
      });
      expect(byName["bomb-1x40000.png"]).toEqual({ error: null, projected: true });
      expect(byName["bomb-40000x1.png"]).toEqual({ error: null, projected: true });
    } finally {
      await spark.stop();
    }
  });
});
