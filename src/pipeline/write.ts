import type { ActionOptions, DataFrame } from "../connect/data-frame.ts";
import type { SparkSession } from "../connect/spark-session.ts";
import type { PCAModel } from "../ml/pca.ts";
import { FILE_STATE_COLUMNS } from "./file-state.ts";
import { type ModelMetadata, OUTPUT_LAYOUT, outputPath } from "./output-layout.ts";
import type { OutputStore } from "./output-store.ts";

/** The columns of `data/`, in order (DESIGN.md's output schema). */
export function outputColumns(keepFeatures: boolean): string[] {
  return ["path", "label", "width", "height", ...(keepFeatures ? ["features"] : []), "pca", "error"];
}

/**
 * Step 4, write: `data/` as Parquet (one row per input file), `files/` (the files' state, see
 * file-state.ts) when given, and, when a model was fitted in this run, `pca-model/` in Spark ML's
 * format with orchard's metadata (`pca-model/orchard.json`, through `store`) beside Spark's own. Returns the number of rows in `data/` read back from
 * storage (0 with `fitOnly`), so the caller can check that nothing was lost. It writes in place:
 * {@link runPipeline} gives it the run's attempt folder and publishes that with `publishOutput`
 * (publish-output.ts), so that readers never see a part of a run.
 */
export async function writeOutput(
  spark: SparkSession,
  projected: DataFrame,
  {
    output,
    mode,
    keepFeatures,
    model,
    fileStates,
    store,
    fitOnly,
    actionOptions,
  }: {
    output: string;
    mode: "overwrite" | "errorifexists";
    keepFeatures: boolean;
    model: { model: PCAModel; metadata: ModelMetadata } | undefined;
    fileStates?: DataFrame | undefined;
    store: OutputStore;
    fitOnly: boolean;
    actionOptions?: ActionOptions;
  },
): Promise<number> {
  // The model and the data are independent writes: Spark Connect runs a session's operations
  // concurrently, and each is a few short jobs, so overlapping them hides one's latency.
  await Promise.all([
    model &&
      (async () => {
        await model.model.save(outputPath(output, OUTPUT_LAYOUT.pcaModel), { overwrite: mode === "overwrite" });
        await store.put(
          `${OUTPUT_LAYOUT.pcaModel}/${OUTPUT_LAYOUT.modelMetadata}`,
          `${JSON.stringify(model.metadata, null, 2)}\n`,
          "application/json",
        );
      })(),
    fitOnly
      ? undefined
      : projected
          .select(...outputColumns(keepFeatures))
          .write.mode(mode)
          .parquet(outputPath(output, OUTPUT_LAYOUT.data), undefined, actionOptions),
    fileStates
      ?.select(...FILE_STATE_COLUMNS)
      .write.mode(mode)
      .parquet(outputPath(output, OUTPUT_LAYOUT.files), undefined, actionOptions),
  ]);
  return fitOnly ? 0 : spark.read.parquet(outputPath(output, OUTPUT_LAYOUT.data)).count(actionOptions);
}
