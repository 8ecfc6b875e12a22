import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { runDeadlineMs, SessionPool } from "../../udf-server/src/model/onnx-session.ts";

const workerScript = new URL("../support/dying-onnx-worker.mjs", import.meta.url).pathname;
const open = (runTimeoutMs?: (images: number) => number) =>
  SessionPool.open({
    onnxPath: "unused.onnx",
    inputName: "input",
    outputs: ["features"],
    sessions: 2,
    threadsPerSession: 1,
    workerScript,
    ...(runTimeoutMs === undefined ? {} : { runTimeoutMs }),
  });
const batch = (first: number, count = 2) => ({ data: new Uint8Array(count).fill(first), dims: [count, 1] });

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await sleep(20);
}

let pool: SessionPool | undefined;
afterEach(async () => {
  await pool?.close();
  pool = undefined;
});

describe("SessionPool when a worker thread dies", () => {
  it("fails the batch that was on it, replaces the thread, and serves the next batch", async () => {
    pool = await open();
    const ok = await pool.run(batch(7), 2);
    expect(Array.from(ok.features?.data ?? []).filter((_, i) => i % 2 === 0)).toEqual([7, 7]);

    await expect(pool.run(batch(255), 2)).rejects.toThrow(/inference failed: ONNX worker exited \(code 3\)/);
    await until(() => pool?.restarts === 2);
    expect(pool.restarts).toBe(2);
    expect(pool.alive).toBe(2);

    const again = await pool.run(batch(9), 2);
    const threads = new Set(Array.from(again.features?.data ?? []).filter((_, i) => i % 2 === 1));
    const before = new Set(Array.from(ok.features?.data ?? []).filter((_, i) => i % 2 === 1));
    expect(Array.from(again.features?.data ?? []).filter((_, i) => i % 2 === 0)).toEqual([9, 9]);
    expect([...threads].some((t) => before.has(t))).toBe(false); // new threads answered
  });

  it("stops replacing after the per-minute budget, then says no session is alive", async () => {
    pool = await open();
    for (let round = 0; round < 4; round++) {
      await pool.run(batch(255), 2).catch(() => undefined);
      const expected = Math.min(5, 2 * (round + 1));
      await until(() => pool?.restarts === expected);
    }
    expect(pool.restarts).toBe(5);
    await until(() => pool?.alive === 0);
    await expect(pool.run(batch(1), 2)).rejects.toThrow(/no ONNX session is alive \(5 worker restarts/);
  });
});

describe("SessionPool when a worker thread hangs", () => {
  it("fails the slice at its deadline, gives up on the thread, and serves the next batch on a new one", async () => {
    const deadlines: number[] = [];
    pool = await open((images) => {
      deadlines.push(images);
      return 300;
    });
    const ok = await pool.run(batch(3), 2);
    await expect(pool.run(batch(254, 4), 4)).rejects.toThrow(
      /inference failed: ONNX worker did not answer within 0 s \(terminated\)/,
    );
    expect(deadlines).toEqual([1, 1, 2, 2]); // one deadline per slice, from the slice's size
    expect(pool.restarts).toBe(2);
    await until(() => pool?.alive === 2);
    const again = await pool.run(batch(5), 2);
    expect(Array.from(again.features?.data ?? []).filter((_, i) => i % 2 === 0)).toEqual([5, 5]);
    const before = new Set(Array.from(ok.features?.data ?? []).filter((_, i) => i % 2 === 1));
    const threads = Array.from(again.features?.data ?? []).filter((_, i) => i % 2 === 1);
    expect(threads.some((t) => before.has(t))).toBe(false);
  });

  it("gives a slice a minute plus 50 ms an image by default", () => {
    expect([1, 64, 2048].map(runDeadlineMs)).toEqual([60_050, 63_200, 162_400]);
  });
});
