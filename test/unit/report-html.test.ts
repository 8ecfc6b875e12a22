import { describe, expect, it } from "vitest";
import type { ReportData } from "../../src/pipeline/report-data.ts";
import { renderReportHtml } from "../../src/pipeline/report-html.ts";
import type { RunSummary } from "../../src/pipeline/run-summary.ts";

const summary: RunSummary = {
  orchardVersion: 1,
  runId: "20261203T101500Z-1a2b3c4d5e6f",
  config: null,
  input: "s3a://b/in",
  output: "s3a://b/out",
  sparkVersion: "4.0.2",
  model: { name: "efficientnet-lite0", sha256: "ab".repeat(32) },
  counts: { filesIn: 10, rowsOut: 10, failed: 2 },
  timingsMs: { list: 1000, features: 4000, pca: 2000, write: 1000 },
  wallMs: 8000,
  imagesPerSecond: 1.25,
  keepFeatures: false,
  history: [],
  k: 2,
  featureDim: 8,
  partitions: 2,
  explainedVariance: [0.6, 0.25],
  pcaModel: "s3a://b/out/pca-model",
};
const points = [
  { path: "s3a://b/in/a/1.jpg", label: "a", x: 0, y: 1 },
  { path: "s3a://b/in/b/<script>.jpg", label: "b", x: 1, y: 0 },
];
const at = new Date("2026-01-02T03:04:05Z");
const count = (html: string, re: RegExp) => (html.match(re) ?? []).length;

describe("renderReportHtml", () => {
  it.each<{ name: string; data: ReportData; has: string[]; hasNot: string[]; pts: number; varPts: number }>([
    {
      name: "a full run, spectrum from the model",
      data: {
        summary,
        variance: { explained: [0.6, 0.25, 0.1, 0.04, 0.01], source: "model" },
        projection: { points, total: 2, sampled: false, maxPoints: 5000, components: 2 },
        failures: [
          { error: "decode: unsupported image format", count: 1 },
          { error: "empty file (0 bytes)", count: 1 },
        ],
        errorGroups: 2,
      },
      has: [
        "all 5 components the saved PCA model holds; the output keeps the first 2",
        "2 images drawn, every projected image",
        "<code>decode: unsupported image format</code>",
        "s3a://b/in/b/&lt;script&gt;.jpg",
        "generated 2026-01-02T03:04:05.000Z",
      ],
      hasNot: ["<script>.jpg", "http://", "https://"],
      pts: 2,
      varPts: 5,
    },
    {
      name: "only run.json's kept components, a sampled projection, more error groups than listed",
      data: {
        summary,
        variance: { explained: [0.6, 0.25], source: "run.json" },
        projection: { points, total: 9000, sampled: true, maxPoints: 2, components: 2 },
        failures: [{ error: "x", count: 2 }],
        errorGroups: 60,
      },
      has: [
        "covers only the 2 components kept in the output (from run.json)",
        "deterministic sample (by a hash of the path) of the 9,000 projected images, at most 2",
        "Showing the 1 most frequent of 60 distinct errors",
        "not reached within the 2 known components",
      ],
      hasNot: ["every projected image"],
      pts: 2,
      varPts: 2,
    },
    {
      name: "orchard fit: no data/, no projection",
      data: { summary: { ...summary, counts: { filesIn: 10, rowsOut: 0, failed: 2 } }, failures: [], errorGroups: 0 },
      has: [
        "This run wrote no data/",
        "No explained variance is known",
        "the errors are kept in data/, which this run did not write",
      ],
      hasNot: ['id="projection-chart"', 'id="variance-chart"'],
      pts: 0,
      varPts: 0,
    },
  ])("$name", ({ data, has, hasNot, pts, varPts }) => {
    const html = renderReportHtml(data, { generatedAt: at });
    for (const text of has) expect(html).toContain(text);
    for (const text of hasNot) expect(html).not.toContain(text);
    expect(count(html, /<circle class="pt"/g)).toBe(pts);
    expect(count(html, /<circle class="var-pt"/g)).toBe(varPts);
    expect(count(html, /<script>/g)).toBe(1);
    expect(html).not.toMatch(/<(link|img|iframe)\b|src=|@import/);
  });
});
