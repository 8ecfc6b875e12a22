import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalSpark } from "../../src/cli/local/spark-server.ts";
import { SparkAuthenticationError } from "../../src/connect/errors.ts";
import type { ReattachEvent } from "../../src/connect/execute-options.ts";
import { SparkSession } from "../../src/connect/spark-session.ts";
import { startExtraSpark } from "./helpers/extra-spark.ts";

/**
 * One extra real Spark Connect server that (a) requires a bearer token and (b) cuts every
 * result stream after 1 MiB of responses (`spark.connect.execute.reattachable.senderMaxStreamSize`,
 * a server-level setting), which is what a long result looks like in the real world: the client
 * must resume with ReattachExecute, with the token, until ResultComplete.
 */
const token = randomBytes(18).toString("base64url");
let server: LocalSpark;

beforeAll(async () => {
  server = await startExtraSpark({
    token,
    conf: {
      "spark.connect.execute.reattachable.senderMaxStreamSize": "1m",
      "spark.sql.shuffle.partitions": "2",
    },
  });
});
afterAll(async () => {
  await server?.stop();
});

async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => undefined,
    (e: unknown) => e,
  );
}

describe("bearer token", () => {
  it("without a token: a clear authentication error", async () => {
    const spark = SparkSession.builder.remote(server.remote).create();
    const err = await failure(spark.version());
    expect(err).toBeInstanceOf(SparkAuthenticationError);
    expect((err as SparkAuthenticationError).grpcCode).toBe("UNAUTHENTICATED");
    expect((err as Error).message).toContain(server.remote.replace(/\/$/, ""));
    expect((err as Error).message).not.toContain(token);
    await spark.stop();
  });

  it("with a wrong token: refused, and neither token appears in the error", async () => {
    const wrong = `${token}x`;
    const spark = SparkSession.builder.remote(`${server.remote}/;token=${wrong}`).create();
    const err = await failure(spark.range(1).collect());
    expect(err).toBeInstanceOf(SparkAuthenticationError);
    expect(JSON.stringify({ m: (err as Error).message, s: (err as Error).stack })).not.toContain(token);
    expect((err as Error).message).toContain("token=<redacted>");
    await spark.stop();
  });

  it("with the token: every RPC works (config, analyze, execute, release, interrupt)", async () => {
    const spark = SparkSession.builder.remote(`${server.remote}/;token=${token}`).create();
    expect(await spark.version()).toMatch(/^4\.1/);
    await spark.conf.set("spark.sql.shuffle.partitions", 3);
    expect(await spark.conf.get("spark.sql.shuffle.partitions")).toBe("3");
    expect((await spark.range(10).collect()).length).toBe(10);
    expect(await spark.interruptAll()).toEqual([]);
    await spark.stop();
  });
});

describe("reattachable execution against a server that cuts streams", () => {
  it("resumes every cut stream with no row lost or duplicated", async () => {
    const spark = SparkSession.builder.remote(`${server.remote}/;token=${token}`).create();
    const n = 1_500_000;
    const events: ReattachEvent[] = [];
    let expected = 0n;
    let bad = 0;
    let rows = 0;
    for await (const batch of spark
      .range(0, n, 1, 3)
      .selectExpr("id", "id * 2 AS twice", "cast(id AS string) AS s")
      .stream({ onReattach: (e) => events.push(e) })) {
      const ids = batch.getChild("id")?.toArray() as BigInt64Array;
      const twice = batch.getChild("twice")?.toArray() as BigInt64Array;
      for (let i = 0; i < ids.length; i++) {
        if (ids[i] !== expected || twice[i] !== expected * 2n) bad++;
        expected++;
      }
      rows += batch.numRows;
    }
    expect(bad).toBe(0);
    expect(rows).toBe(n);
    expect(events.length).toBeGreaterThan(5);
    expect(events.every((e) => e.reason === "stream-ended")).toBe(true);
    expect(new Set(events.map((e) => e.lastResponseId)).size).toBe(events.length);

    const collected = await spark.range(0, 300_000).selectExpr("id", "repeat('x', 20) AS pad").collect();
    expect(collected.length).toBe(300_000);
    expect(collected.every((r, i) => r.get("id") === BigInt(i))).toBe(true);
    await spark.stop();
  });
});
