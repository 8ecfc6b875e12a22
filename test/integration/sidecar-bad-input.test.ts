/**
 * Bad input never stops the server: the awkward/bad image corpus goes through a real sidecar
 * over Arrow Flight; every row gets features or a clear error, rows in == rows out, and the
 * sidecar still answers afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FlightClient } from "../../udf-server/src/flight/client.ts";
import type { FeatureRow } from "../../udf-server/src/flight/feature-schema.ts";
import { sidecarStatus } from "../../udf-server/src/manage/sidecar-status.ts";
import type { SidecarHandle } from "../../udf-server/src/manage/start-sidecar.ts";
import { type CorpusCase, imageCorpus } from "../support/image-corpus.ts";
import { startTestSidecar } from "./sidecar-support.ts";

async function exchange(client: FlightClient, batches: CorpusCase[][]): Promise<FeatureRow[][]> {
  const ex = client.featureExchange();
  const out = (async () => {
    const got: FeatureRow[][] = [];
    for await (const b of ex.batches()) got.push(b);
    return got;
  })();
  for (const b of batches) {
    await ex.send(
      b.map((c) => c.name),
      b.map((c) => c.bytes),
    );
  }
  ex.end();
  return out;
}

function check(c: CorpusCase, row: FeatureRow | undefined): void {
  expect(row?.id, c.name).toBe(c.name);
  if (c.expect === "features") {
    expect(row?.error, c.name).toBeNull();
    expect(row?.features, c.name).toHaveLength(1280);
    expect(row?.features?.every(Number.isFinite), c.name).toBe(true);
    expect(row?.width, c.name).toBeGreaterThan(0);
    expect(row?.height, c.name).toBeGreaterThan(0);
  } else {
    expect(row?.features, c.name).toBeNull();
    expect(row?.error, c.name).toMatch(c.expect);
    expect(row?.width, c.name).toBeNull();
    expect(row?.height, c.name).toBeNull();
  }
}

describe("sidecar on the bad/odd input corpus over Flight", () => {
  let sidecar: SidecarHandle;
  let client: FlightClient;
  let corpus: CorpusCase[];

  beforeAll(async () => {
    sidecar = await startTestSidecar("bad-input");
    client = new FlightClient(sidecar.address, { secretFile: sidecar.secretFile });
    corpus = await imageCorpus();
  });

  afterAll(async () => {
    client?.close();
    await sidecar?.stop();
  });

  it("covers the required cases", () => {
    const names = corpus.map((c) => c.name).join(" | ");
    for (const want of [
      "truncated jpeg",
      "random bytes",
      "empty",
      "text",
      "30000x30000 png",
      "1x1",
      "grayscale",
      "cmyk jpeg",
      "16-bit png",
      "alpha png",
      "animated gif",
    ]) {
      expect(names).toContain(want);
    }
  });

  it("answers every row, in one batch and one row per batch, and stays healthy", async () => {
    const [whole] = await exchange(client, [corpus]);
    expect(whole).toHaveLength(corpus.length);
    for (const [i, c] of corpus.entries()) check(c, whole?.[i]);

    const single = await exchange(
      client,
      corpus.map((c) => [c]),
    );
    expect(single.map((b) => b.length)).toEqual(corpus.map(() => 1));
    for (const [i, c] of corpus.entries()) check(c, single[i]?.[0]);

    const status = await sidecarStatus(sidecar.address, 2000, sidecar.secretFile);
    expect(status.reachable).toBe(true);
    expect(status.health?.status).toBe("ok");
    expect(status.health?.pid).toBe(sidecar.pid);
  });

  it("survives a client that cancels mid-stream and one that sends a wrong schema", async () => {
    const ex = client.featureExchange();
    await ex.send(
      corpus.map((c) => c.name),
      corpus.map((c) => c.bytes),
    );
    ex.cancel();
    await expect(
      (async () => {
        for await (const _ of ex.batches()) {
          // drain until the cancellation surfaces
        }
      })(),
    ).rejects.toThrow(/Cancelled/i);

    const { FlightBatchEncoder } = await import("../../udf-server/src/flight/ipc.ts");
    const { Field, Int32, Schema } = await import("apache-arrow");
    const raw = client.rawExchange();
    const failed = new Promise<{ details?: string } | null>((resolve) => {
      raw.on("error", (e) => resolve(e as { details?: string }));
      raw.on("data", () => {});
      raw.on("end", () => resolve(null));
    });
    raw.write(new FlightBatchEncoder().schema(new Schema([new Field("n", new Int32())])));
    expect((await failed)?.details).toMatch(/input schema must be \(id utf8, content binary\)/);

    const [again] = await exchange(client, [corpus.slice(0, 3)]);
    for (const [i, c] of corpus.slice(0, 3).entries()) check(c, again?.[i]);
    expect((await sidecarStatus(sidecar.address, 2000, sidecar.secretFile)).health?.status).toBe("ok");
  });
});
