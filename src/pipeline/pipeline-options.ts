import type { ImageTransport } from "./featurize.ts";
import type { IncrementalOptions } from "./incremental-plan.ts";

/**
 * Everything one pipeline run needs, already validated (the CLI parses and checks it once, at the
 * edge, with zod; library callers build it themselves). Nothing below reads the environment.
 */
export interface PipelineOptions {
  /** Folder of images, as the Spark server sees it: `file:///...` or `s3a://bucket/prefix`. */
  readonly input: string;
  /** Output folder URI (`data/`, `pca-model/`, `run.json`, `report.html` go inside). */
  readonly output: string;
  /** Fixed number of components, or the smallest k explaining this share of the variance. */
  readonly reduction: { readonly k: number } | { readonly variance: number };
  /** Keep the CNN features in `data/` as `features array<float>`. */
  readonly keepFeatures: boolean;
  /** Take at most this many images per class (deterministically: by hash of the path). */
  readonly samplePerClass?: number;
  /** File extensions to read, lower case, without the dot. */
  readonly extensions: readonly string[];
  /** Number of featurize tasks; derived from the cluster's cores and the image count when absent. */
  readonly partitions?: number;
  /** `overwrite` replaces an existing output folder; `errorifexists` refuses to. */
  readonly mode: "overwrite" | "errorifexists";
  /** `host:port` of the sidecar on each executor's node (the bridge Spark runs feeds it). */
  readonly sidecar: string;
  /**
   * How the images reach the sidecars (default `path`): `path` sends only the paths of a `file:`
   * input, and each node's sidecar reads the files itself (an input on another file system still
   * goes as `bytes`); `bytes` sends the images' bytes through the TRANSFORM pipe. See bench/README.md.
   */
  readonly imageTransport?: ImageTransport;
  /** The command Spark's executors run instead of this install's bridge (see `FeaturizeOptions.bridge`). */
  readonly bridge?: string;
  /**
   * The sidecar's secret file as a path on the Spark server's machine, passed to the bridges when
   * the executors run there (`local[...]`, `local-cluster[...]`); see `FeaturizeOptions.secretFile`.
   */
  readonly sidecarSecretFile?: string;
  /**
   * The model the run asked for, as the bridges check it against each sidecar's `info`: its name
   * and, when the driver could read the model's files, the SHA-256 of its ONNX file. Recorded in
   * run.json (`model`).
   */
  readonly expectedModel?: ExpectedModel;
  /** The CNN the sidecar serves, recorded beside a saved model (`pca-model/orchard.json`). */
  readonly model?: string;
  /** An existing PCA model (Spark ML format) to project with instead of fitting one. */
  readonly pcaModel?: string;
  /** Fit the PCA and save the model, but do not write `data/` (`orchard fit`). */
  readonly fitOnly?: boolean;
  /**
   * Update the earlier run's output instead of replacing it (`orchard run --incremental`): only
   * the files that are new or changed since are featurized (see run-incremental.ts).
   */
  readonly incremental?: IncrementalOptions & {
    /** With `refit`, the reduction to fit (default: the earlier run's k); ignored otherwise. */
    readonly reduction?: { readonly k: number } | { readonly variance: number };
  };
}

/** A model's name and the SHA-256 of its ONNX file (null when the driver could not read it). */
export interface ExpectedModel {
  readonly name: string;
  readonly sha256: string | null;
}

/**
 * The image extensions read by default (both cases are matched): the formats the sidecar decodes.
 * Not `bmp`: libvips (sharp) cannot read it, so every BMP would be an error row; a user who wants
 * those rows anyway names it in `--extensions`.
 */
export const DEFAULT_EXTENSIONS = ["jpg", "jpeg", "png", "webp", "gif", "tif", "tiff", "avif"] as const;
