import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { array_to_vector, col, vector_to_array } from "../../src/connect/functions.ts";
import { SparkSession } from "../../src/connect/spark-session.ts";
import { IndexToString } from "../../src/ml/index-to-string.ts";
import { KMeans, KMeansModel } from "../../src/ml/kmeans.ts";
import { LogisticRegression, LogisticRegressionModel } from "../../src/ml/logistic-regression.ts";
import { MulticlassClassificationEvaluator } from "../../src/ml/multiclass-classification-evaluator.ts";
import { StringIndexer, StringIndexerModel } from "../../src/ml/string-indexer.ts";
import { withPySpark } from "./helpers/pyspark-client.ts";

// LogisticRegression, KMeans, StringIndexer/IndexToString and MulticlassClassificationEvaluator
// driven through orchard's ML commands on the real server; results checked against computations
// made here (softmax of the fetched coefficients, counts of the predictions) and against PySpark,
// which loads what orchard saves and saves what orchard loads.

/** Three classes of different sizes around three centres (label frequencies 8, 6, 4). */
const CENTRES: Record<string, [number, number]> = { apple: [0, 0], pear: [5, 5], plum: [0, 6] };
const SIZES: Record<string, number> = { apple: 8, pear: 6, plum: 4 };
const OFFSETS: [number, number][] = [
  [0.3, -0.2],
  [-0.4, 0.1],
  [0.1, 0.5],
  [-0.2, -0.4],
  [0.5, 0.2],
  [-0.1, 0.3],
  [0.2, -0.5],
  [-0.5, -0.1],
];
const points = Object.entries(SIZES).flatMap(([label, n]) =>
  OFFSETS.slice(0, n).map(([dx, dy]) => {
    const [cx, cy] = CENTRES[label] as [number, number];
    return { label, f: [cx + dx, cy + dy] };
  }),
);

describe("Spark ML classification and clustering over Spark Connect", () => {
  const remote = inject("sparkRemote");
  const spark = SparkSession.builder.remote(remote).getOrCreate();
  const df = spark
    .createDataFrame(points, "label string, f array<double>")
    .select(col("label"), array_to_vector(col("f")).alias("features"));
  const base = `/tmp/orchard-ml-classification-${process.pid}-${Date.now()}`;
  let indexer: StringIndexerModel;
  let lr: LogisticRegressionModel;
  let kmeans: KMeansModel;

  beforeAll(async () => {
    indexer = await new StringIndexer({ inputCol: "label", outputCol: "y" }).fit(df);
    lr = await new LogisticRegression({ family: "multinomial", labelCol: "y", regParam: 0.05 }).fit(
      indexer.transform(df),
    );
    kmeans = await new KMeans({ k: 3, seed: 7 }).fit(df);
  });
  afterAll(async () => {
    await Promise.all([indexer?.close(), lr?.close(), kmeans?.close()]);
    await spark.stop();
  });

  it("StringIndexer orders labels by frequency; IndexToString maps the indices back", async () => {
    expect(await indexer.labels()).toEqual(["apple", "pear", "plum"]);
    const indexed = indexer.transform(df);
    const back = await new IndexToString({ inputCol: "y", outputCol: "name", labels: await indexer.labels() })
      .transform(indexed)
      .select("label", "y", "name")
      .collect();
    expect(back).toHaveLength(points.length);
    for (const r of back) {
      expect(r.get("name")).toBe(r.get("label"));
      expect(r.get("y")).toBe(["apple", "pear", "plum"].indexOf(String(r.get("label"))));
    }
  });

  it("LogisticRegression (multinomial): probabilities are the softmax of the fetched coefficients", async () => {
    expect(await lr.numClasses()).toBe(3);
    expect(await lr.numFeatures()).toBe(2);
    const w = await lr.coefficientMatrix();
    expect([w.numRows, w.numCols]).toEqual([3, 2]);
    const b = await lr.interceptVector();
    expect(b).toHaveLength(3);
    const rows = await lr
      .transform(indexer.transform(df))
      .select(
        vector_to_array(col("features")).alias("x"),
        vector_to_array(col("probability")).alias("p"),
        col("prediction"),
        col("y"),
      )
      .collect();
    for (const r of rows) {
      const x = r.get("x") as number[];
      const margins = [0, 1, 2].map(
        (k) => w.get(k, 0) * (x[0] as number) + w.get(k, 1) * (x[1] as number) + (b[k] as number),
      );
      const top = Math.max(...margins);
      const e = margins.map((m) => Math.exp(m - top));
      const sum = e.reduce((a, c) => a + c, 0);
      const p = r.get("p") as number[];
      p.forEach((v, k) => {
        expect(v).toBeCloseTo((e[k] as number) / sum, 9);
      });
      expect(r.get("prediction")).toBe(margins.indexOf(top));
      expect(r.get("prediction")).toBe(r.get("y"));
    }
  });

  it("MulticlassClassificationEvaluator: accuracy and F1 on the server agree with counts made here", async () => {
    // Relabel three rows wrongly so the metrics are not trivially 1.
    const predictions = lr
      .transform(indexer.transform(df))
      .withColumn("x", vector_to_array(col("features")))
      .selectExpr("CASE WHEN x[0] > 5.2 THEN 2.0 ELSE prediction END AS prediction", "y");
    const rows = (await predictions.collect()).map((r) => [Number(r.get("prediction")), Number(r.get("y"))]);
    const wrong = rows.filter(([p, y]) => p !== y).length;
    expect(wrong).toBeGreaterThan(0);
    const evaluator = new MulticlassClassificationEvaluator({ labelCol: "y", metricName: "accuracy" });
    expect(await evaluator.evaluate(predictions)).toBeCloseTo(1 - wrong / rows.length, 12);
    // Weighted F1, computed here from the confusion counts.
    let f1 = 0;
    for (const c of [0, 1, 2]) {
      const tp = rows.filter(([p, y]) => p === c && y === c).length;
      const predicted = rows.filter(([p]) => p === c).length;
      const actual = rows.filter(([, y]) => y === c).length;
      const precision = predicted ? tp / predicted : 0;
      const recall = tp / actual;
      f1 += (actual / rows.length) * (precision + recall ? (2 * precision * recall) / (precision + recall) : 0);
    }
    expect(await evaluator.setMetricName("f1").evaluate(predictions)).toBeCloseTo(f1, 12);
    expect(evaluator.isLargerBetter()).toBe(true);
    expect(evaluator.setMetricName("logLoss").isLargerBetter()).toBe(false);
  });

  it("KMeans finds the three centres; transform assigns each point to its nearest centre", async () => {
    const centres = await kmeans.clusterCenters();
    expect(centres).toHaveLength(3);
    expect(await kmeans.numFeatures()).toBe(2);
    // Each true centre has a found one within 0.5, and no found centre serves two.
    const nearest = Object.values(CENTRES).map(([x, y]) => {
      const d = centres.map((c) => Math.hypot((c[0] as number) - x, (c[1] as number) - y));
      expect(Math.min(...d)).toBeLessThan(0.5);
      return d.indexOf(Math.min(...d));
    });
    expect(new Set(nearest).size).toBe(3);
    const rows = await kmeans
      .transform(df)
      .select(vector_to_array(col("features")).alias("x"), "prediction", "label")
      .collect();
    const byLabel = new Map<string, Set<number>>();
    for (const r of rows) {
      const x = r.get("x") as number[];
      const d = centres.map((c) =>
        Math.hypot((c[0] as number) - (x[0] as number), (c[1] as number) - (x[1] as number)),
      );
      expect(r.get("prediction")).toBe(d.indexOf(Math.min(...d)));
      const set = byLabel.get(String(r.get("label"))) ?? new Set<number>();
      set.add(Number(r.get("prediction")));
      byLabel.set(String(r.get("label")), set);
    }
    expect([...byLabel.values()].map((s) => s.size)).toEqual([1, 1, 1]);
  });

  it("saves in Spark ML's format: PySpark loads each model, evaluator and transformer with its params", async () => {
    const uri = (name: string) => `file://${base}/${name}`;
    await Promise.all([
      lr.save(uri("lr"), { overwrite: true }),
      kmeans.save(uri("kmeans"), { overwrite: true }),
      indexer.save(uri("indexer"), { overwrite: true }),
      new IndexToString({ inputCol: "prediction", outputCol: "name", labels: ["a", "b"] }).save(spark, uri("its")),
      new MulticlassClassificationEvaluator({ metricName: "accuracy", labelCol: "y" }).save(spark, uri("eval")),
      new LogisticRegression({ maxIter: 17, family: "multinomial" }).save(spark, uri("lr-estimator")),
    ]);
    const py = await withPySpark<{
      lr: { classes: number; coef: number[][]; labelCol: string; family: string };
      km: { centres: number[][]; k: number };
      labels: string[];
      its: string[];
      metric: string;
      maxIter: number;
    }>(
      remote,
      [
        "from pyspark.ml.classification import LogisticRegression, LogisticRegressionModel",
        "from pyspark.ml.clustering import KMeansModel",
        "from pyspark.ml.feature import StringIndexerModel, IndexToString",
        "from pyspark.ml.evaluation import MulticlassClassificationEvaluator",
        `b = ${JSON.stringify(`file://${base}`)}`,
        "lr = LogisticRegressionModel.load(b + '/lr')",
        "km = KMeansModel.load(b + '/kmeans')",
        "print(json.dumps({",
        "  'lr': {'classes': lr.numClasses, 'coef': lr.coefficientMatrix.toArray().tolist(), 'labelCol': lr.getLabelCol(), 'family': lr.getFamily()},",
        "  'km': {'centres': [c.tolist() for c in km.clusterCenters()], 'k': km.getK()},",
        "  'labels': StringIndexerModel.load(b + '/indexer').labels,",
        "  'its': IndexToString.load(b + '/its').getLabels(),",
        "  'metric': MulticlassClassificationEvaluator.load(b + '/eval').getMetricName(),",
        "  'maxIter': LogisticRegression.load(b + '/lr-estimator').getMaxIter(),",
        "}))",
      ].join("\n"),
    );
    expect(py.lr.classes).toBe(3);
    expect(py.lr.labelCol).toBe("y");
    expect(py.lr.family).toBe("multinomial");
    expect(py.lr.coef).toEqual((await lr.coefficientMatrix()).toArray());
    expect(py.km.k).toBe(3);
    expect(py.km.centres).toEqual((await kmeans.clusterCenters()).map((c) => Array.from(c)));
    expect(py.labels).toEqual(["apple", "pear", "plum"]);
    expect(py.its).toEqual(["a", "b"]);
    expect(py.metric).toBe("accuracy");
    expect(py.maxIter).toBe(17);
  });

  it("loads what PySpark saves: models, evaluator and transformer, with their params and attributes", async () => {
    const py = await withPySpark<{ coef: number[][]; centres: number[][]; labels: string[] }>(
      remote,
      [
        "from pyspark.ml.classification import LogisticRegression",
        "from pyspark.ml.clustering import KMeans",
        "from pyspark.ml.feature import StringIndexer, IndexToString",
        "from pyspark.ml.evaluation import MulticlassClassificationEvaluator",
        "from pyspark.ml.linalg import Vectors",
        `b = ${JSON.stringify(`file://${base}/py`)}`,
        `rows = ${JSON.stringify(points.map((p) => [p.label, p.f]))}`,
        "df = spark.createDataFrame([(l, Vectors.dense(f)) for l, f in rows], ['fruit', 'v'])",
        "si = StringIndexer(inputCol='fruit', outputCol='idx', stringOrderType='alphabetDesc').fit(df)",
        "si.write().overwrite().save(b + '/indexer')",
        "lr = LogisticRegression(featuresCol='v', labelCol='idx', regParam=0.2, family='multinomial').fit(si.transform(df))",
        "lr.write().overwrite().save(b + '/lr')",
        "km = KMeans(featuresCol='v', k=3, seed=11).fit(df)",
        "km.write().overwrite().save(b + '/kmeans')",
        "IndexToString(inputCol='idx', outputCol='fruit2', labels=si.labels).write().overwrite().save(b + '/its')",
        "MulticlassClassificationEvaluator(metricName='weightedRecall', labelCol='idx').write().overwrite().save(b + '/eval')",
        "print(json.dumps({'coef': lr.coefficientMatrix.toArray().tolist(), 'centres': [c.tolist() for c in km.clusterCenters()], 'labels': si.labels}))",
      ].join("\n"),
    );
    const uri = (name: string) => `file://${base}/py/${name}`;
    const si = await StringIndexerModel.load(spark, uri("indexer"));
    const model = await LogisticRegressionModel.load(spark, uri("lr"));
    const km = await KMeansModel.load(spark, uri("kmeans"));
    try {
      expect(si.params).toMatchObject({ inputCol: "fruit", outputCol: "idx", stringOrderType: "alphabetDesc" });
      expect(await si.labels()).toEqual(py.labels);
      expect(py.labels).toEqual(["plum", "pear", "apple"]);
      expect(model.params).toMatchObject({ featuresCol: "v", labelCol: "idx", regParam: 0.2, family: "multinomial" });
      expect((await model.coefficientMatrix()).toArray()).toEqual(py.coef);
      expect(km.params).toMatchObject({ featuresCol: "v", k: 3, seed: 11 });
      expect((await km.clusterCenters()).map((c) => Array.from(c))).toEqual(py.centres);
      const its = await IndexToString.load(spark, uri("its"));
      expect(its.params).toEqual({ inputCol: "idx", outputCol: "fruit2", labels: py.labels });
      const ev = await MulticlassClassificationEvaluator.load(spark, uri("eval"));
      expect(ev.params).toMatchObject({ metricName: "weightedRecall", labelCol: "idx" });
      // The loaded pieces work together: index, classify, name the prediction, evaluate.
      const pyDf = df.withColumnRenamed("label", "fruit").withColumnRenamed("features", "v");
      const predicted = model.transform(si.transform(pyDf));
      expect(await ev.evaluate(predicted)).toBe(1);
      const named = await its.copy({ inputCol: "prediction" }).transform(predicted).select("fruit", "fruit2").collect();
      for (const r of named) expect(r.get("fruit2")).toBe(r.get("fruit"));
    } finally {
      await Promise.all([si.close(), model.close(), km.close()]);
    }
  });

  it("frees server-side models on close: using one afterwards is a server error", async () => {
    const temp = await new KMeans({ k: 2, seed: 1 }).fit(df);
    await temp.close();
    await expect(temp.clusterCenters()).rejects.toMatchObject({ kind: "server" });
  });
});
