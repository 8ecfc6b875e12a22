/**
 * The featurizer: image bytes in, CNN feature vectors out. One instance holds one warm ONNX model
 * and is shared by every request of the sidecar; it never throws for a bad image (that image gets
 * an `error` string instead), and it keeps the order and the count of its input.
 */

import { createHash } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { ConfigError, SetupError } from "../../src/errors.ts";
import { DEFAULT_MODEL, defaultCacheDir, installCatalogModel, locateModel } from "./model/catalog.ts";
import { type ModelManifest, preprocessSpec, readManifest } from "./model/manifest.ts";
import { type BatchInput, SessionPool } from "./model/onnx-session.ts";
import { type DecodedImage, decodeImage } from "./preprocess/decode.ts";
import { ImageError } from "./preprocess/image-error.ts";
import { writeNchw, writeNhwc } from "./preprocess/normalise.ts";
import { DEFAULT_LIMITS, type ImageLimits, type PreprocessSpec } from "./preprocess/spec.ts";

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
  /** The classifier's scores (ImageNet logits for catalog models), only when loaded with `logits: true`. */
  logits?: Float32Array | null;
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
  /** Catalog name e.g. "efficientnet-lite0" (the default, `DEFAULT_MODEL`), or a path to an .onnx file (or its folder) with a manifest.json beside it. */
  model: string;
  /** ONNX Runtime threads in total (default: the number of cores). */
  threads?: number;
  /**
   * Number of ONNX sessions sharing `threads` (default: `threads`, i.e. one single-threaded
   * session per core, each in its own worker thread, running a slice of the batch). On 2 cores:
   * +10% model throughput over one 2-thread session when idle (368 vs 336 img/s) and 1.6-1.9x when
   * the cores are shared with busy Spark executors; see bench/model.
   */
  sessions?: number;
  /** Also return each image's classifier `logits` (the model must declare a `logits` output); for tests and demos. */
  logits?: boolean;
  /** Verify model.onnx against the manifest's sha256 before loading (default true). */
  verifyChecksum?: boolean;
  /** Largest accepted encoded image, in bytes (default 50 MB). */
  maxInputBytes?: number;
  /** Largest accepted decoded image, in pixels (default 100 MP). */
  maxPixels?: number;
  /** Cache root holding catalog models under `models/<name>/` (default `~/.cache/orchard`; the CLI passes `$ORCHARD_CACHE`). */
  cacheDir?: string;
}

/**
 * Loads the model named by `options.model` and returns a ready featurizer. A catalog model missing
 * from the cache is installed first (its set-up script downloads and converts it). Throws
 * `ConfigError` for a bad option or manifest and `SetupError` when the model cannot be installed or
 * loaded.
 */
export async function loadFeaturizer(options: FeaturizerOptions): Promise<Featurizer> {
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const threads = positiveInt(options.threads ?? availableParallelism(), "threads");
  const sessions = positiveInt(options.sessions ?? threads, "sessions");
  if (threads % sessions !== 0) {
    throw new ConfigError({ field: "sessions", expected: `a divisor of threads (${threads})` });
  }
  const limits: ImageLimits = {
    maxInputBytes: positiveInt(options.maxInputBytes ?? DEFAULT_LIMITS.maxInputBytes, "maxInputBytes"),
    maxPixels: positiveInt(options.maxPixels ?? DEFAULT_LIMITS.maxPixels, "maxPixels"),
  };
  const location = locateModel(options.model || DEFAULT_MODEL, cacheDir);
  if (location.catalogName !== null && !existsSync(location.manifestPath)) {
    await installCatalogModel(location.catalogName, cacheDir);
  }
  const manifest = await readManifest(location.manifestPath);
  const onnxPath = location.onnxPath ?? join(location.dir, manifest.file);
  if (!existsSync(onnxPath)) {
    throw new SetupError({
      component: "model",
      message: `model file not found: ${onnxPath} (named by ${location.manifestPath})`,
    });
  }
  if (options.verifyChecksum !== false && manifest.sha256 !== undefined) {
    const got = await sha256File(onnxPath);
    if (got !== manifest.sha256) {
      throw new SetupError({
        component: "model",
        message: `checksum mismatch for ${onnxPath}: manifest says ${manifest.sha256}, file is ${got}${location.catalogName ? ` (re-run ${"scripts/setup-model.sh"})` : ""}`,
      });
    }
  }
  const logitsOutput = options.logits ? manifest.outputs.logits : undefined;
  if (options.logits && logitsOutput === undefined) {
    throw new ConfigError({ field: "logits", expected: "false for a model whose manifest declares no outputs.logits" });
  }
  const pool = await SessionPool.open({
    onnxPath,
    inputName: manifest.input.name,
    outputs: logitsOutput ? [manifest.outputs.features, logitsOutput] : [manifest.outputs.features],
    sessions,
    threadsPerSession: threads / sessions,
  });
  return new OnnxFeaturizer(manifest, pool, limits, threads, logitsOutput ?? null);
}

function positiveInt(value: number, field: string): number {
  if (!Number.isInteger(value) || value <= 0) throw new ConfigError({ field, expected: "a positive integer" });
  return value;
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

class OnnxFeaturizer implements Featurizer {
  readonly info: ModelInfo;
  private readonly spec: PreprocessSpec;

  constructor(
    private readonly manifest: ModelManifest,
    private readonly pool: SessionPool,
    private readonly limits: ImageLimits,
    threads: number,
    private readonly logitsOutput: string | null,
  ) {
    this.spec = preprocessSpec(manifest);
    this.info = {
      name: manifest.name,
      inputSize: manifest.input.size,
      featureDim: manifest.featureDim,
      threads,
      version: manifest.version,
    };
  }

  async featurize(images: ReadonlyArray<Uint8Array | null>): Promise<FeatureResult[]> {
    const decoded = await Promise.all(
      images.map((bytes) =>
        decodeImage(bytes, this.spec, this.limits).then(
          (img): DecodedImage | string => img,
          (err: unknown) => (err instanceof ImageError ? err.message : `decode: ${String(err)}`),
        ),
      ),
    );
    const results: FeatureResult[] = decoded.map((d) =>
      typeof d === "string"
        ? { features: null, error: d, width: null, height: null }
        : { features: null, error: null, width: d.width, height: d.height },
    );
    const ok = decoded.flatMap((d, i) => (typeof d === "string" ? [] : [{ i, d }]));
    if (ok.length === 0) return results;
    const input = this.batch(ok.map((o) => o.d));
    const dim = this.manifest.featureDim;
    try {
      const out = await this.pool.run(input, ok.length);
      const features = out[this.manifest.outputs.features];
      if (!features || features.dim !== dim) {
        throw new SetupError({
          component: "model",
          message: `model output ${this.manifest.outputs.features} has ${features?.dim} values per image, manifest says ${dim}`,
        });
      }
      const logits = this.logitsOutput === null ? undefined : out[this.logitsOutput];
      for (const [k, { i }] of ok.entries()) {
        const r = results[i] as FeatureResult;
        r.features = features.data.slice(k * dim, (k + 1) * dim);
        if (logits) r.logits = logits.data.slice(k * logits.dim, (k + 1) * logits.dim);
      }
    } catch (err) {
      const message = `model: ${err instanceof Error ? err.message : String(err)}`;
      for (const { i } of ok) Object.assign(results[i] as FeatureResult, { error: message, width: null, height: null });
    }
    return results;
  }

  private batch(images: DecodedImage[]): BatchInput {
    const [h, w] = this.spec.size;
    const area = h * w;
    if (this.spec.inputFormat === "uint8-nhwc") {
      const data = new Uint8Array(images.length * area * 3);
      for (const [k, img] of images.entries()) writeNhwc(img.pixels, data, k, area);
      return { data, dims: [images.length, h, w, 3] };
    }
    const data = new Float32Array(images.length * area * 3);
    for (const [k, img] of images.entries()) writeNchw(img.pixels, data, k, area, this.spec.mean, this.spec.std);
    return { data, dims: [images.length, 3, h, w] };
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}
