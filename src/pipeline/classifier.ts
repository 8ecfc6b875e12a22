import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { basename, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { type DirectFeaturizer, directFeaturizer } from "@orchard/udf-server";
import type { Column } from "../connect/column.ts";
import type { ActionOptions, DataFrame } from "../connect/data-frame.ts";
import {
  array_to_vector,
  callFunction,
  col,
  element_at,
  lit,
  slice,
  sort_array,
  struct,
  transform,
  vector_to_array,
  when,
} from "../connect/functions.ts";
import type { Row } from "../connect/row.ts";
import type { SparkSession } from "../connect/spark-session.ts";
import { LogisticRegressionModel } from "../ml/logistic-regression.ts";
import { PCAModel } from "../ml/pca.ts";
import type { S3Access } from "../s3.ts";
import { type FeaturizeOptions, featurize } from "./featurize.ts";
import { type ClassifierManifest, MODEL_LAYOUT } from "./model-layout.ts";
import { outputPath } from "./output-layout.ts";
import { outputStore } from "./output-store.ts";
import { PipelineError } from "./pipeline-error.ts";

/** One image's answer. */
export interface Prediction {
  readonly path: string;
  /** The most probable label (null when the image failed). */
  readonly label: string | null;
  /** Its probability. */
  readonly probability: number | null;
  /** The five most probable labels, most probable first (fewer when there are fewer classes). */
  readonly top5: readonly { readonly label: string; readonly probability: number }[] | null;
  /** Why the image could not be classified (null when it was). */
  readonly error: string | null;
}

/** The columns of `orchard predict`'s output, in order. */
export const PREDICTION_COLUMNS = ["path", "label", "probability", "top5", "error"] as const;

/**
 * Where {@link Classifier.predict} featurizes its images: `driver` in this process, straight from the
 * sidecar at the classifier's `sidecar` address (one Flight round trip; no Spark job, no bridge
 * process), `executors` through Spark's TRANSFORM and the bridges like `orchard predict`, `auto`
 * (default) the driver when a `secretFile` is given and the sidecar there proves that secret at load,
 * else the executors.
 */
export type FeaturizeOn = "driver" | "executors" | "auto";

/** The sidecar's default address (DESIGN.md). */
const DEFAULT_SIDECAR = "127.0.0.1:8815";
const TOP5_TYPE = "array<struct<label:string,probability:double>>";
const FEATURES = "_orchard_features_vec";
const PROJECTED = "_orchard_projected";
const VECTOR = "_orchard_pca_vec";
const PROBABILITY = "_orchard_probability";

/**
 * A trained classifier folder (`orchard train`), loaded into a Spark session: the PCA, the
 * classifier and the labels, ready to classify featurized images. Hold one for many calls (the
 * mobile app's case: load once, then {@link predict} a photo at a time); {@link close} frees the
 * server-side models.
 */
export class Classifier {
  readonly spark: SparkSession;
  readonly manifest: ClassifierManifest;
  readonly #pca: PCAModel;
  readonly #model: LogisticRegressionModel;
  readonly #featurize: Omit<FeaturizeOptions, "view">;
  readonly #direct: DirectFeaturizer | null;

  private constructor(
    spark: SparkSession,
    manifest: ClassifierManifest,
    pca: PCAModel,
    model: LogisticRegressionModel,
    featurizeOptions: Omit<FeaturizeOptions, "view">,
    direct: DirectFeaturizer | null,
  ) {
    this.spark = spark;
    this.manifest = manifest;
    this.#pca = pca;
    this.#model = model;
    this.#featurize = featurizeOptions;
    this.#direct = direct;
  }

  /** Where {@link predict} featurizes: in this process (`driver`) or on Spark's executors. */
  get featurizesOn(): "driver" | "executors" {
    return this.#direct ? "driver" : "executors";
  }

  /**
   * Loads the classifier folder `uri` (`file://...`, `s3a://...` or a path the server can read).
   * `sidecar` (default `127.0.0.1:8815`) and `bridge` say where {@link predict}'s images are
   * featurized, as in `orchard run`; `secretFile` is the sidecar's secret file when the executors
   * run on this machine (default: each bridge's own node's); `s3` is how the driver reads the
   * manifest on S3; `featurizeOn` is where {@link predict} featurizes (see {@link FeaturizeOn}).
   */
  static async load(
    spark: SparkSession,
    uri: string,
    {
      s3,
      sidecar = DEFAULT_SIDECAR,
      bridge,
      secretFile,
      featurizeOn = "auto",
    }: { s3?: S3Access; sidecar?: string; bridge?: string; secretFile?: string; featurizeOn?: FeaturizeOn } = {},
  ): Promise<Classifier> {
    let manifest: ClassifierManifest;
    try {
      manifest = JSON.parse(
        new TextDecoder().decode(await outputStore(uri, s3).get(MODEL_LAYOUT.manifest)),
      ) as ClassifierManifest;
    } catch (cause) {
      throw new PipelineError({
        message: `${uri} is not a classifier folder of orchard train (no readable ${MODEL_LAYOUT.manifest})`,
        cause,
      });
    }
    if (manifest.orchardClassifier !== 1 || !Array.isArray(manifest.labels)) {
      throw new PipelineError({ message: `${uri}/${MODEL_LAYOUT.manifest} is not an orchard classifier manifest` });
    }
    if (featurizeOn === "driver" && secretFile === undefined) {
      throw new PipelineError({ message: 'featurizeOn "driver" needs secretFile: the sidecar\'s secret file' });
    }
    const connect =
      featurizeOn === "executors" || secretFile === undefined
        ? Promise.resolve(null)
        : directFeaturizer(sidecar, { secretFile }).catch((cause: unknown) => {
            if (featurizeOn === "auto") return null;
            throw new PipelineError({
              message: `featurizeOn "driver": no sidecar that proves the secret answers at ${sidecar}: ${(cause as Error).message}`,
              cause,
            });
          });
    const [pca, model, direct] = await Promise.all([
      PCAModel.load(spark, outputPath(uri, manifest.parts.pcaModel)),
      LogisticRegressionModel.load(spark, outputPath(uri, manifest.parts.classifier)),
      connect,
    ]).catch(async (err: unknown) => {
      (await connect.catch(() => null))?.close();
      throw err;
    });
    return new Classifier(
      spark,
      manifest,
      pca,
      model,
      { sidecar, ...(bridge ? { bridge } : {}), ...(secretFile ? { secretFile } : {}) },
      direct,
    );
  }

  /**
   * Lazily classifies `featurized` (the featurize step's rows: `path, features, error`, ...): one
   * row out per row in, as `path, label, probability, top5, error`; a row whose image failed keeps
   * its error and has null predictions.
   */
  classify(featurized: DataFrame): DataFrame {
    const { k, featureDimension, labels } = this.manifest;
    // One pass, no union: a failed row gets zero features so the models can run over it, and its
    // predictions are nulled afterwards (a union would run the featurize step once per branch).
    const ok = col("error").isNull().and(col("features").isNotNull());
    const zeros = callFunction("array_repeat", lit(0).cast("float"), lit(featureDimension));
    const projected = this.#pca
      .transform(featurized.withColumn(FEATURES, array_to_vector(when(ok, col("features")).otherwise(zeros))), {
        inputCol: FEATURES,
        outputCol: PROJECTED,
      })
      .withColumn(VECTOR, array_to_vector(slice(vector_to_array(col(PROJECTED)), 1, k)));
    const scored = this.#model.transform(projected, {
      featuresCol: VECTOR,
      probabilityCol: PROBABILITY,
      predictionCol: "_orchard_prediction",
      rawPredictionCol: "_orchard_raw",
    });
    // Sorting (−p, label, p) structs ascending puts the most probable first, ties by label.
    const names = lit([...labels]);
    const ranked = sort_array(
      transform(vector_to_array(col(PROBABILITY)), (p, i) =>
        struct(p.negate().alias("k"), element_at(names, i.plus(1)).alias("label"), p.alias("probability")),
      ),
    );
    const top5: Column = transform(slice(ranked, 1, 5), (t) =>
      struct(t.getField("label").alias("label"), t.getField("probability").alias("probability")),
    );
    return scored
      .withColumn("top5", when(ok, top5).otherwise(lit(null).cast(TOP5_TYPE)))
      .select(
        col("path"),
        element_at(col("top5"), 1).getField("label").alias("label"),
        element_at(col("top5"), 1).getField("probability").alias("probability"),
        col("top5"),
        col("error"),
      );
  }

  /**
   * Classifies a handful of local image files (or named bytes): the driver reads them and sends
   * them with the query, Spark's executor feeds them to the sidecar through the bridge, and the
   * answers come back in input order. For a few photos at a time (the mobile app's case); a folder
   * of many goes through `orchard predict`, which Spark reads in parallel.
   */
  async predict(
    images: readonly (string | { readonly name: string; readonly bytes: Uint8Array })[],
    options?: ActionOptions,
  ): Promise<Prediction[]> {
    if (images.length === 0) return [];
    const rows = await Promise.all(
      images.map(async (image, i) => {
        if (typeof image !== "string") {
          return { path: `upload:/${i}/${basename(image.name)}`, content: image.bytes, length: image.bytes.length };
        }
        const path = pathToFileURL(resolve(image)).href;
        try {
          const content = new Uint8Array(await readFile(image));
          return { path, content, length: content.length };
        } catch (cause) {
          throw new PipelineError({ message: `cannot read ${image}: ${(cause as Error).message}`, cause });
        }
      }),
    );
    if (this.#direct) {
      const answered = await this.#direct.featurize(rows.map((r) => ({ id: r.path, bytes: r.content })));
      const featurized = this.spark.createDataFrame(
        answered.map((a) => ({
          path: a.id,
          features: a.features ? Array.from(a.features) : null,
          error: a.error,
        })),
        "path string, features array<float>, error string",
      );
      return predictions(rows, await this.classify(featurized).collect(options));
    }
    const view = `orchard_predict_${randomBytes(6).toString("hex")}`;
    const files = this.spark.createDataFrame(rows, "path string, content binary, length bigint");
    try {
      const featurized = await featurize(this.spark, files, { ...this.#featurize, view });
      return predictions(rows, await this.classify(featurized).collect(options));
    } finally {
      // Not awaited: the answer does not wait for the clean-up's round trip.
      void this.spark
        .sql(`DROP VIEW IF EXISTS ${view}`)
        .collect()
        .catch(() => undefined);
    }
  }

  /** Frees the server-side models (and the direct connection to the sidecar). */
  async close(): Promise<void> {
    this.#direct?.close();
    await Promise.all([this.#pca.close(), this.#model.close()]);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** The classified rows in the order of the images asked for. */
function predictions(asked: readonly { readonly path: string }[], out: readonly Row[]): Prediction[] {
  const byPath = new Map(out.map((r) => [String(r.get("path")), r]));
  return asked.map(({ path }) => {
    const r = byPath.get(path);
    if (!r) throw new PipelineError({ message: `no prediction came back for ${path}` });
    const top5 = r.get("top5") as Row[] | null;
    return {
      path,
      label: (r.get("label") as string | null) ?? null,
      probability: (r.get("probability") as number | null) ?? null,
      top5: top5?.map((t) => ({ label: String(t.get("label")), probability: Number(t.get("probability")) })) ?? null,
      error: (r.get("error") as string | null) ?? null,
    };
  });
}
