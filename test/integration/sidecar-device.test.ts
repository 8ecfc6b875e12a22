/**
 * `--device`: a real sidecar started with `--device auto` on a machine without onnxruntime-node's
 * CUDA execution provider (this repository's install skips it) serves on the CPU and says so, in
 * its log and in `DoAction("info")`; `--device cuda` there refuses to start with one line naming
 * `--device`, from the sidecar and from `orchard sidecar start`.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../../src/cli/local/ports.ts";
import { FlightClient } from "../../udf-server/src/flight/client.ts";
import type { SidecarHandle } from "../../udf-server/src/manage/start-sidecar.ts";
import type { InfoReport } from "../../udf-server/src/server/flight-server.ts";
import { runOrchard } from "./helpers/orchard-cli.ts";
import { fruitImages, startTestSidecar } from "./sidecar-support.ts";

describe("sidecar --device", () => {
  let sidecar: SidecarHandle | undefined;
  afterAll(async () => {
    await sidecar?.stop();
  });

  it("--device auto serves on the CPU here, and info and the log say cpu", async () => {
    sidecar = await startTestSidecar("device-auto", ["--device", "auto"]);
    const client = new FlightClient(sidecar.address, { secretFile: sidecar.secretFile });
    try {
      const info = await client.actionJson<InfoReport>("info", 10_000);
      expect(info.device).toBe("cpu");
      const ex = client.featureExchange();
      const rows = (async () => {
        const out = [];
        for await (const b of ex.batches()) out.push(...b);
        return out;
      })();
      const [image] = fruitImages(1);
      await ex.send(["one"], [readFileSync(image as string)]);
      ex.end();
      const [row] = await rows;
      expect(row?.error).toBeNull();
      expect(row?.features).toHaveLength(info.featureDim);
    } finally {
      client.close();
    }
    expect(readFileSync(sidecar.logFile, "utf8")).toMatch(/device cpu \(--device auto: .*CUDA execution provider/);
  });

  it("--device cuda fails to start with one line naming --device, no stack trace", async () => {
    const failed = await startTestSidecar("device-cuda", ["--device", "cuda"]).then(
      (s) => {
        sidecar = s;
        return null;
      },
      (err: unknown) => err as Error,
    );
    expect(failed).toBeInstanceOf(Error);
    const line = failed?.message.split("\n").find((l) => l.includes("cannot start")) ?? "";
    expect(line).toMatch(/--device cuda: .*CUDA execution provider is not installed.*--device cpu or --device auto/);
    expect(failed?.message).not.toMatch(/^\s+at /m);
  });

  it("orchard sidecar start --device cuda exits non-zero with the same message", async () => {
    const runDir = mkdtempSync(join(tmpdir(), "orchard-device-"));
    const port = await freePort();
    const r = await runOrchard(["sidecar", "start", "--port", String(port), "--device", "cuda"], {
      env: { ...process.env, ORCHARD_RUN_DIR: runDir },
      timeout: 120_000,
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--device cuda: .*CUDA execution provider is not installed/);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });
});
