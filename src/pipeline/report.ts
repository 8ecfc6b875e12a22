import type { ActionOptions } from "../connect/data-frame.ts";
import type { SparkSession } from "../connect/spark-session.ts";
import { OUTPUT_LAYOUT, outputPath } from "./output-layout.ts";
import type { OutputStore } from "./output-store.ts";
import { collectReportData, type ReportData, type ReportExtras } from "./report-data.ts";
import { renderReportHtml } from "./report-html.ts";
import { type RunSummary, readRunSummary } from "./run-summary.ts";

/** Options of {@link writeReport} / {@link regenerateReport}. */
export interface ReportOptions extends ReportExtras {
  /** The full explained-variance spectrum, when the caller holds the fitted model. */
  readonly spectrum?: readonly number[];
  /** At most this many points in the projection (default 5000, sampled by a hash of the path). */
  readonly maxPoints?: number;
  readonly actionOptions?: ActionOptions;
  /**
   * The Parquet folders that hold the rows (default `output`'s `data/`): an incremental run that
   * appends draws its page from the published rows and its attempt's new ones.
   */
  readonly data?: readonly string[];
  /** The time written into the page (default now). */
  readonly generatedAt?: Date;
}

/** Where report.html of `output` is. */
export function reportUri(output: string): string {
  return outputPath(output, OUTPUT_LAYOUT.reportHtml);
}

/**
 * Step 5, report: reads the run's results back from `output` (through Spark) and writes the
 * self-contained `report.html` next to them with `store`. Returns the data it drew.
 */
export async function writeReport(
  spark: SparkSession,
  output: string,
  summary: RunSummary,
  store: OutputStore,
  options: ReportOptions = {},
): Promise<ReportData> {
  const data = await collectReportData(spark, output, summary, {
    ...(options.spectrum ? { spectrum: options.spectrum } : {}),
    ...(options.maxPoints !== undefined ? { maxPoints: options.maxPoints } : {}),
    ...(options.actionOptions ? { actionOptions: options.actionOptions } : {}),
    ...(options.clusters !== undefined ? { clusters: options.clusters } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.classifier ? { classifier: options.classifier } : {}),
    ...(options.data ? { data: options.data } : {}),
  });
  await store.put(
    OUTPUT_LAYOUT.reportHtml,
    renderReportHtml(data, { generatedAt: options.generatedAt ?? new Date() }),
    "text/html; charset=utf-8",
  );
  return data;
}

/** `orchard report OUTPUT`: rebuilds report.html of an existing output folder from its run.json and data/. */
export async function regenerateReport(
  spark: SparkSession,
  output: string,
  store: OutputStore,
  options: ReportOptions = {},
): Promise<ReportData> {
  const summary = await readRunSummary(store, output);
  return writeReport(spark, output, summary, store, options);
}
