import type { RunSummary } from "../pipeline/run-summary.ts";
import type { CliContext } from "./cli-context.ts";

/** The run's summary on stdout (`reportAt`: where report.html was written, when it was). */
export function printSummary(ctx: CliContext, s: RunSummary, reportAt?: string): void {
  const variance = s.explainedVariance ? s.explainedVariance.reduce((a, b) => a + b, 0) : undefined;
  ctx.out(`images:        ${s.counts.filesIn} in, ${s.counts.rowsOut} rows out, ${s.counts.failed} failed`);
  const last = s.history.at(-1);
  if (last?.mode === "incremental") {
    const c = last.counts;
    ctx.out(
      `incremental:   ${c.listed} listed: ${c.new} new, ${c.changed} changed, ${c.unchanged} unchanged, ${c.removed} removed${c.removed ? (c.pruned ? " (pruned)" : " (rows kept)") : ""}; ${c.featurized} featurized${last.pcaRefit ? ", PCA refitted" : ""}`,
    );
    for (const path of last.removedSample.slice(0, 5)) ctx.out(`removed:       ${path}`);
    if (c.removed > 5)
      ctx.out(`removed:       ... and ${c.removed - 5} more (run.json lists ${last.removedSample.length})`);
  }
  ctx.out(
    `components:    k=${s.k} of ${s.featureDim}${variance === undefined ? "" : `, ${(100 * variance).toFixed(1)}% of variance explained`}`,
  );
  ctx.out(`wall time:     ${(s.wallMs / 1000).toFixed(1)} s (${s.imagesPerSecond.toFixed(1)} images/s)`);
  ctx.out(`spark:         ${s.sparkVersion}`);
  ctx.out(`output:        ${s.output}`);
  if (reportAt) ctx.out(`report:        ${reportAt}`);
}
