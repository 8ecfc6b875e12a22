import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { freePort } from "../../src/cli/local/ports.ts";
import { array_to_vector, col } from "../../src/connect/functions.ts";
import { SparkSession } from "../../src/connect/spark-session.ts";
import { clusteringAgreement } from "../../src/ml/clustering-agreement.ts";
import { Classifier } from "../../src/pipeline/classifier.ts";
import type { ClassifierManifest } from "../../src/pipeline/model-layout.ts";
import type { PredictSummary } from "../../src/pipeline/predict-folder.ts";
import { TEST_FLAG, withSplit } from "../../src/pipeline/train-split.ts";
import type { TrainSummary } from "../../src/pipeline/train-summary.ts";
import { orchardFails, orchardOk } from "./helpers/orchard-cli.ts";
import { withPySpark } from "./helpers/pyspark-client.ts";
import { REPO_ROOT, testLayout } from "./helpers/test-paths.ts";
import { openBrowser } from "./report-browser.ts";

const orchard = (args: string[]) => orchardOk(args, { timeout: 1_200_000 });

// orchard train and orchard predict end to end on real photos of the sample set (four classes),
// with the real Spark, sidecar and model; the split, the ARI and the library's predict() checked
// against computations made here, and the model folder read by PySpark.

const CLASSES = ["banana", "kiwi", "pear", "tomato"];
const PER_CLASS = 8;

const json = <T>(path: string): T => JSON.parse(readFileSync(path, "utf8")) as T;

/** Adjusted Rand index from two label lists, the textbook way (pairs counted one by one). */
function pairCountAri(a: readonly string[], b: readonly string[]): number {
  let both = 0;
  let onlyA = 0;
  let onlyB = 0;
  let neither = 0;
  for (let i = 0; i < a.length; i++) {
    for (let j = i + 1; j < a.length; j++) {
      const sameA = a[i] === a[j];
      const sameB = b[i] === b[j];
      if (sameA && sameB) both++;
      else if (sameA) onlyA++;
      else if (sameB) onlyB++;
      else neither++;
    }
  }
  const total = both + onlyA + onlyB + neither;
  const expected = ((both + onlyA) * (both + onlyB)) / total;
  const max = (both + onlyA + (both + onlyB)) / 2;
  return (both - expected) / (max - expected);
}

describe("orchard train and predict", () => {
  const remote = inject("sparkRemote");
  const sidecar = inject("sidecar");
  const spark = SparkSession.builder.remote(remote).getOrCreate();
  const fruits = join(testLayout().cacheRoot, "data", "fruits");
  const work = mkdtempSync(join(tmpdir(), "orchard-classifier-"));
  const images = join(work, "images");
  const photos = join(work, "photos");
  const model = join(work, "model");
  let summary: TrainSummary;
  let manifest: ClassifierManifest;

  beforeAll(async () => {
    for (const c of CLASSES) {
      mkdirSync(join(images, c), { recursive: true });
      for (const f of readdirSync(join(fruits, "Training", c))
        .sort()
        .slice(0, PER_CLASS)) {
        copyFileSync(join(fruits, "Training", c, f), join(images, c, f));
      }
      mkdirSync(join(photos, c), { recursive: true });
      const f = readdirSync(join(fruits, "Test", c)).sort()[0] as string;
      copyFileSync(join(fruits, "Test", c, f), join(photos, c, f));
    }
    mkdirSync(join(photos, "bad"));
    writeFileSync(join(photos, "bad", "not-an-image.jpg"), "this is not an image\n");
    writeFileSync(join(photos, "bad", "empty.png"), "");
    // From images: the pipeline runs first (into model/features), then the classifier is trained.
    await orchard([
      "train",
      "--input",
      images,
      "--output",
      model,
      "--test-fraction",
      "0.25",
      "--seed",
      "3",
      "--k",
      "16",
      "--no-start",
      "--quiet",
    ]);
    summary = json<TrainSummary>(join(model, "run.json"));
    manifest = json<ClassifierManifest>(join(model, "orchard-model.json"));
  }, 1_200_000);
  afterAll(async () => {
    await spark.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it("train: a stratified split, and figures that agree with their confusion matrix", () => {
    expect(summary.split).toMatchObject({
      kind: "stratified",
      testFraction: 0.25,
      seed: 3,
      trainRows: 24,
      testRows: 8,
    });
    expect([...summary.labels].sort()).toEqual(CLASSES);
    expect(summary.k).toBe(16);
    const { counts, labels } = summary.metrics.confusionMatrix;
    expect(labels).toEqual(summary.labels);
    // Stratified: each label has round(8 * 0.25) = 2 test rows.
    for (const row of counts) expect(row.reduce((a, b) => a + b, 0)).toBe(2);
    const right = counts.reduce((a, row, i) => a + (row[i] as number), 0);
    expect(summary.metrics.accuracy).toBeCloseTo(right / 8, 12);
    for (const [i, label] of labels.entries()) {
      expect(summary.metrics.perClassAccuracy[label]).toBeCloseTo((counts[i]?.[i] as number) / 2, 12);
    }
    expect(summary.metrics.macroF1).toBeGreaterThan(0);
    expect(summary.metrics.macroF1).toBeLessThanOrEqual(1);
    expect(summary.clustering).toMatchObject({ k: 4, seed: 3, rows: 32 });
    expect(manifest).toMatchObject({ orchardClassifier: 1, k: 16, featureDimension: 1280, labels: summary.labels });
    expect(manifest.metrics.accuracy).toBe(summary.metrics.accuracy);
  });

  it("the model folder is Spark ML's format: PySpark loads the PCA, the label index and the classifier", async () => {
    const py = await withPySpark<{ k: number; labels: string[]; classes: number; features: number }>(
      remote,
      [
        "from pyspark.ml.feature import PCAModel, StringIndexerModel",
        "from pyspark.ml.classification import LogisticRegressionModel",
        `b = ${JSON.stringify(`file://${model}`)}`,
        "lr = LogisticRegressionModel.load(b + '/classifier')",
        "print(json.dumps({'k': PCAModel.load(b + '/pca-model').getK(), 'labels': StringIndexerModel.load(b + '/label-index').labels, 'classes': lr.numClasses, 'features': lr.numFeatures}))",
      ].join("\n"),
    );
    expect(py).toEqual({ k: 16, labels: manifest.labels, classes: 4, features: 16 });
  });

  it("the split is deterministic and exact per label; another seed picks other rows", async () => {
    const rows = spark.createDataFrame(
      Array.from({ length: 30 }, (_, i) => ({ path: `file:/x/${i % 3}/${i}.jpg`, label: `c${i % 3}` })),
      "path string, label string",
    );
    const testPaths = async (seed: number) =>
      (
        await withSplit(rows, { kind: "stratified", testFraction: 0.3, seed })
          .where(col(TEST_FLAG))
          .select("path", "label")
          .orderBy("path")
          .collect()
      ).map((r) => [String(r.get("path")), String(r.get("label"))]);
    const a = await testPaths(5);
    expect(await testPaths(5)).toEqual(a);
    for (const c of ["c0", "c1", "c2"]) expect(a.filter(([, l]) => l === c)).toHaveLength(3);
    expect(await testPaths(6)).not.toEqual(a);
    const byFolder = await withSplit(rows, { kind: "folder", testFolder: "1" }).where(col(TEST_FLAG)).count();
    expect(byFolder).toBe(10);
  });

  it("clusteringAgreement: ARI and purity on the server equal a pair-by-pair count made here", async () => {
    const classes = "aaaaabbbbbbcccccccdd".split("");
    const clusters = "00011111122222223300".split("");
    const df = spark.createDataFrame(
      classes.map((c, i) => ({ c, k: Number(clusters[i]), f: [i] })),
      "c string, k int, f array<double>",
    );
    const got = await clusteringAgreement(df.withColumn("v", array_to_vector(col("f"))), {
      classCol: "c",
      clusterCol: "k",
    });
    expect(got.adjustedRandIndex).toBeCloseTo(pairCountAri(classes, clusters), 12);
    // Majorities: cluster 0 holds a×3 d×2, 1 a×2 b×4, 2 b×2 c×5, 3 c×2.
    expect(got.purity).toBeCloseTo((3 + 4 + 5 + 2) / 20, 12);
    expect(got).toMatchObject({ rows: 20, classes: 4, clusters: 4 });
  });

  it("predict: one row per image with label, probability and top5; bad images keep their row with the error", async () => {
    const out = join(work, "predicted");
    await orchard(["predict", "--model", model, "--input", photos, "--output", out, "--no-start", "--quiet"]);
    const s = json<PredictSummary>(join(out, "run.json"));
    expect(s.counts).toEqual({ filesIn: 6, rowsOut: 6, failed: 2 });
    // Published like orchard run's output: the attempt folder is gone, run.json names the run.
    expect(s.runId).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{12}$/);
    expect(readdirSync(out).sort()).toEqual(["data", "run.json"]);
    const rows = await spark.read.parquet(`file://${out}/data`).orderBy("path").collect();
    expect(rows.map((r) => r.layout.names)).toEqual(rows.map(() => ["path", "label", "probability", "top5", "error"]));
    expect(rows).toHaveLength(6);
    for (const r of rows) {
      const path = String(r.get("path"));
      if (path.includes("/bad/")) {
        expect(r.get("error")).toMatch(path.endsWith("empty.png") ? /empty file/ : /decode/);
        expect([r.get("label"), r.get("probability"), r.get("top5")]).toEqual([null, null, null]);
        continue;
      }
      expect(r.get("error")).toBeNull();
      const top5 = (r.get("top5") as { get(n: string): unknown }[]).map((t) => ({
        label: String(t.get("label")),
        probability: Number(t.get("probability")),
      }));
      expect(top5).toHaveLength(4); // fewer than five classes
      expect(top5.map((t) => t.label).sort()).toEqual(CLASSES);
      expect(top5.reduce((a, t) => a + t.probability, 0)).toBeCloseTo(1, 9);
      for (let i = 1; i < top5.length; i++) {
        expect(top5[i - 1]?.probability as number).toBeGreaterThanOrEqual(top5[i]?.probability as number);
      }
      expect(r.get("label")).toBe(top5[0]?.label);
      expect(r.get("probability")).toBe(top5[0]?.probability);
    }
    // A predict --overwrite whose Spark job fails (every bridge exits 1) leaves the output as it was.
    const failed = await orchardFails([
      "predict",
      "--model",
      model,
      "--input",
      photos,
      "--output",
      out,
      "--overwrite",
      "--bridge",
      "/bin/false",
      "--no-start",
      "--quiet",
    ]);
    // Exit 1: the Spark job failed (not a refused configuration, 2, or an unreachable part, 3).
    expect(failed.code).toBe(1);
    expect(json<PredictSummary>(join(out, "run.json"))).toEqual(s);
    expect(readdirSync(out).sort()).toEqual(["data", "run.json"]);
    expect(await spark.read.parquet(`file://${out}/data`).count()).toBe(6);
    // The same photos through the library call give the same answers, featurized on the executors
    // (TRANSFORM and the bridges) or in this process straight from the sidecar.
    const files = rows.map((r) => new URL(String(r.get("path"))).pathname);
    for (const featurizeOn of ["executors", "driver"] as const) {
      const classifier = await Classifier.load(spark, `file://${model}`, {
        sidecar,
        secretFile: inject("sidecarSecretFile"),
        featurizeOn,
      });
      try {
        expect(classifier.featurizesOn).toBe(featurizeOn);
        const answers = await classifier.predict(files);
        answers.forEach((a, i) => {
          const r = rows[i];
          expect(a.path).toBe(pathToFileURL(files[i] as string).href);
          expect(a.label).toBe(r?.get("label") ?? null);
          expect(a.error === null).toBe(r?.get("error") === null);
          if (a.probability !== null) expect(a.probability).toBeCloseTo(Number(r?.get("probability")), 5);
        });
      } finally {
        await classifier.close();
      }
    }
    // "auto" takes the driver when the sidecar proves the secret, the executors without a secret file.
    const auto = await Classifier.load(spark, `file://${model}`, { sidecar, secretFile: inject("sidecarSecretFile") });
    const noSecret = await Classifier.load(spark, `file://${model}`, { sidecar });
    expect([auto.featurizesOn, noSecret.featurizesOn]).toEqual(["driver", "executors"]);
    await Promise.all([auto.close(), noSecret.close()]);
    await expect(
      Classifier.load(spark, `file://${model}`, {
        sidecar: `127.0.0.1:${await freePort()}`,
        secretFile: inject("sidecarSecretFile"),
        featurizeOn: "driver",
      }),
    ).rejects.toThrow(/featurizeOn "driver": no sidecar that proves the secret answers at 127\.0\.0\.1:\d+/);
  });

  it("report.html in Chromium: clusters over classes (colouring toggles), confusion matrix and per-class accuracy as in run.json", async () => {
    const browser = await openBrowser();
    try {
      const page = await browser.context.newPage();
      const requests: string[] = [];
      page.on("request", (r) => requests.push(r.url()));
      await page.goto(`file://${model}/report.html`);
      const c = summary.clustering;
      expect(c).not.toBeNull();
      const card = (key: string) => page.locator(`#clustering .card[data-key="${key}"] .v`).textContent();
      expect(await card("adjusted Rand index")).toBe(c?.adjustedRandIndex.toFixed(4));
      expect(await card("KMeans clusters")).toBe("4");
      // Every drawn point carries its cluster; the toggle recolours each by it and swaps the legends.
      const points = page.locator("#projection-chart circle.pt");
      expect(await points.count()).toBe(32);
      const clusters = await points.evaluateAll((cs) => cs.map((p) => p.getAttribute("data-cluster")));
      expect(new Set(clusters).size).toBe(4);
      const fills = () => points.evaluateAll((cs) => cs.map((p) => getComputedStyle(p).fill));
      const byClass = await fills();
      await page.click('button[data-colour-by="cluster"]');
      const byCluster = await fills();
      // The colour each point should have by cluster (its data-cc) or by class (its series' fill),
      // resolved as the browser resolves a CSS colour.
      const colours = (by: "cluster" | "class") =>
        points.evaluateAll(
          (cs, mode) =>
            cs.map((p) => {
              const probe = document.createElement("div");
              probe.style.color =
                (mode === "cluster" ? p.getAttribute("data-cc") : (p.parentNode as Element).getAttribute("fill")) ?? "";
              document.body.appendChild(probe);
              const colour = getComputedStyle(probe).color;
              probe.remove();
              return colour;
            }),
          by,
        );
      const expected = await colours("cluster");
      expect(byCluster).toEqual(expected);
      // Coloured by class, each point has its label's series colour. (Not "the two colourings
      // differ": a KMeans whose clusters are the classes, numbered in the labels' order, colours
      // alike, as one run here did.)
      const classColours = await colours("class");
      expect(byClass).toEqual(classColours);
      expect(new Set(classColours).size).toBe(4);
      expect(await page.locator(".cluster-legend").isVisible()).toBe(true);
      expect(await page.locator("ul.legend").isVisible()).toBe(false);
      await page.click('button[data-colour-by="label"]');
      expect(await fills()).toEqual(byClass);
      // The confusion matrix: one cell per (true, predicted) pair, the counts of run.json.
      const { labels, counts } = summary.metrics.confusionMatrix;
      const cells = await page
        .locator("table.confusion td")
        .evaluateAll((tds) =>
          tds.map((td) => [td.getAttribute("data-true"), td.getAttribute("data-predicted"), td.textContent]),
        );
      expect(cells).toHaveLength(labels.length ** 2);
      for (const [t, p, text] of cells) {
        const n = counts[labels.indexOf(t as string)]?.[labels.indexOf(p as string)] as number;
        expect(text).toBe(n ? String(n) : "");
      }
      const perClass = await page
        .locator("table.per-class tbody tr")
        .evaluateAll((trs) => trs.map((tr) => [tr.getAttribute("data-label"), tr.children[2]?.textContent]));
      expect(Object.fromEntries(perClass)).toEqual(
        Object.fromEntries(
          labels.map((l) => [l, `${(100 * (summary.metrics.perClassAccuracy[l] as number)).toFixed(1)}%`]),
        ),
      );
      await page.screenshot({ path: join(REPO_ROOT, "test-artifacts", "classifier-report.png"), fullPage: true });
      expect(requests.every((u) => u.startsWith("file:") || u.startsWith("data:"))).toBe(true);
    } finally {
      await browser.close();
    }
  });

  it("bad configuration: one line naming the flag and the expected form, exit 2", async () => {
    const a = await orchardFails(["train", "--input", images, "--output", join(work, "x"), "--test-fraction", "1.5"]);
    expect(a.code).toBe(2);
    expect(a.stderr.trim()).toBe("orchard: invalid --test-fraction: expected a share of the rows in (0, 1), e.g. 0.2");
    const b = await orchardFails([
      "train",
      "--input",
      images,
      "--output",
      join(work, "x"),
      "--test-fraction",
      "0.2",
      "--test-folder",
      "Test",
    ]);
    expect(b.code).toBe(2);
    expect(b.stderr.trim().split("\n")).toHaveLength(1);
    const c = await orchardFails([
      "predict",
      "--model",
      images,
      "--input",
      photos,
      "--output",
      join(work, "y"),
      "--no-start",
    ]);
    expect(c.stderr).toMatch(/not a classifier folder of orchard train/);
  });
});
