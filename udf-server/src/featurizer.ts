/**
 * The featurizer: image bytes in, CNN feature vectors out. One instance holds one warm ONNX model
 * and is shared by every request of the sidecar; it never throws for a bad image (that image gets
 * an `error` string instead), and it keeps the order and the count of its input.
 */
import { SetupError } from "../../src/errors.ts";

/** What the loaded model is: reported by the sidecar's `DoAction("info")`. */
export interface ModelInfo {
  name: string;
  inputSize: [height: number, width: number];
  featureDim: number;
  threads: number;
  version: string;
}

/** The outcome for one image: either `features` or `error` is set. `width`/`height` are the original image size when decoded. */
export interface FeatureResult {
  features: Float32Array | null;
  error: string | null;
  width: number | null;
  height: number | null;
}

/** A loaded model with its preprocessing. */
export interface Featurizer {
  readonly info: ModelInfo;
  /** Decodes + preprocesses each image and runs the model on the whole batch. Never throws for a bad image: that image gets `error`. Order preserved. */
  featurize(images: ReadonlyArray<Uint8Array | null>): Promise<FeatureResult[]>;
  close(): Promise<void>;
}

/** How to load a featurizer. */
export interface FeaturizerOptions {
  /** Catalog name e.g. "efficientnet-lite0" (default), or a path to an .onnx file with a manifest.json beside it. */
  model: string;
  /** ONNX Runtime threads (default: the number of cores). */
  threads?: number;
  /** Largest accepted encoded image, in bytes (default 50 MB). */
  maxInputBytes?: number;
  /** Largest accepted decoded image, in pixels (default 100 MP). */
  maxPixels?: number;
  /** Cache root (default `~/.cache/orchard`, or `$ORCHARD_CACHE`). */
  cacheDir?: string;
}

/** Loads the model named by `options.model` and returns a ready featurizer. */
export async function loadFeaturizer(options: FeaturizerOptions): Promise<Featurizer> {
  throw new SetupError({ component: "model", message: `model loading is not implemented yet (${options.model})` });
}
