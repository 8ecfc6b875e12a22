import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { LocalSpark } from "../../../src/cli/local/spark-server.ts";
import type { ReattachEvent } from "../../../src/connect/execute-options.ts";
import { SparkSession } from "../../../src/connect/spark-session.ts";
import { rowCounter } from "../../../udf-server/src/manage/sidecar-status.ts";
import { startTcpProxy, type TcpProxy } from "../../support/tcp-proxy.ts";
import { cliEnv } from "../helpers/cli-env.ts";
import { startExtraSpark } from "../helpers/extra-spark.ts";
import { REPO_ROOT, testLayout } from "../helpers/test-paths.ts";

// Issue 13, connection faults: a TCP proxy started here sits between the client and the real
// Spark. A reset in the middle of a collect is reattached and nothing is lost; a silent stall is
// noticed by the channel's keepalive (and then reattached); a Spark that restarts under a running
// `orchard run` ends it with exit 3 within 30 s.

const ROWS = 2_000_000;
const sparkPort = () => Number(new URL(inject("sparkRemote").replace(/^sc:/, "http:")).port);
const proxies: TcpProxy[] = [];
const sessions: SparkSession[] = [];

afterAll(async () => {
  for (const s of sessions) await s.stop().catch(() => undefined);
  for (const p of proxies) await p.close();
});

async function proxied(upstreamPort: number): Promise<TcpProxy> {
  const proxy = await startTcpProxy(upstreamPort);
  proxies.push(proxy);
  return proxy;
}

/** Sums `id` over range(ROWS) row by row; `atRow` runs once, after that many rows. */
async function sumIds(
  spark: SparkSession,
  atRow: number,
  act: () => void,
  onReattach: (e: ReattachEvent) => void,
): Promise<{ rows: number; sum: bigint }> {
  let rows = 0;
  let sum = 0n;
  for await (const row of spark.range(0, ROWS).toLocalIterator({ onReattach })) {
    sum += BigInt(row.get("id") as number | bigint);
    if (++rows === atRow) act();
  }
  return { rows, sum };
}

/** The URL of `remote`'s server through the proxy on `port`: the same parameters (its token). */
function viaProxy(port: number, remote: string): string {
  return remote.replace(/^sc:\/\/[^/;]+/, `sc://127.0.0.1:${port}`);
}

const EXPECTED_SUM = (BigInt(ROWS) * BigInt(ROWS - 1)) / 2n;

describe("Connect connection faults through a TCP proxy", () => {
  it("a reset mid-collect is reattached without loss", async () => {
    const proxy = await proxied(sparkPort());
    const spark = SparkSession.builder.remote(viaProxy(proxy.port, inject("sparkRemote"))).create();
    sessions.push(spark);
    const reattaches: ReattachEvent[] = [];
    let resetAt = 0;
    const result = await sumIds(
      spark,
      100_000,
      () => {
        resetAt = proxy.connections;
        proxy.reset();
      },
      (e) => reattaches.push(e),
    );
    expect(resetAt).toBeGreaterThan(0);
    expect(result).toEqual({ rows: ROWS, sum: EXPECTED_SUM });
    expect(reattaches.length).toBeGreaterThanOrEqual(1);
    expect(reattaches[0]?.reason).not.toBe("stream-ended");
    expect(reattaches[0]?.lastResponseId).toBeDefined();
    expect(proxy.connections).toBeGreaterThan(resetAt);
  }, 180_000);

  it("a silent stall is detected by keepalive, then reattached without loss", async () => {
    const proxy = await proxied(sparkPort());
    const spark = SparkSession.builder
      .remote(viaProxy(proxy.port, inject("sparkRemote")))
      .keepalive({ timeMs: 1000, timeoutMs: 1000 })
      .create();
    sessions.push(spark);
    const reattaches: ReattachEvent[] = [];
    let stalledAt = 0;
    let detectedAfterMs = 0;
    const result = await sumIds(
      spark,
      100_000,
      () => {
        stalledAt = performance.now();
        proxy.stall();
      },
      (e) => {
        reattaches.push(e);
        if (detectedAfterMs === 0 && stalledAt > 0) {
          detectedAfterMs = performance.now() - stalledAt;
          proxy.resume(); // the network heals once the client has given up on the stalled connection
        }
      },
    );
    expect(result).toEqual({ rows: ROWS, sum: EXPECTED_SUM });
    expect(reattaches[0]?.reason).toBe("UNAVAILABLE");
    // One second of quiet, one second for the PING: well under the 10 s that would mean no keepalive.
    expect(detectedAfterMs).toBeGreaterThan(0);
    expect(detectedAfterMs).toBeLessThan(10_000);
    console.log(
      `[connect-stall] keepalive (1 s / 1 s) noticed the stall after ${(detectedAfterMs / 1000).toFixed(1)} s`,
    );
  }, 180_000);

  describe("a Spark restart under a running `orchard run`", () => {
    let other: LocalSpark | undefined;
    const work = mkdtempSync(join(tmpdir(), "orchard-connect-restart-"));
    beforeAll(async () => {
      other = await startExtraSpark();
    }, 240_000);
    afterAll(async () => {
      await other?.stop();
      rmSync(work, { recursive: true, force: true });
    });

    it("ends the run with exit 3 within 30 s", async () => {
      const fruits = join(testLayout().cacheRoot, "data", "fruits", "Training");
      for (const label of readdirSync(fruits).sort().slice(0, 8)) {
        mkdirSync(join(work, "in", label), { recursive: true });
        for (const f of readdirSync(join(fruits, label)))
          copyFileSync(join(fruits, label, f), join(work, "in", label, f));
      }
      const first = other as LocalSpark;
      const proxy = await proxied(first.port);
      const run = new Promise<{ code: number; stderr: string; at: number }>((resolve) => {
        execFile(
          process.execPath,
          [
            join(REPO_ROOT, "bin", "orchard.mjs"),
            "run",
            "--input",
            join(work, "in"),
            "--output",
            join(work, "out"),
          ].concat(["--k", "3", "--partitions", "2", "--no-start", "--quiet"]),
          { cwd: REPO_ROOT, timeout: 600_000, env: { ...cliEnv(), SPARK_REMOTE: viaProxy(proxy.port, first.remote) } },
          (error, _stdout, stderr) =>
            resolve({ code: error ? Number(error.code ?? 1) : 0, stderr, at: performance.now() }),
        );
      });
      // Once the features step streams, the server at the address "restarts": the first one dies
      // and a server that never saw this session answers there (the test's shared Spark).
      const counter = rowCounter(inject("sidecar"), inject("sidecarSecretFile"));
      try {
        const start = await counter.read(2000);
        for (let i = 0; i < 900; i++) {
          const now = await counter.read(2000).catch(() => start);
          if (now.rowsServed - start.rowsServed >= 8) break;
          await sleep(200);
        }
      } finally {
        counter.close();
      }
      const restartedAt = performance.now();
      proxy.retarget(sparkPort());
      proxy.reset();
      await first.stop();
      const { code, stderr, at } = await run;
      expect(code, stderr).toBe(3);
      expect(at - restartedAt).toBeLessThan(30_000);
      expect(stderr).not.toMatch(/\n\s+at /); // one line, no stack trace
      console.log(
        `[connect-restart] exit ${code} ${((at - restartedAt) / 1000).toFixed(1)} s after the restart: ${stderr.trim()}`,
      );
    }, 600_000);
  });
});
