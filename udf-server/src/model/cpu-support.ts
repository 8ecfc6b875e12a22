/**
 * Whether this CPU computes a model's graphs as they were built. orchard's INT8 graphs multiply
 * uint8 activations by int8 weights (U8S8): x86-64 CPUs with VNNI do that exactly, those without
 * it go through an instruction whose 16-bit sums saturate, and the features come out wrong (see
 * udf-server/model-build/quantize_int8.py). Their manifests say so (`x86RequiresVnni`).
 */
import { readFileSync } from "node:fs";
import { SetupError } from "../errors.ts";
import type { ModelManifest } from "./manifest.ts";

/** What the model needs from the CPU, and what this CPU is. */
export interface CpuFacts {
  /** `process.arch`. */
  readonly arch: string;
  /** The text of `/proc/cpuinfo`; undefined where there is none (not Linux). */
  readonly cpuinfo: string | undefined;
}

/** This machine's {@link CpuFacts}. */
export function cpuFacts(): CpuFacts {
  let cpuinfo: string | undefined;
  try {
    cpuinfo = process.platform === "linux" ? readFileSync("/proc/cpuinfo", "utf8") : undefined;
  } catch {
    cpuinfo = undefined;
  }
  return { arch: process.arch, cpuinfo };
}

/** `yes` or `no` from the CPU's flags (AVX-512 VNNI or AVX-VNNI); `unknown` without /proc/cpuinfo. */
export function x86Vnni(cpuinfo: string | undefined): "yes" | "no" | "unknown" {
  const flags = cpuinfo === undefined ? undefined : /^flags\s*:(.*)$/m.exec(cpuinfo)?.[1];
  if (flags === undefined) return "unknown";
  const names = new Set(flags.trim().split(/\s+/));
  return names.has("avx512_vnni") || names.has("avx_vnni") ? "yes" : "no";
}

/**
 * Throws a {@link SetupError} when the manifest's graphs need VNNI on x86-64 and this x86-64 CPU
 * has none, naming the FP32 model they were quantized from. Other architectures (ARM's dot
 * product instructions do not saturate) and CPUs whose flags cannot be read pass.
 */
export function checkCpuSupports(manifest: ModelManifest, cpu: CpuFacts = cpuFacts()): void {
  if (!manifest.x86RequiresVnni || cpu.arch !== "x64" || x86Vnni(cpu.cpuinfo) !== "no") return;
  const model = /^model name\s*:\s*(.+)$/m.exec(cpu.cpuinfo ?? "")?.[1]?.trim() ?? "this CPU";
  const from = (manifest.source?.quantizedFrom as { name?: unknown } | undefined)?.name;
  const instead = typeof from === "string" ? `use ${from}, the FP32 model it was made from` : "use an FP32 model";
  throw new SetupError({
    component: "model",
    message:
      `${manifest.name} needs an x86-64 CPU with VNNI (AVX-512 VNNI or AVX-VNNI), and ${model} has neither: ` +
      `its int8 arithmetic would saturate there and give wrong features; ${instead} (also the faster one on this CPU)`,
  });
}
