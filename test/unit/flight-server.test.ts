import { mkdirSync, mkdtempSync, realpathSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { status } from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { FeatureExchange, FlightCallError, FlightClient } from "../../udf-server/src/flight/client.ts";
import { isSidecarHealthy, rowCounter } from "../../udf-server/src/manage/sidecar-status.ts";
import { type FlightServer, startFlightServer } from "../../udf-server/src/server/flight-server.ts";
import { expectedResult, failingFirst, type TestFeaturizer, testFeaturizer } from "./flight-test-featurizer.ts";
import { TEST_SECRET, testSecretFile } from "./test-secret.ts";

const enc = new TextEncoder();

async function start(
  featurizer: TestFeaturizer,
  overrides: Partial<{
    maxBatch: number;
    maxWaitMs: number;
    maxPendingPerStream: number;
    maxQueued: number;
    maxConcurrentBatches: number;
  }> = {},
) {
  return startFlightServer(featurizer, {
    host: "127.0.0.1",
    port: 0,
    batching: {
      maxBatch: overrides.maxBatch ?? 8,
      maxWaitMs: overrides.maxWaitMs ?? 5,
      maxConcurrentBatches: overrides.maxConcurrentBatches ?? 1,
    },
    limits: {
      maxPendingPerStream: overrides.maxPendingPerStream ?? 64,
      maxQueued: overrides.maxQueued ?? 256,
      maxBatchRows: 4096,
    },
    maxMessageBytes: 64 * 1024 * 1024,
    secret: TEST_SECRET,
  });
}

describe("sidecar Flight server (featurizer test double)", () => {
  let server: FlightServer | undefined;
  let client: FlightClient | undefined;
  afterEach(async () => {
    client?.close();
    await server?.close(1000);
    server = undefined;
    client = undefined;
  });

  it("answers health, info and ListActions", async () => {
    const f = testFeaturizer();
    server = await start(f);
    client = new FlightClient(server.address, { secret: TEST_SECRET });
    const health = await client.actionJson<{ status: string; pid: number }>("health");
    expect(health.status).toBe("ok");
    expect(health.pid).toBe(process.pid);
    const info = await client.actionJson<{ model: string; featureDim: number; batching: { maxBatch: number } }>("info");
    expect(info.model).toBe("test-double");
    expect(info.featureDim).toBe(4);
    expect(info.batching.maxBatch).toBe(8);
    const actions = await client.listActions();
    expect(actions.map((a) => a.type).sort()).toEqual(["health", "info"]);
    await expect(client.doAction("nope")).rejects.toThrow(/unknown action "nope"/);
  });

  it("reports the model's sessions in health, and `failing` once none is alive", async () => {
    const sessions = { alive: 2, total: 2, restarts: 0 };
    server = await start(Object.assign(testFeaturizer(), { sessions }));
    client = new FlightClient(server.address, { secret: TEST_SECRET });
    expect(await client.actionJson("health")).toMatchObject({ status: "ok", sessions });
    expect(await isSidecarHealthy(server.address)).toBe(true);
    Object.assign(sessions, { alive: 0, restarts: 5 });
    expect(await client.actionJson("health")).toMatchObject({
      status: "failing",
      sessions: { alive: 0, total: 2, restarts: 5 },
    });
    expect(await isSidecarHealthy(server.address)).toBe(false);
  });

  it("returns one row per input row, in order, with per-row errors", async () => {
    const f = testFeaturizer(2);
    server = await start(f);
    client = new FlightClient(server.address, { secret: TEST_SECRET });
    const ex = client.featureExchange();
    const inputs: { ids: (string | null)[]; contents: (Uint8Array | null)[] }[] = [
      { ids: ["a", "b", null], contents: [enc.encode("hello"), null, enc.encode("xyz")] },
      { ids: [], contents: [] },
      { ids: ["c", "d"], contents: [enc.encode("BAD image"), new Uint8Array(0)] },
      {
        ids: Array.from({ length: 20 }, (_, i) => `r${i}`),
        contents: Array.from({ length: 20 }, (_, i) => enc.encode(`img-${i}`.repeat(i + 1))),
      },
    ];
    const collected = (async () => {
      const out = [];
      for await (const b of ex.batches()) out.push(b);
      return out;
    })();
    for (const b of inputs) await ex.send(b.ids, b.contents);
    ex.end();
    const batches = await collected;
    expect(batches.map((b) => b.length)).toEqual(inputs.map((b) => b.ids.length));
    for (let bi = 0; bi < inputs.length; bi++) {
      const input = inputs[bi];
      if (!input) continue;
      input.ids.forEach((id, i) => {
        const row = batches[bi]?.[i];
        if (!row) throw new Error(`missing row ${bi}/${i}`);
        const want = expectedResult(input.contents[i] ?? null);
        expect(row.id).toBe(id);
        expect(row.error).toBe(want.error);
        expect(row.width).toBe(want.width);
        expect(row.height).toBe(want.height);
        expect(row.features ? Array.from(row.features) : null).toEqual(
          want.features ? Array.from(want.features) : null,
        );
      });
    }
  });

  it("path transport: reads each file inside the declared roots; what it cannot read is that row's error", async () => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), "orchard-path-exchange-")));
    mkdirSync(join(dir, "in"));
    writeFileSync(join(dir, "in", "a.jpg"), "hello");
    writeFileSync(join(dir, "in", "bad.jpg"), "BAD image");
    writeFileSync(join(dir, "secret.jpg"), "secret");
    server = await start(testFeaturizer());
    client = new FlightClient(server.address, { secret: TEST_SECRET });
    const ex = client.featureExchange({ readRoots: [`file:${join(dir, "in")}`] });
    const collected = (async () => {
      const out = [];
      for await (const b of ex.batches()) out.push(...b);
      return out;
    })();
    const paths = [
      `file:${join(dir, "in", "a.jpg")}`,
      `file:${join(dir, "in", "bad.jpg")}`,
      `file:${join(dir, "in", "missing.jpg")}`,
      `file:${join(dir, "secret.jpg")}`,
      null,
    ];
    await ex.sendPaths(
      paths.map((_, i) => `r${i}`),
      paths,
    );
    ex.end();
    const rows = await collected;
    expect(rows.map((r) => r.id)).toEqual(["r0", "r1", "r2", "r3", "r4"]);
    expect(Array.from(rows[0]?.features ?? [])).toEqual(Array.from(expectedResult(enc.encode("hello")).features ?? []));
    expect(rows.map((r) => r.error)).toEqual([
      null,
      "cannot decode image",
      "read: no such file",
      "read: outside the exchange's read roots",
      "read: no path (null)",
    ]);
    expect(await client.actionJson("info")).toMatchObject({ rowsServed: 1, rowsFailed: 4 });
  });

  it("path transport: an exchange of paths that declares no read roots ends INVALID_ARGUMENT", async () => {
    server = await start(testFeaturizer());
    client = new FlightClient(server.address, { secret: TEST_SECRET });
    const ex = new FeatureExchange(client.rawExchange(), server.address, []);
    const read = (async () => {
      for await (const _ of ex.batches());
    })();
    await ex.sendPaths(["r0"], ["file:/etc/passwd"]).catch(() => undefined);
    ex.end();
    const err = await read.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(FlightCallError);
    expect((err as FlightCallError).code).toBe(status.INVALID_ARGUMENT);
    expect((err as Error).message).toMatch(/must declare its read roots/);
    expect(await isSidecarHealthy(server.address)).toBe(true);
  });

  it("counts rows answered with features and with an error, cumulatively over exchanges (info, rowCounter)", async () => {
    const f = testFeaturizer(2);
    server = await start(f, { maxBatch: 4 });
    client = new FlightClient(server.address, { secret: TEST_SECRET });
    const counter = rowCounter(server.address, testSecretFile());
    try {
      expect(await counter.read(2000)).toEqual({ rowsServed: 0, rowsFailed: 0 });
      const exchange = async (contents: (Uint8Array | null)[]) => {
        if (!client) throw new Error("no client");
        const ex = client.featureExchange();
        const read = (async () => {
          for await (const _ of ex.batches());
        })();
        await ex.send(
          contents.map((_, i) => `r${i}`),
          contents,
        );
        ex.end();
        await read;
      };
      const cases: { contents: (Uint8Array | null)[]; served: number; failed: number }[] = [
        { contents: [enc.encode("a"), enc.encode("bb"), enc.encode("BAD"), null], served: 2, failed: 2 },
        { contents: [], served: 2, failed: 2 },
        { contents: Array.from({ length: 9 }, (_, i) => enc.encode(`img-${i}`)), served: 11, failed: 2 },
        { contents: [new Uint8Array(0)], served: 11, failed: 3 },
      ];
      for (const c of cases) {
        await exchange(c.contents);
        expect(await counter.read(2000)).toEqual({ rowsServed: c.served, rowsFailed: c.failed });
        const info = await client.actionJson<{ rowsServed: number; rowsFailed: number }>("info");
        expect([info.rowsServed, info.rowsFailed]).toEqual([c.served, c.failed]);
      }
    } finally {
      counter.close();
    }
  });

  it("rowCounter rejects when no sidecar answers", async () => {
    const counter = rowCounter("127.0.0.1:1", testSecretFile());
    try {
      await expect(counter.read(500)).rejects.toThrow(/on 127\.0\.0\.1:1: No connection/);
    } finally {
      counter.close();
    }
  });

  it("batches across concurrent streams and bounds the batch size", async () => {
    const f = testFeaturizer(20);
    server = await start(f, { maxBatch: 8, maxWaitMs: 10 });
    client = new FlightClient(server.address, { secret: TEST_SECRET });
    const runOne = async (s: number) => {
      if (!client) throw new Error("no client");
      const ex = client.featureExchange();
      const results = (async () => {
        const rows = [];
        for await (const b of ex.batches()) rows.push(...b);
        return rows;
      })();
      for (let k = 0; k < 6; k++)
        await ex.send([`${s}-${k}-0`, `${s}-${k}-1`], [enc.encode(`s${s}k${k}a`), enc.encode(`s${s}k${k}b`)]);
      ex.end();
      return results;
    };
    const all = await Promise.all([0, 1, 2, 3].map(runOne));
    for (let s = 0; s < 4; s++) {
      expect(all[s]?.map((r) => r.id)).toEqual(Array.from({ length: 12 }, (_, i) => `${s}-${i >> 1}-${i & 1}`));
    }
    expect(f.batchSizes.reduce((a, b) => a + b, 0)).toBe(48);
    expect(Math.max(...f.batchSizes)).toBeLessThanOrEqual(8);
    // Four streams of 2-row batches: some model batch must hold rows of more than one stream.
    expect(Math.max(...f.batchSizes)).toBeGreaterThan(2);
    expect(f.maxConcurrent).toBe(1);
  });

  it("rejects a stream whose schema is not (id utf8, content binary) and keeps serving", async () => {
    const f = testFeaturizer();
    server = await start(f);
    client = new FlightClient(server.address, { secret: TEST_SECRET });
    const { FlightBatchEncoder } = await import("../../udf-server/src/flight/ipc.ts");
    const { Schema, Field, Int32 } = await import("apache-arrow");
    const raw = client.rawExchange();
    const done = new Promise<unknown>((resolve) => {
      raw.on("error", resolve);
      raw.on("data", () => {});
      raw.on("end", () => resolve(null));
    });
    raw.write(new FlightBatchEncoder().schema(new Schema([new Field("x", new Int32())])));
    const err = (await done) as { details?: string } | null;
    expect(err?.details).toMatch(/input schema must be \(id utf8, content binary\)/);
    const health = await client.actionJson<{ status: string }>("health");
    expect(health.status).toBe("ok");
  });
  it("stops reading a stream while too many of its rows are pending (bounded queue)", async () => {
    const f = testFeaturizer(15);
    server = await start(f, { maxBatch: 4, maxWaitMs: 1, maxPendingPerStream: 8, maxQueued: 1000 });
    client = new FlightClient(server.address, { secret: TEST_SECRET });
    const s = server;
    let maxQueued = 0;
    const sampler = setInterval(() => {
      maxQueued = Math.max(maxQueued, s.batcher.queued + s.batcher.stats.running * 4);
    }, 1);
    const ex = client.featureExchange();
    const rows = (async () => {
      let n = 0;
      for await (const b of ex.batches()) n += b.length;
      return n;
    })();
    // The client writes 50 batches as fast as gRPC lets it; the model takes 15 ms per 4 images.
    for (let k = 0; k < 50; k++) {
      await ex.send(
        [0, 1, 2, 3].map((i) => `${k}-${i}`),
        [0, 1, 2, 3].map((i) => enc.encode(`image ${k} ${i}`)),
      );
    }
    ex.end();
    expect(await rows).toBe(200);
    clearInterval(sampler);
    // At most the limit plus the one batch that crossed it were ever pending in the model.
    expect(maxQueued).toBeGreaterThan(0);
    expect(maxQueued).toBeLessThanOrEqual(8 + 4);
  });
  it("pauses every stream while the shared queue is full", async () => {
    const f = testFeaturizer(15);
    server = await start(f, { maxBatch: 4, maxWaitMs: 1, maxPendingPerStream: 100_000, maxQueued: 8 });
    client = new FlightClient(server.address, { secret: TEST_SECRET });
    const s = server;
    const c = client;
    let maxQueued = 0;
    const sampler = setInterval(() => {
      maxQueued = Math.max(maxQueued, s.batcher.queued);
    }, 1);
    const counts = await Promise.all(
      [0, 1, 2].map(async (stream) => {
        const ex = c.featureExchange();
        const rows = (async () => {
          let n = 0;
          for await (const b of ex.batches()) n += b.length;
          return n;
        })();
        for (let k = 0; k < 20; k++) {
          await ex.send(
            [0, 1, 2, 3].map((i) => `${stream}-${k}-${i}`),
            [0, 1, 2, 3].map((i) => enc.encode(`image ${stream} ${k} ${i}`)),
          );
        }
        ex.end();
        return rows;
      }),
    );
    clearInterval(sampler);
    expect(counts).toEqual([80, 80, 80]);
    // Each stream may add the batch that crossed the limit before it paused.
    expect(maxQueued).toBeLessThanOrEqual(8 + 3 * 4);
  });

  it("fails the exchange (UNAVAILABLE) when the featurizer throws: no row records it as an image error", async () => {
    const f = failingFirst(testFeaturizer());
    server = await start(f);
    client = new FlightClient(server.address, { secret: TEST_SECRET });
    const ex = client.featureExchange();
    const rows: unknown[] = [];
    const read = (async () => {
      for await (const b of ex.batches()) rows.push(...b);
    })();
    await ex.send(["a", "b"], [enc.encode("one"), enc.encode("two")]);
    ex.end();
    const err = await read.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(FlightCallError);
    expect((err as FlightCallError).code).toBe(status.UNAVAILABLE);
    expect((err as FlightCallError).message).toMatch(/featurizer failed: inference failed: ONNX worker exited/);
    expect(rows).toEqual([]);
    const info = await client.actionJson<{ rowsServed: number; rowsFailed: number }>("info");
    expect(info).toMatchObject({ rowsServed: 0, rowsFailed: 0 });

    // The next exchange is served: the fault was the batch's, not the server's.
    const again = client.featureExchange();
    const answered = (async () => {
      const out = [];
      for await (const b of again.batches()) out.push(...b);
      return out;
    })();
    await again.send(["c"], [enc.encode("three")]);
    again.end();
    expect((await answered).map((r) => [r.id, r.error])).toEqual([["c", null]]);
  });
});
