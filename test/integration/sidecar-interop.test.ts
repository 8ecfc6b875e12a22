/**
 * The sidecar as a real Arrow Flight server: pyarrow.flight (the reference implementation)
 * runs DoExchange and the actions against it and gets the same features as the in-process
 * featurizer; concurrent TS clients share the model; SIGTERM drains in-flight work.
 */
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cacheRoot } from "../../scripts/lib/paths.ts";
import { type Featurizer, loadFeaturizer } from "../../udf-server/src/featurizer.ts";
import { FlightClient } from "../../udf-server/src/flight/client.ts";
import { sidecarStatus } from "../../udf-server/src/manage/sidecar-status.ts";
import type { SidecarHandle } from "../../udf-server/src/manage/start-sidecar.ts";
import { TEST_LOG_DIR } from "./helpers/test-paths.ts";
import { fruitImages, maxAbsDiff, startTestSidecar } from "./sidecar-support.ts";

const run = promisify(execFile);
const python = join(cacheRoot(), "spark", "venv", "bin", "python");

const PYARROW_CLIENT = `
import json, sys
import pyarrow as pa
import pyarrow.flight as flight

address, listing, secret_file = sys.argv[1], sys.argv[2], sys.argv[3]
paths = [p for p in open(listing).read().split("\\n") if p]
client = flight.connect("grpc://" + address)
# Every call but health carries the sidecar's shared secret, read from its 0600 file.
auth = flight.FlightCallOptions(headers=[(b"authorization", b"Bearer " + open(secret_file, "rb").read().strip())])
try:
    client.do_action(flight.Action("info", b"")).__next__()
    refused = None
except flight.FlightUnauthenticatedError as e:
    refused = "unauthenticated"
actions = sorted(a.type for a in client.list_actions(options=auth))
health = json.loads(next(iter(client.do_action(flight.Action("health", b"")))).body.to_pybytes())
info = json.loads(next(iter(client.do_action(flight.Action("info", b""), options=auth))).body.to_pybytes())
schema = pa.schema([("id", pa.string()), ("content", pa.binary())])
writer, reader = client.do_exchange(flight.FlightDescriptor.for_command(b"featurize"), options=auth)
writer.begin(schema)
half = len(paths) // 2
for chunk in (paths[:half], paths[half:]):
    ids = [p for p in chunk] + ["not-an-image"]
    contents = [open(p, "rb").read() for p in chunk] + [b"plain text, not an image"]
    writer.write_batch(pa.record_batch([pa.array(ids), pa.array(contents, pa.binary())], schema=schema))
writer.done_writing()
table = reader.read_all()
print(json.dumps({
    "actions": actions, "health": health, "info": info, "refused": refused,
    "schema": [f"{f.name}:{f.type}" for f in table.schema],
    "rows": table.to_pylist(),
}))
`;

interface PyRow {
  id: string;
  features: number[] | null;
  error: string | null;
  width: number | null;
  height: number | null;
}

describe("sidecar over Arrow Flight with the real model", () => {
  let sidecar: SidecarHandle;
  let featurizer: Featurizer;

  beforeAll(async () => {
    sidecar = await startTestSidecar("interop");
    featurizer = await loadFeaturizer({ model: "efficientnet-lite0", threads: 2 });
  });

  afterAll(async () => {
    await featurizer?.close();
    await sidecar?.stop();
  });

  it("pyarrow.flight gets the in-process features (max abs diff <= 1e-5) and the actions", async () => {
    const paths = fruitImages(24);
    const listing = join(TEST_LOG_DIR, `pyarrow-listing-${process.pid}.txt`);
    writeFileSync(listing, paths.join("\n"));
    const script = join(TEST_LOG_DIR, `pyarrow-client-${process.pid}.py`);
    writeFileSync(script, PYARROW_CLIENT);
    const { stdout } = await run(python, [script, sidecar.address, listing, sidecar.secretFile], {
      maxBuffer: 256 * 1024 * 1024,
    });
    const out = JSON.parse(stdout) as {
      actions: string[];
      health: { status: string; pid: number };
      info: { model: string; featureDim: number; inputSize: number[]; threads: number; batching: { maxBatch: number } };
      refused: string | null;
      schema: string[];
      rows: PyRow[];
    };
    expect(out.refused).toBe("unauthenticated");
    expect(out.actions).toEqual(["health", "info"]);
    expect(out.health).toMatchObject({ status: "ok", pid: sidecar.pid });
    expect(out.info).toMatchObject({
      model: "efficientnet-lite0",
      featureDim: 1280,
      inputSize: [224, 224],
      threads: 2,
    });
    expect(out.info.batching.maxBatch).toBeGreaterThan(0);
    expect(out.schema).toEqual([
      "id:string",
      "features:list<item: float>",
      "error:string",
      "width:int32",
      "height:int32",
    ]);

    const half = paths.length / 2;
    const expectedIds = [...paths.slice(0, half), "not-an-image", ...paths.slice(half), "not-an-image"];
    expect(out.rows.map((r) => r.id)).toEqual(expectedIds);
    const local = await featurizer.featurize(paths.map((p) => readFileSync(p)));
    let worst = 0;
    for (const [i, p] of paths.entries()) {
      const row = out.rows[expectedIds.indexOf(p)] as PyRow;
      const want = local[i];
      expect(row.error, p).toBeNull();
      expect([row.width, row.height], p).toEqual([want?.width, want?.height]);
      worst = Math.max(worst, maxAbsDiff(row.features ?? [], want?.features ?? []));
    }
    expect(worst).toBeLessThanOrEqual(1e-5);
    for (const r of out.rows.filter((r) => r.id === "not-an-image")) {
      expect(r.features).toBeNull();
      expect(r.error).toMatch(/unsupported image format/);
      expect(r.width).toBeNull();
    }
  });

  it("serves concurrent exchanges from one model, each stream in its own order", async () => {
    const paths = fruitImages(40);
    const bytes = paths.map((p) => readFileSync(p));
    const local = await featurizer.featurize(bytes);
    const before = await sidecarStatus(sidecar.address, 2000, sidecar.secretFile);
    const client = new FlightClient(sidecar.address, { secretFile: sidecar.secretFile });
    const streams = [0, 1, 2, 3].map(async (s) => {
      const mine = paths.map((_, i) => i).filter((i) => i % 4 === s);
      const ex = client.featureExchange();
      const got = (async () => {
        const rows = [];
        for await (const b of ex.batches()) rows.push(...b);
        return rows;
      })();
      for (let k = 0; k < mine.length; k += 3) {
        const idx = mine.slice(k, k + 3);
        await ex.send(
          idx.map((i) => `${s}:${i}`),
          idx.map((i) => bytes[i] ?? null),
        );
      }
      ex.end();
      return { mine, rows: await got };
    });
    const results = await Promise.all(streams);
    client.close();
    for (const { mine, rows } of results) {
      expect(rows.map((r) => Number(r.id?.split(":")[1]))).toEqual(mine);
      for (const [k, i] of mine.entries()) {
        expect(maxAbsDiff(rows[k]?.features ?? [], local[i]?.features ?? [])).toBeLessThanOrEqual(1e-5);
      }
    }
    const after = await sidecarStatus(sidecar.address, 2000, sidecar.secretFile);
    expect((after.health?.images ?? 0) - (before.health?.images ?? 0)).toBe(40);
    // 4 streams x 14 batches of <= 3 rows: cross-stream batching makes fewer model batches than that.
    expect((after.health?.batches ?? 0) - (before.health?.batches ?? 0)).toBeLessThan(14);
  });

  it("drains in-flight work on SIGTERM, then exits", async () => {
    const own = await startTestSidecar("drain");
    const paths = fruitImages(48);
    const client = new FlightClient(own.address, { secretFile: own.secretFile });
    const ex = client.featureExchange();
    for (let k = 0; k < paths.length; k += 16) {
      const chunk = paths.slice(k, k + 16);
      await ex.send(
        chunk,
        chunk.map((p) => readFileSync(p)),
      );
    }
    ex.end();
    const rows = [];
    let signalled = false;
    for await (const b of ex.batches()) {
      rows.push(...b);
      if (!signalled) {
        // The first batch is back, the other 32 images are still queued or running.
        signalled = true;
        process.kill(own.pid, "SIGTERM");
      }
    }
    client.close();
    expect(rows.map((r) => r.id)).toEqual(paths);
    expect(rows.every((r) => r.error === null && r.features?.length === 1280)).toBe(true);
    await own.stop(10_000);
    expect(readFileSync(own.logFile, "utf8")).toMatch(/SIGTERM: draining 1 exchange[\s\S]*stopped after 48 image/);
    expect((await sidecarStatus(own.address, 500)).reachable).toBe(false);
  });
});
