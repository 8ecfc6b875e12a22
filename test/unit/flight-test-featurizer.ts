/**
 * A Featurizer test double for the unit tests of the Flight server and the bridge: features are
 * a deterministic function of the bytes, so a test can compute what it expects. Images whose
 * bytes start with "BAD" fail, like an undecodable image; null and empty fail too.
 */
import type { FeatureResult, Featurizer, ModelInfo } from "../../udf-server/src/featurizer.ts";

const TEST_FEATURE_DIM = 4;

/** What the double returns for one image. */
export function expectedResult(image: Uint8Array | null): FeatureResult {
  if (image === null) return { features: null, error: "no content", width: null, height: null };
  if (image.length === 0) return { features: null, error: "empty content", width: null, height: null };
  if (image[0] === 66 && image[1] === 65 && image[2] === 68) {
    return { features: null, error: "cannot decode image", width: null, height: null };
  }
  let sum = 0;
  for (const b of image) sum += b;
  const features = new Float32Array([image.length, sum, image[0] ?? 0, sum / image.length / 3]);
  return { features, error: null, width: image.length, height: (image[0] ?? 0) + 1 };
}

export interface TestFeaturizer extends Featurizer {
  /** Sizes of the batches featurize() was called with. */
  readonly batchSizes: number[];
  /** Most batches running at the same time. */
  readonly maxConcurrent: number;
  closed: boolean;
}

/** A featurizer double taking `delayMs` per batch. */
export function testFeaturizer(delayMs = 0): TestFeaturizer {
  const batchSizes: number[] = [];
  let running = 0;
  let maxConcurrent = 0;
  const info: ModelInfo = {
    name: "test-double",
    inputSize: [8, 8],
    featureDim: TEST_FEATURE_DIM,
    threads: 1,
    device: "cpu",
    sha256: "ab".repeat(32),
    version: "0",
  };
  return {
    info,
    batchSizes,
    get maxConcurrent() {
      return maxConcurrent;
    },
    closed: false,
    async featurize(images) {
      batchSizes.push(images.length);
      running++;
      maxConcurrent = Math.max(maxConcurrent, running);
      await new Promise((r) => setTimeout(r, delayMs));
      running--;
      return images.map(expectedResult);
    },
    async close() {
      this.closed = true;
    },
  };
}

/**
 * `featurizer` whose first `failures` featurize() calls reject (a model or runtime fault, not a
 * bad image); the later ones answer normally. `failed()` counts the rejections.
 */
export function failingFirst<F extends Featurizer>(featurizer: F, failures = 1): F & { failed(): number } {
  let failed = 0;
  const featurize = featurizer.featurize.bind(featurizer);
  return Object.assign(featurizer, {
    failed: () => failed,
    async featurize(images: ReadonlyArray<Uint8Array | null>): Promise<FeatureResult[]> {
      if (failed < failures) {
        failed++;
        throw new Error("inference failed: ONNX worker exited (code 3)");
      }
      return featurize(images);
    },
  });
}
