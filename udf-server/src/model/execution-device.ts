/**
 * Where the model runs: ONNX Runtime's CPU execution provider, or its CUDA one (`--device
 * cpu|cuda|auto`). onnxruntime-node 1.30 lists `cuda` among its backends on Linux x64
 * (`listSupportedBackends()`: `{ name: "cuda", bundled: false }`) but does not bundle it: its
 * install script downloads `libonnxruntime_providers_cuda.so` (CUDA 12) next to the binding unless
 * the install is told `onnxruntime-node-install=skip`, as this repository's `.npmrc` does. A session
 * asked for `executionProviders: ["cuda"]` without those files fails to load them.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/** What `--device` accepts. */
export const DEVICE_CHOICES = ["cpu", "cuda", "auto"] as const;
export type DeviceChoice = (typeof DEVICE_CHOICES)[number];

/** The device a model actually runs on. */
export type Device = "cpu" | "cuda";

/** The shared libraries the CUDA execution provider needs beside onnxruntime-node's binding. */
const CUDA_PROVIDER_FILES = ["libonnxruntime_providers_shared.so", "libonnxruntime_providers_cuda.so"];

/** The folder holding onnxruntime-node's native binding for this platform. */
export function ortBindingDir(): string {
  const entry = createRequire(import.meta.url).resolve("onnxruntime-node");
  return join(dirname(entry), "..", "bin", "napi-v6", process.platform, process.arch);
}

/** Whether onnxruntime-node's CUDA execution provider is installed; when not, why (one phrase). */
export function cudaProvider(bindingDir = ortBindingDir()): { installed: true } | { installed: false; why: string } {
  if (process.platform !== "linux" || process.arch !== "x64") {
    return {
      installed: false,
      why: `onnxruntime-node has no CUDA execution provider on ${process.platform}-${process.arch}`,
    };
  }
  const missing = CUDA_PROVIDER_FILES.filter((f) => !existsSync(join(bindingDir, f)));
  if (missing.length > 0) {
    return {
      installed: false,
      why: `onnxruntime-node's CUDA execution provider is not installed (no ${missing.join(", ")} in ${bindingDir}; an install with onnxruntime-node-install=skip leaves it out)`,
    };
  }
  return { installed: true };
}

/** The ONNX Runtime execution providers of a session on `device`. */
export function executionProviders(device: Device): string[] {
  return device === "cuda" ? ["cuda", "cpu"] : ["cpu"];
}

/**
 * The devices to try for a choice, in order, and why a device was skipped: `cpu` -> cpu; `cuda` ->
 * cuda (none when its provider is not installed); `auto` -> cuda then cpu, or cpu alone.
 */
export function devicesToTry(
  choice: DeviceChoice,
  findProvider: () => ReturnType<typeof cudaProvider> = cudaProvider,
): { devices: Device[]; skipped: string | null } {
  if (choice === "cpu") return { devices: ["cpu"], skipped: null };
  const provider = findProvider();
  if (provider.installed) return { devices: choice === "cuda" ? ["cuda"] : ["cuda", "cpu"], skipped: null };
  return { devices: choice === "cuda" ? [] : ["cpu"], skipped: provider.why };
}

/** The message of `--device cuda` on a machine where CUDA cannot be used. */
export function cudaUnavailableMessage(why: string): string {
  return `--device cuda: ${why}. Install onnxruntime-node with its CUDA 12 binaries (an npm install without onnxruntime-node-install=skip, on a machine with CUDA 12 and cuDNN 9), or use --device cpu or --device auto`;
}
