import type { ActionOptions, DataFrame } from "../connect/data-frame.ts";
import { col, count, lit } from "../connect/functions.ts";
import { MulticlassClassificationEvaluator } from "../ml/multiclass-classification-evaluator.ts";
import type { ClassifierMetrics, ConfusionMatrix } from "./train-summary.ts";

/**
 * The test-set figures of a classifier from its predictions (`labelCol` and `prediction`, both
 * class indices into `labels`): accuracy and weighted F1 from Spark's evaluator, and the confusion
 * matrix from one `groupBy(label, prediction).count()` on the server (a labels² table at most),
 * from which the macro F1 and per-class accuracy follow.
 */
export async function classifierMetrics(
  predictions: DataFrame,
  { labels, labelCol }: { labels: readonly string[]; labelCol: string },
  options?: ActionOptions,
): Promise<ClassifierMetrics> {
  const evaluator = new MulticlassClassificationEvaluator({ labelCol, predictionCol: "prediction" });
  const [accuracy, weightedF1, cells] = await Promise.all([
    evaluator.setMetricName("accuracy").evaluate(predictions, options),
    evaluator.setMetricName("f1").evaluate(predictions, options),
    predictions
      .groupBy(col(labelCol).cast("int").alias("truth"), col("prediction").cast("int").alias("predicted"))
      .agg(count(lit(1)).alias("n"))
      .collect(options),
  ]);
  const counts = labels.map(() => labels.map(() => 0));
  for (const r of cells) {
    const row = counts[Number(r.get("truth"))];
    if (row) row[Number(r.get("predicted"))] = Number(r.get("n"));
  }
  const confusionMatrix: ConfusionMatrix = { labels, counts };
  return { accuracy, weightedF1, ...perClass(confusionMatrix), confusionMatrix };
}

/** Macro F1 (over the classes that occur in the test set or the predictions) and per-class recall. */
export function perClass({ labels, counts }: ConfusionMatrix): {
  macroF1: number;
  perClassAccuracy: Record<string, number>;
} {
  const perClassAccuracy: Record<string, number> = {};
  let f1Sum = 0;
  let classes = 0;
  labels.forEach((label, i) => {
    const actual = (counts[i] ?? []).reduce((a, b) => a + b, 0);
    const predicted = counts.reduce((a, row) => a + (row[i] ?? 0), 0);
    const tp = counts[i]?.[i] ?? 0;
    if (actual > 0) perClassAccuracy[label] = tp / actual;
    if (actual === 0 && predicted === 0) return;
    classes++;
    const precision = predicted ? tp / predicted : 0;
    const recall = actual ? tp / actual : 0;
    f1Sum += precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
  });
  return { macroF1: classes ? f1Sum / classes : 0, perClassAccuracy };
}
