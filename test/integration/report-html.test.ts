import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { uploadFolder } from "../../src/cli/local/s3-objects.ts";
import type { RunSummary } from "../../src/pipeline/run-summary.ts";
import { s3Client } from "../../src/s3.ts";
import { withPySpark } from "./helpers/pyspark-client.ts";
import { REPO_ROOT, testLayout } from "./helpers/test-paths.ts";
import { openBrowser } from "./report-browser.ts";

// report.html as a user gets it: `orchard run` on a few real sample images plus broken files, on the
// real Spark Connect server and sidecar; the page opened in headless Chromium from disk; every count
// it shows checked against PySpark reading the same output. Then `orchard report` regenerates it
// with a point cap, and the sample it draws is the one the hash of the path picks.

const remote = inject("sparkRemote");
const sidecar = inject("sidecar");
const s3 = inject("s3");
const run = promisify(execFile);
const CLASSES = 5;
const PER_CLASS = 3;
const K = 4;

async function orchard(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(REPO_ROOT, "bin", "orchard.mjs"), ...args], {
      cwd: REPO_ROOT,
      timeout: 600_000,
      maxBuffer: 16 * 1024 * 1024,
      env: { ...process.env, SPARK_REMOTE: remote, ORCHARD_SIDECAR: sidecar, ...env },
    });
    return { stdout, stderr, code: 0 };
  } catch (e) {
    const err = e as { stdout: string; stderr: string; code: number };
    return { stdout: err.stdout, stderr: err.stderr, code: err.code };
  }
}

interface Truth {
  projected: number;
  labels: Record<string, number>;
  errors: Record<string, number>;
  sample: string[];
}

const work = mkdtempSync(join(tmpdir(), "orchard-report-"));
const input = join(work, "images");
const outDir = join(work, "out");
const output = pathToFileURL(outDir).href;
let runOut: { stdout: string; stderr: string; code: number };
let summary: RunSummary;
let truth: Truth;
let browser: Awaited<ReturnType<typeof openBrowser>>;

async function open(file: string): Promise<{ page: Page; requests: string[] }> {
  const page = await browser.context.newPage();
  const requests: string[] = [];
  page.on("request", (r) => requests.push(r.url()));
  await page.goto(pathToFileURL(file).href);
  return { page, requests };
}

beforeAll(async () => {
  const fruits = join(testLayout().cacheRoot, "data", "fruits", "Training");
  for (const label of readdirSync(fruits).sort().slice(0, CLASSES)) {
    mkdirSync(join(input, label), { recursive: true });
    for (const f of readdirSync(join(fruits, label)).sort().slice(0, PER_CLASS)) {
      copyFileSync(join(fruits, label, f), join(input, label, f));
    }
  }
  mkdirSync(join(input, "broken"));
  writeFileSync(join(input, "broken", "empty.jpg"), Buffer.alloc(0));
  writeFileSync(join(input, "broken", "text-1.jpg"), "not an image\n".repeat(40));
  writeFileSync(join(input, "broken", "text-2.png"), "not an image either\n".repeat(40));

  runOut = await orchard(["run", "--input", input, "--output", output, "--k", String(K), "--no-start"]);
  expect(runOut.code, runOut.stderr).toBe(0);
  summary = JSON.parse(readFileSync(join(outDir, "run.json"), "utf8")) as RunSummary;
  truth = await withPySpark<Truth>(
    remote,
    `
from pyspark.sql import functions as F
d = spark.read.parquet(${JSON.stringify(`${output}/data`)})
p = d.where(F.col("pca").isNotNull())
labels = {r["label"]: r["count"] for r in p.groupBy("label").count().collect()}
errors = {r["error"]: r["count"] for r in d.where(F.col("error").isNotNull()).groupBy("error").count().collect()}
sample = [r["path"] for r in p.orderBy(F.xxhash64("path"), "path").limit(7).select("path").collect()]
print(json.dumps({"projected": p.count(), "labels": labels, "errors": errors, "sample": sample}))
`,
  );
  browser = await openBrowser();
}, 900_000);

afterAll(async () => {
  await browser?.close();
});

describe("report.html after orchard run", () => {
  it("is written as the run's last step, and the CLI says where", () => {
    expect(runOut.stderr).toMatch(/\[5\/5\] writing report\.html: done in/);
    // Not a terminal: plain progress lines, the features step with its throughput.
    expect(runOut.stderr).toMatch(/\[2\/5\] CNN features on the executors: done in [\d.]+ s \(.*\), [\d.]+ images\/s/);
    expect(runOut.stdout).toContain(`report:        ${output}/report.html`);
    expect(summary.counts).toEqual({ filesIn: CLASSES * PER_CLASS + 3, rowsOut: CLASSES * PER_CLASS + 3, failed: 3 });
  });

  it("draws the projection: one point per projected image, one series per label, path on hover, nothing fetched", async () => {
    const { page, requests } = await open(join(outDir, "report.html"));
    const chart = page.locator("#projection-chart");
    expect(await chart.locator("circle.pt").count()).toBe(truth.projected);
    expect(truth.projected).toBe(CLASSES * PER_CLASS);
    const series = await chart
      .locator("g.series")
      .evaluateAll((gs) => gs.map((g) => [g.getAttribute("data-label"), g.querySelectorAll("circle.pt").length]));
    expect(Object.fromEntries(series)).toEqual(truth.labels);
    expect(series).toHaveLength(CLASSES);
    expect(await page.locator(".legend li").count()).toBe(CLASSES);

    const first = chart.locator("circle.pt").first();
    const path = await first.getAttribute("data-path");
    await first.hover();
    await expect.poll(() => page.locator("#tip").isVisible()).toBe(true);
    expect(await page.locator("#tip").textContent()).toContain(path);
    expect(path).toMatch(/^file:\/.*\.jpg$/);

    await page.screenshot({ path: join(REPO_ROOT, "test-artifacts", "report.png"), fullPage: true });
    expect(requests.every((u) => u.startsWith("file:") || u.startsWith("data:"))).toBe(true);
    await page.close();
  });

  it("draws the cumulative variance curve of the model's components with the 90/95/99% marks", async () => {
    const { page } = await open(join(outDir, "report.html"));
    expect(await page.locator("#variance-chart circle.var-pt").count()).toBe(K);
    const ev = summary.explainedVariance ?? [];
    expect(ev).toHaveLength(K);
    const marks = await page
      .locator("#variance-chart g.threshold")
      .evaluateAll((gs) => gs.map((g) => [g.getAttribute("data-share"), g.getAttribute("data-components")]));
    const expected = [0.9, 0.95, 0.99].map((share) => {
      let total = 0;
      const i = ev.findIndex((v) => {
        total += v;
        return total >= share - 1e-12;
      });
      return [String(share), i < 0 ? "" : String(i + 1)];
    });
    expect(marks).toEqual(expected);
    const box = await page.locator("#variance-chart").boundingBox();
    expect(box?.width).toBeGreaterThan(300);
    await page.close();
  });

  it("lists the failures grouped by error, and the summary counts", async () => {
    const { page } = await open(join(outDir, "report.html"));
    const rows = await page
      .locator("table.failures tbody tr")
      .evaluateAll((trs) =>
        trs.map((tr) => [tr.querySelector("code")?.textContent, Number(tr.querySelector("td.n")?.textContent)]),
      );
    expect(Object.fromEntries(rows)).toEqual(truth.errors);
    const cards = await page
      .locator(".card")
      .evaluateAll((cs) =>
        Object.fromEntries(cs.map((c) => [c.getAttribute("data-key"), c.querySelector(".v")?.textContent])),
      );
    expect(cards["images in"]).toBe(String(summary.counts.filesIn));
    expect(cards.failed).toBe("3");
    const steps = await page
      .locator("table.timings tr[data-step]")
      .evaluateAll((trs) => trs.map((t) => t.getAttribute("data-step")));
    expect(steps).toEqual(["list", "features", "pca", "write"]);
    await page.close();
  });
});

describe("orchard report OUTPUT", () => {
  it("regenerates report.html, drawing the hash-of-path sample when there are more points than --max-points", async () => {
    const out = await orchard(["report", output, "--max-points", "7"]);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout.trim()).toBe(`${output}/report.html`);
    expect(out.stderr).toContain(`7 of ${truth.projected} projected images drawn`);
    const { page } = await open(join(outDir, "report.html"));
    const paths = await page
      .locator("#projection-chart circle.pt")
      .evaluateAll((cs) => cs.map((c) => c.getAttribute("data-path")));
    expect(paths.sort()).toEqual([...truth.sample].sort());
    expect(await page.locator("#projection").textContent()).toContain(
      `deterministic sample (by a hash of the path) of the ${truth.projected}`,
    );
    await page.screenshot({ path: join(REPO_ROOT, "test-artifacts", "report-sampled.png"), fullPage: true });
    await page.close();
  });

  it("works on an output folder on S3 (s3a://): reads it through Spark, writes report.html with the AWS SDK", async () => {
    const prefix = `report-${process.pid}-${Date.now()}`;
    const client = await s3Client(s3);
    await uploadFolder(client, { bucket: s3.bucket, prefix, dir: outDir });
    const out = await orchard(["report", `s3a://${s3.bucket}/${prefix}`], {
      AWS_ACCESS_KEY_ID: s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
      ORCHARD_S3_ENDPOINT: s3.endpoint,
    });
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout.trim()).toBe(`s3a://${s3.bucket}/${prefix}/report.html`);
    const got = await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: `${prefix}/report.html` }));
    expect(got.ContentType).toMatch(/^text\/html/);
    const html = (await got.Body?.transformToString()) ?? "";
    expect(html.match(/<circle class="pt"/g)?.length).toBe(truth.projected);
    expect(html.match(/<circle class="var-pt"/g)?.length).toBe(K);
  });

  it("refuses a folder without run.json with one clear line", async () => {
    const out = await orchard(["report", pathToFileURL(input).href]);
    expect(out.code).toBe(1);
    expect(out.stderr.trim()).toMatch(/^orchard: .*has no readable run\.json/);
  });

  it("--quiet turns the progress lines off", async () => {
    // Real runs on the small input: a run refused before it starts would print no progress either way.
    const loud = await orchard(["run", "--input", input, "--output", `${output}-loud`, "--k", "2", "--no-start"]);
    const quiet = await orchard([
      "run",
      "--input",
      input,
      "--output",
      `${output}-quiet`,
      "--k",
      "2",
      "--no-start",
      "--quiet",
    ]);
    expect(loud.code).toBe(0);
    expect(loud.stderr).toContain("[1/5] listing images ...");
    expect(loud.stderr).toContain("CNN features on the executors: done");
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).not.toContain("listing images");
    expect(quiet.stderr).not.toContain("CNN features");
  });
});
