import { mkdtempSync, realpathSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { bridgeConfig } from "../../udf-server/src/bridge/bridge-config.ts";
import { ensureSidecar, SidecarUnavailableError } from "../../udf-server/src/bridge/ensure-sidecar.ts";
import { runBridge } from "../../udf-server/src/bridge/run-bridge.ts";
import { type FlightServer, startFlightServer } from "../../udf-server/src/server/flight-server.ts";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.ts";
import { expectedResult, failingFirst, testFeaturizer } from "./flight-test-featurizer.ts";
import { TEST_SECRET, testSecretFile } from "./test-secret.ts";

async function collect(stream: PassThrough): Promise<string> {
  let out = "";
  for await (const c of stream) out += c.toString();
  return out;
}

describe("bridge against a Flight server with a featurizer double", () => {
  let server: FlightServer | undefined;
  afterEach(async () => {
    await server?.close(1000);
    server = undefined;
  });

  async function start() {
    const f = testFeaturizer(1);
    server = await startFlightServer(f, {
      host: "127.0.0.1",
      port: 0,
      batching: { maxBatch: 16, maxWaitMs: 2, maxConcurrentBatches: 2 },
      limits: { maxPendingPerStream: 32, maxQueued: 128, maxBatchRows: 4096 },
      maxMessageBytes: 64 * 1024 * 1024,
      secret: TEST_SECRET,
    });
    return { f, address: server.address };
  }

  it("path transport (--read-root): sends each row's file: id as a path, ignores the content field", async () => {
    const { address } = await start();
    const dir = realpathSync(mkdtempSync(join(tmpdir(), "orchard-bridge-paths-")));
    writeFileSync(join(dir, "a.jpg"), "image-a");
    writeFileSync(join(dir, "b.jpg"), "BAD image");
    const config = bridgeConfig(
      ["--sidecar", address, "--batch-size", "2", "--secret-file", testSecretFile(), "--read-root", `file:${dir}`],
      {},
    );
    const input = new PassThrough();
    const output = new PassThrough();
    const outText = collect(output);
    const run = runBridge(config, { input, output });
    // TRANSFORM(path, ''): the content field is empty; a null path (\N) still gets its row.
    input.end(
      [`file:${dir}/a.jpg\t`, `file:${dir}/b.jpg\t`, `file:${dir}/gone.jpg\t`, "file:/etc/hostname\t", "\\N\t"].join(
        "\n",
      ) + "\n",
    );
    expect(await run).toEqual({ rowsIn: 5, rowsOut: 5 });
    output.end();
    const rows = (await outText)
      .split("\n")
      .slice(0, -1)
      .map((l) => l.split("\t"));
    expect(rows.map((r) => r[0])).toEqual([
      `file:${dir}/a.jpg`,
      `file:${dir}/b.jpg`,
      `file:${dir}/gone.jpg`,
      "file:/etc/hostname",
      "\\N",
    ]);
    expect(rows.map((r) => r[2])).toEqual([
      "\\N",
      "cannot decode image",
      "read: no such file",
      "read: outside the exchange's read roots",
      "read: no path (null)",
    ]);
    expect((JSON.parse(rows[0]?.[1] as string) as number[]).map(Math.fround)).toEqual(
      Array.from(expectedResult(Buffer.from("image-a")).features ?? []),
    );
  });

  it("refuses a --read-root that is not a file: folder URI, naming the flag", () => {
    for (const root of ["s3a://b/in", "/data/in", "file:relative", "file:/a/../b"]) {
      expect(() => bridgeConfig(["--read-root", root], {})).toThrow(/invalid --read-root .*expected a file: URI/);
    }
    expect(bridgeConfig(["--read-root", "file:/a", "--read-root", "file:/b"], {}).readRoots).toEqual([
      "file:/a",
      "file:/b",
    ]);
  });

  it("writes one line per input row, in input order, with per-row errors", async () => {
    const { f, address } = await start();
    const config = bridgeConfig(
      ["--sidecar", address, "--batch-size", "7", "--max-in-flight", "10", "--secret-file", testSecretFile()],
      {},
    );
    const input = new PassThrough();
    const output = new PassThrough();
    const outText = collect(output);
    const run = runBridge(config, { input, output });
    const images: (string | null)[] = [];
    for (let i = 0; i < 200; i++) {
      const image = i % 17 === 0 ? null : i % 13 === 0 ? `BAD-${i}` : `image-${i}-${"x".repeat(i % 50)}`;
      images.push(image);
      input.write(`path/${i}.jpg\t${image === null ? "\\N" : Buffer.from(image).toString("base64")}\n`);
      if (i % 50 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    input.end();
    const result = await run;
    output.end();
    const lines = (await outText).split("\n").slice(0, -1);
    expect(result).toEqual({ rowsIn: 200, rowsOut: 200 });
    expect(lines).toHaveLength(200);
    lines.forEach((line, i) => {
      const [id, features, error, width, height] = line.split("\t");
      const image = images[i] ?? null;
      const want = expectedResult(image === null ? null : Buffer.from(image));
      expect(id).toBe(`path/${i}.jpg`);
      expect(error).toBe(want.error ?? "\\N");
      expect(width).toBe(want.width === null ? "\\N" : String(want.width));
      expect(height).toBe(want.height === null ? "\\N" : String(want.height));
      if (want.features)
        expect((JSON.parse(features as string) as number[]).map(Math.fround)).toEqual(Array.from(want.features));
      else expect(features).toBe("\\N");
    });
    expect(f.batchSizes.reduce((a, b) => a + b, 0)).toBe(200);
  });

  it("replaces a broken exchange: a sidecar restarted on the same port gets the unanswered batches again", async () => {
    const first = await start();
    const port = Number(first.address.split(":")[1]);
    const config = bridgeConfig(
      ["--sidecar", first.address, "--batch-size", "5", "--max-in-flight", "10", "--secret-file", testSecretFile()],
      {},
    );
    const input = new PassThrough();
    const output = new PassThrough();
    const outText = collect(output);
    const reconnects: number[] = [];
    let restarted: FlightServer | undefined;
    const run = runBridge(
      config,
      { input, output },
      {
        reconnect: async () => {
          restarted = await startFlightServer(testFeaturizer(1), {
            host: "127.0.0.1",
            port,
            batching: { maxBatch: 16, maxWaitMs: 2, maxConcurrentBatches: 2 },
            limits: { maxPendingPerStream: 32, maxQueued: 128, maxBatchRows: 4096 },
            maxMessageBytes: 64 * 1024 * 1024,
            secret: TEST_SECRET,
          });
        },
        onReconnect: (attempt) => reconnects.push(attempt),
      },
    );
    for (let i = 0; i < 60; i++) input.write(`p/${i}.jpg\t${Buffer.from(`image-${i}`).toString("base64")}\n`);
    await new Promise((r) => setTimeout(r, 50));
    await server?.close(0); // the sidecar dies with batches in flight
    server = undefined;
    for (let i = 60; i < 120; i++) input.write(`p/${i}.jpg\t${Buffer.from(`image-${i}`).toString("base64")}\n`);
    input.end();
    try {
      expect(await run).toEqual({ rowsIn: 120, rowsOut: 120 });
    } finally {
      await restarted?.close(1000);
    }
    output.end();
    const ids = (await outText)
      .split("\n")
      .slice(0, -1)
      .map((l) => l.split("\t")[0]);
    expect(ids).toEqual(Array.from({ length: 120 }, (_, i) => `p/${i}.jpg`));
    expect(reconnects).toEqual([1]);
  });

  it("sends a batch again when the featurizer failed on it: every row gets its features, none an error", async () => {
    const f = failingFirst(testFeaturizer(1));
    server = await startFlightServer(f, {
      host: "127.0.0.1",
      port: 0,
      secret: TEST_SECRET,
      batching: { maxBatch: 16, maxWaitMs: 2, maxConcurrentBatches: 2 },
      limits: { maxPendingPerStream: 32, maxQueued: 128, maxBatchRows: 4096 },
      maxMessageBytes: 64 * 1024 * 1024,
    });
    const config = bridgeConfig(
      ["--sidecar", server.address, "--batch-size", "5", "--max-in-flight", "10", "--secret-file", testSecretFile()],
      {},
    );
    const input = new PassThrough();
    const output = new PassThrough();
    const outText = collect(output);
    const causes: string[] = [];
    const run = runBridge(
      config,
      { input, output },
      { reconnect: async () => {}, onReconnect: (_attempt, cause) => causes.push(String(cause)) },
    );
    for (let i = 0; i < 40; i++) input.write(`p/${i}.jpg\t${Buffer.from(`image-${i}`).toString("base64")}\n`);
    input.end();
    expect(await run).toEqual({ rowsIn: 40, rowsOut: 40 });
    output.end();
    const lines = (await outText).split("\n").slice(0, -1);
    expect(lines.map((l) => l.split("\t")[0])).toEqual(Array.from({ length: 40 }, (_, i) => `p/${i}.jpg`));
    expect(lines.filter((l) => l.split("\t")[2] !== "\\N")).toEqual([]);
    expect(f.failed()).toBe(1);
    expect(causes).toHaveLength(1);
    expect(causes[0]).toMatch(/featurizer failed/);
  });

  it("notices a silent sidecar connection by keepalive, and sends again on a new one", async () => {
    const { address } = await start();
    const proxy: TcpProxy = await startTcpProxy(Number(address.split(":")[1]));
    try {
      const config = bridgeConfig(
        ["--sidecar", `127.0.0.1:${proxy.port}`, "--batch-size", "5", "--max-in-flight", "10"].concat([
          "--secret-file",
          testSecretFile(),
        ]),
        {},
      );
      const input = new PassThrough();
      const output = new PassThrough();
      const outText = collect(output);
      const causes: string[] = [];
      const run = runBridge(
        config,
        { input, output },
        {
          // The "network" heals once the bridge has given up on the stalled connection.
          reconnect: async () => proxy.resume(),
          onReconnect: (_attempt, cause) => causes.push(String(cause)),
        },
        { keepaliveMs: 300, keepaliveTimeoutMs: 300 },
      );
      for (let i = 0; i < 20; i++) input.write(`p/${i}.jpg\t${Buffer.from(`image-${i}`).toString("base64")}\n`);
      while (proxy.downstreamBytes === 0) await new Promise((r) => setTimeout(r, 10));
      proxy.stall();
      for (let i = 20; i < 40; i++) input.write(`p/${i}.jpg\t${Buffer.from(`image-${i}`).toString("base64")}\n`);
      input.end();
      expect(await run).toEqual({ rowsIn: 40, rowsOut: 40 });
      output.end();
      const lines = (await outText).split("\n").slice(0, -1);
      expect(lines.map((l) => l.split("\t")[0])).toEqual(Array.from({ length: 40 }, (_, i) => `p/${i}.jpg`));
      expect(lines.filter((l) => l.split("\t")[2] !== "\\N")).toEqual([]);
      expect(causes).toHaveLength(1);
      expect(causes[0]).toMatch(/UNAVAILABLE|Connection dropped|keepalive/i);
      expect(proxy.connections).toBeGreaterThanOrEqual(2);
    } finally {
      await proxy.close();
    }
  });

  it("abandons an exchange whose oldest batch has no answer within --answer-timeout-seconds", async () => {
    // The first batch the model gets hangs for 4 s (a stuck session); the bridge gives up on it after 1 s.
    const f = testFeaturizer(1);
    const featurize = f.featurize.bind(f);
    let calls = 0;
    f.featurize = async (images) => {
      if (calls++ === 0) await new Promise((r) => setTimeout(r, 4000));
      return featurize(images);
    };
    server = await startFlightServer(f, {
      host: "127.0.0.1",
      port: 0,
      secret: TEST_SECRET,
      batching: { maxBatch: 16, maxWaitMs: 2, maxConcurrentBatches: 2 },
      limits: { maxPendingPerStream: 32, maxQueued: 128, maxBatchRows: 4096 },
      maxMessageBytes: 64 * 1024 * 1024,
    });
    const config = bridgeConfig(
      [
        "--sidecar",
        server.address,
        "--batch-size",
        "5",
        "--answer-timeout-seconds",
        "1",
        "--secret-file",
        testSecretFile(),
      ],
      {},
    );
    const input = new PassThrough();
    const output = new PassThrough();
    const outText = collect(output);
    const causes: string[] = [];
    const started = performance.now();
    const run = runBridge(
      config,
      { input, output },
      { reconnect: async () => {}, onReconnect: (_attempt, cause) => causes.push(String(cause)) },
    );
    for (let i = 0; i < 10; i++) input.write(`p/${i}.jpg\t${Buffer.from(`image-${i}`).toString("base64")}\n`);
    input.end();
    expect(await run).toEqual({ rowsIn: 10, rowsOut: 10 });
    output.end();
    expect(performance.now() - started).toBeLessThan(4000); // not held up by the stuck batch
    const lines = (await outText).split("\n").slice(0, -1);
    expect(lines.map((l) => l.split("\t")[0])).toEqual(Array.from({ length: 10 }, (_, i) => `p/${i}.jpg`));
    expect(lines.filter((l) => l.split("\t")[2] !== "\\N")).toEqual([]);
    expect(causes).toEqual([expect.stringMatching(/no answer from the sidecar at .* within 1 s/)]);
  });

  it("handles empty input without output", async () => {
    const { address } = await start();
    const input = new PassThrough();
    const output = new PassThrough();
    const outText = collect(output);
    input.end();
    const result = await runBridge(bridgeConfig(["--sidecar", address, "--secret-file", testSecretFile()], {}), {
      input,
      output,
    });
    output.end();
    expect(result).toEqual({ rowsIn: 0, rowsOut: 0 });
    expect(await outText).toBe("");
  });

  it("fails with a clear reason when no sidecar answers and auto-start is off", async () => {
    const runDir = mkdtempSync(join(tmpdir(), "orchard-bridge-"));
    const config = { ...bridgeConfig(["--sidecar", "127.0.0.1:1", "--no-start"], {}), runDir };
    await expect(ensureSidecar(config, () => {})).rejects.toThrow(SidecarUnavailableError);
    await expect(ensureSidecar(config, () => {})).rejects.toThrow(
      /no sidecar answers at 127.0.0.1:1 \(auto-start is off\)/,
    );
  });

  it("rejects bad arguments with the flag and the expected form", () => {
    expect(() => bridgeConfig(["--sidecar", "nohostport"], {})).toThrow(/--sidecar.*host:port/);
    expect(() => bridgeConfig(["--batch-size", "0"], {})).toThrow(/--batch-size.*1-4096/);
    expect(() => bridgeConfig([], { ORCHARD_SIDECAR: "x:y" })).toThrow(/ORCHARD_SIDECAR/);
    expect(bridgeConfig([], { ORCHARD_SIDECAR: "127.0.0.1:9999" }).sidecar).toBe("127.0.0.1:9999");
    expect(bridgeConfig(["--sidecar", "127.0.0.1:7"], { ORCHARD_SIDECAR: "127.0.0.1:9999" }).sidecar).toBe(
      "127.0.0.1:7",
    );
    expect(bridgeConfig([], { ORCHARD_SIDECAR_AUTOSTART: "0" }).autoStart).toBe(false);
    expect(bridgeConfig([], {}).answerTimeoutSeconds).toBe(120);
    expect(() => bridgeConfig(["--answer-timeout-seconds", "0"], {})).toThrow(/--answer-timeout-seconds.*1-86400/);
  });
});
