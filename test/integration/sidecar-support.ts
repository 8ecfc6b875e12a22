/** Shared by the sidecar and bridge integration tests: sample images, a real sidecar, comparisons. */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { cacheRoot } from "../../scripts/lib/paths.ts";
import { type SidecarHandle, startSidecar } from "../../udf-server/src/manage/start-sidecar.ts";
import { TEST_LOG_DIR } from "./helpers/test-paths.ts";

/** `n` sample fruit photos (Test/ split), spread over the classes, in a stable order. */
export function fruitImages(n: number): string[] {
  const root = join(cacheRoot(), "data", "fruits", "Test");
  const classes = readdirSync(root).sort();
  const perClass = classes.map((c) =>
    readdirSync(join(root, c))
      .filter((f) => f.endsWith(".jpg"))
      .sort()
      .map((f) => join(root, c, f)),
  );
  const out: string[] = [];
  for (let k = 0; out.length < n; k++) {
    let added = false;
    for (const files of perClass) {
      const f = files[k];
      if (f && out.length < n) {
        out.push(f);
        added = true;
      }
    }
    if (!added) break;
  }
  return out;
}

/** Starts a real sidecar (default model, 2 threads) on a free loopback port, logging to test-artifacts/logs. */
export function startTestSidecar(name: string, extraArgs: string[] = []): Promise<SidecarHandle> {
  return startSidecar({
    port: 0,
    threads: 2,
    logFile: join(TEST_LOG_DIR, `sidecar-${name}.log`),
    pidFile: join(TEST_LOG_DIR, `sidecar-${name}-${process.pid}.pid`),
    extraArgs,
  });
}

/** Largest absolute difference between two vectors of the same length (Infinity if lengths differ). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}
