/** One measured case of an interleaved bench: `run` processes `images` images once. */
export interface Case {
  label: string;
  images: number;
  run: () => Promise<void>;
  /** Best images/s over the rounds, set by {@link measureInterleaved}. */
  best?: number;
}

/**
 * Runs every case once to warm up, then `rounds` rounds in which each case runs once in turn (so
 * load that comes and goes hits all of them alike); sets each case's best images/s.
 */
export async function measureInterleaved(cases: Case[], rounds: number): Promise<void> {
  for (const c of cases) await c.run();
  for (let r = 0; r < rounds; r++) {
    for (const c of cases) {
      const t = performance.now();
      await c.run();
      c.best = Math.max(c.best ?? 0, c.images / ((performance.now() - t) / 1000));
    }
  }
}
