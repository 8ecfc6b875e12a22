/**
 * The featurizer: image bytes in, CNN feature vectors out. One instance holds one warm ONNX model
 * and is shared by every request of the sidecar; it never throws for a bad image (that image gets
 * an `error` string instead), and it keeps the order and the count of its input. It does throw
 * when the model itself fails (inference error, dead worker thread): that is not data, and the
 * caller fails the batch so it is retried.
 */

import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { ConfigError, SetupError } from "./errors.ts";
import { DEFAULT_MODEL, defaultCacheDir, installCatalogModel, locateModel } from "./model/catalog.ts";
import { type CpuFacts, checkCpuSupports } from "./model/cpu-support.ts";
import {
  cudaUnavailableMessage,
  DEVICE_CHOICES,
  type Device,
  type DeviceChoice,
  devicesToTry,
  executionProviders,
} from "./model/execution-device.ts";
import { type ModelManifest, preprocessSpec, readManifest } from "./model/manifest.ts";
import { sha256File } from "./model/model-identity.ts";
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
  /** SHA-256 (hex) of the model's ONNX file (the manifest's `file`): the model's identity, checked by the bridges. */
  sha256: string;
  /** Where the model runs: ONNX Runtime's CPU or CUDA execution provider (`--device`). */
  device: Device;
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
  /** The model's sessions: how many are alive out of how many, and worker threads replaced so far. */
  readonly sessions?: { readonly alive: number; readonly total: number; readonly restarts: number };
  /** Why the model runs on `info.device` rather than the device asked for (`--device auto` without CUDA), if it does. */
  readonly deviceNote?: string | null;
  /**
   * Decodes + preprocesses each image and runs the model on the whole batch. Never throws for a
   * bad image: that image gets `error`. Order preserved. Rejects (`SetupError`, component
   * `model`) when the model or its runtime fails: no image is blamed for that.
   */
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
  /**
   * With a manifest `raw` graph (centre-crop models): images at most this many pixels wide and
   * high (after EXIF orientation) are decoded without resizing and resized inside ONNX Runtime
   * (faster than sharp's resize + JS normalisation); larger ones are resized by sharp and only
   * cropped and normalised in the graph. Bounds the raw tensors' memory. Default 512; 0 = do not
   * use the raw graph (model.onnx, sharp resize + crop, JS normalisation).
   */
  rawMaxSide?: number;
  /** The CPU the model's needs are checked against (cpu-support.ts); this machine's by default. */
  cpu?: CpuFacts;
  /** Cache root holding catalog models under `models/<name>/` (default `~/.cache/orchard`; the CLI passes `$ORCHARD_CACHE`). */
  cacheDir?: string;
  /** The sessions' worker thread script (default: orchard's ONNX worker); fault tests give one that crashes. */
  workerScript?: string;
  /**
   * Where the model runs (default `cpu`): `cuda` needs onnxruntime-node's CUDA execution provider
   * and fails (`SetupError`, naming `--device`) without it; `auto` uses CUDA when it loads, else CPU.
   * On CUDA one session runs each batch whole (`sessions` defaults to 1).
   */
  device?: DeviceChoice;
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
  const deviceChoice = options.device ?? "cpu";
  if (!(DEVICE_CHOICES as readonly string[]).includes(deviceChoice)) {
    throw new ConfigError({ field: "device", expected: DEVICE_CHOICES.join(", ") });
  }
  const { devices, skipped } = devicesToTry(deviceChoice);
  if (devices.length === 0) {
    throw new SetupError({ component: "model", message: cudaUnavailableMessage(skipped ?? "CUDA is not available") });
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
  checkCpuSupports(manifest, options.cpu);
  const onnxPath = location.onnxPath ?? join(location.dir, manifest.file);
  const sha256 = await checkFile(onnxPath, manifest.sha256, options, location);
  const rawMaxSide = options.rawMaxSide ?? DEFAULT_RAW_MAX_SIDE;
  if (!Number.isInteger(rawMaxSide) || rawMaxSide < 0) {
    throw new ConfigError({ field: "rawMaxSide", expected: "a non-negative integer (0 = no raw path)" });
  }
  // The raw graph is an optional accelerator: a manifest copied without its file (e.g. a user
  // model made from a catalog one) falls back to model.onnx. A present but altered file is refused.
  const rawFile = manifest.raw ? join(location.dir, manifest.raw.file) : null;
  const raw =
    manifest.raw && rawFile && existsSync(rawFile) && rawMaxSide > 0 && manifest.preprocess.resize === "center-crop"
      ? manifest.raw
      : null;
  const rawPath = raw ? rawFile : null;
  if (rawPath !== null) await checkFile(rawPath, raw?.sha256, options, location);
  const logitsOutput = options.logits ? manifest.outputs.logits : undefined;
  if (options.logits && logitsOutput === undefined) {
    throw new ConfigError({ field: "logits", expected: "false for a model whose manifest declares no outputs.logits" });
  }
  // With a raw graph, only that graph is loaded (one session per core, not two): large images are
  // resized by sharp but cropped inside the graph, whose own resize is then the identity.
  let deviceNote = skipped === null ? null : `--device ${deviceChoice}: ${skipped}`;
  for (const device of devices) {
    const deviceSessions = device === "cuda" ? (options.sessions ?? 1) : sessions;
    try {
      const pool = await SessionPool.open({
        onnxPath: rawPath ?? onnxPath,
        inputName: raw ? raw.input : manifest.input.name,
        outputs: logitsOutput ? [manifest.outputs.features, logitsOutput] : [manifest.outputs.features],
        sessions: deviceSessions,
        threadsPerSession: Math.max(1, Math.floor(threads / deviceSessions)),
        executionProviders: executionProviders(device),
        ...(options.workerScript === undefined ? {} : { workerScript: options.workerScript }),
      });
      const where = { device, note: deviceNote };
      return new OnnxFeaturizer(
        manifest,
        sha256,
        pool,
        raw ? rawMaxSide : null,
        limits,
        threads,
        logitsOutput ?? null,
        where,
      );
    } catch (err) {
      if (device === "cpu") throw err;
      const why = `onnxruntime-node's CUDA execution provider did not load (${err instanceof Error ? err.message : String(err)})`;
      if (deviceChoice === "cuda")
        throw new SetupError({ component: "model", message: cudaUnavailableMessage(why), cause: err });
      deviceNote = `--device auto: ${why}`;
    }
  }
  throw new SetupError({ component: "model", message: `no device to run the model on (--device ${deviceChoice})` });
}

/** Default `rawMaxSide`: a 512x512 RGB image is 768 KiB, a batch of 16 about 12 MiB of raw input. */
const DEFAULT_RAW_MAX_SIDE = 512;

/** Checks that `path` exists and matches the manifest's `sha256` (when given and verified); returns the file's SHA-256. */
async function checkFile(
  path: string,
  sha256: string | undefined,
  options: FeaturizerOptions,
  location: { manifestPath: string; catalogName: string | null },
): Promise<string> {
  if (!existsSync(path)) {
    throw new SetupError({
      component: "model",
      message: `model file not found: ${path} (named by ${location.manifestPath})`,
    });
  }
  const got = await sha256File(path);
  if (options.verifyChecksum !== false && sha256 !== undefined && got !== sha256) {
    throw new SetupError({
      component: "model",
      message: `checksum mismatch for ${path}: manifest says ${sha256}, file is ${got}${location.catalogName ? ` (re-run ${"scripts/setup-model.sh"})` : ""}`,
    });
  }
  return got;
}

function positiveInt(value: number, field: string): number {
  if (!Number.isInteger(value) || value <= 0) throw new ConfigError({ field, expected: "a positive integer" });
  return value;
}

/** The error of an image whose features hold a NaN or an infinity. */
export const NON_FINITE_FEATURES = "model: non-finite features (NaN or infinity)";

class OnnxFeaturizer implements Featurizer {
  readonly info: ModelInfo;
  private readonly spec: PreprocessSpec;

  constructor(
    private readonly manifest: ModelManifest,
    sha256: string,
    private readonly pool: SessionPool,
    /** Set when `pool` runs the manifest's raw graph: the `rawMaxSide` images are decoded with. */
    private readonly rawMaxSide: number | null,
    private readonly limits: ImageLimits,
    threads: number,
    private readonly logitsOutput: string | null,
    where: { device: Device; note: string | null },
  ) {
    this.spec = preprocessSpec(manifest);
    this.info = {
      name: manifest.name,
      inputSize: manifest.input.size,
      featureDim: manifest.featureDim,
      threads,
      version: manifest.version,
      sha256,
      device: where.device,
    };
    this.deviceNote = where.note;
  }

  readonly deviceNote: string | null;

  get sessions(): { alive: number; total: number; restarts: number } {
    return { alive: this.pool.alive, total: this.pool.size, restarts: this.pool.restarts };
  }

  async featurize(images: ReadonlyArray<Uint8Array | null>): Promise<FeatureResult[]> {
    const decoded = await Promise.all(
      images.map((bytes) =>
        decodeImage(bytes, this.spec, this.limits, this.rawMaxSide ?? undefined).then(
          (img): DecodedImage | string => img,
          // An ImageError is the image's fault (its row's error); anything else is a fault of the
          // decoder itself and fails the batch, like a model failure.
          (err: unknown) => {
            if (err instanceof ImageError) return err.message;
            throw err;
          },
        ),
      ),
    );
    const results: FeatureResult[] = decoded.map((d) =>
      typeof d === "string"
        ? { features: null, error: d, width: null, height: null }
        : { features: null, error: null, width: d.width, height: d.height },
    );
    const ok = decoded.flatMap((d, i) => (typeof d === "string" ? [] : [{ i, d }]));
    // How an image is prepared depends on that image alone (its decoded size vs rawMaxSide), never
    // on the rest of the batch, and images are batched only with images of the same tensor size
    // (one group per raw width x height; sharp-resized ones together): an image's features do not
    // depend on what it is batched with.
    const groups = new Map<string, Array<{ i: number; d: DecodedImage }>>();
    for (const o of ok) {
      const key = o.d.raw ? `${o.d.raw.width}x${o.d.raw.height}` : "resized";
      const group = groups.get(key);
      if (group) group.push(o);
      else groups.set(key, [o]);
    }
    await Promise.all(
      [...groups.entries()].map(([key, group]) =>
        this.runGroup(
          key === "resized" ? this.batch(group.map((o) => o.d)) : rawBatch(group.map((o) => o.d)),
          group,
          results,
        ),
      ),
    );
    return results;
  }

  private async runGroup(
    input: BatchInput,
    group: Array<{ i: number; d: DecodedImage }>,
    results: FeatureResult[],
  ): Promise<void> {
    const dim = this.manifest.featureDim;
    // A failed run (the model threw, its worker thread died, no session is alive) is not the
    // images' fault: it propagates and fails the batch (see FeaturizerFailure), never an error row.
    const out = await this.pool.run(input, group.length);
    const features = out[this.manifest.outputs.features];
    if (!features || features.dim !== dim) {
      throw new SetupError({
        component: "model",
        message: `model output ${this.manifest.outputs.features} has ${features?.dim} values per image, manifest says ${dim}`,
      });
    }
    const logits = this.logitsOutput === null ? undefined : out[this.logitsOutput];
    for (const [k, { i }] of group.entries()) {
      const r = results[i] as FeatureResult;
      const row = features.data.slice(k * dim, (k + 1) * dim);
      // A NaN or an infinity would poison the PCA's covariance for every image. The model is fixed
      // and checksummed, and an image is prepared the same way whatever it is batched with, so a
      // non-finite row is a function of this image: it is the image's error row (a retry would give
      // the same), not an infrastructure failure.
      if (!row.every(Number.isFinite)) {
        Object.assign(r, { error: NON_FINITE_FEATURES, width: null, height: null });
        continue;
      }
      r.features = row;
      if (logits) r.logits = logits.data.slice(k * logits.dim, (k + 1) * logits.dim);
    }
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

/** Raw same-size images -> one uint8 `[n, height, width, 3]` batch for the raw graph. */
function rawBatch(images: DecodedImage[]): BatchInput {
  const { width, height } = (images[0] as DecodedImage).raw ?? { width: 0, height: 0 };
  const size = width * height * 3;
  const data = new Uint8Array(images.length * size);
  for (const [k, img] of images.entries()) data.set(img.pixels.subarray(0, size), k * size);
  return { data, dims: [images.length, height, width, 3] };
}
