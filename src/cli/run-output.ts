import type { PipelineEvents } from "../pipeline/run-pipeline.ts";
import type { RunSummary } from "../pipeline/run-summary.ts";
import { STEPS, type Step } from "../pipeline/run-summary.ts";
import type { CliContext } from "./cli-context.ts";

const LABEL: Record<Step, string> = {
  list: "listing images",
  features: "CNN features on the executors",
  pca: "PCA",
  write: "writing Parquet and the model",
};

/** One line per pipeline step on stderr: `[2/4] CNN features on the executors ... done in 11.8 s (129 rows)`. */
export function stepLogger(ctx: CliContext): PipelineEvents {
  const n = (step: Step) => `[${STEPS.indexOf(step) + 1}/${STEPS.length}]`;
  return {
    onStepStart: (step) => ctx.err(`${n(step)} ${LABEL[step]} ...`),
    onStepEnd: (step, ms, detail) =>
      ctx.err(`${n(step)} ${LABEL[step]}: done in ${(ms / 1000).toFixed(1)} s${detail ? ` (${detail})` : ""}`),
  };
}

/** The run's summary on stdout. */
export function printSummary(ctx: CliContext, s: RunSummary): void {
  const variance = s.explainedVariance ? s.explainedVariance.reduce((a, b) => a + b, 0) : undefined;
  ctx.out(`images:        ${s.counts.filesIn} in, ${s.counts.rowsOut} rows out, ${s.counts.failed} failed`);
  ctx.out(
    `components:    k=${s.k} of ${s.featureDim}${variance === undefined ? "" : `, ${(100 * variance).toFixed(1)}% of variance explained`}`,
  );
  ctx.out(`wall time:     ${(s.wallMs / 1000).toFixed(1)} s (${s.imagesPerSecond.toFixed(1)} images/s)`);
  ctx.out(`output:        ${s.output}`);
}
