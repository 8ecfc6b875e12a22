import { describe, expect, it } from "vitest";
import { SetupError } from "../../udf-server/src/errors.ts";
import { checkCpuSupports, x86Vnni } from "../../udf-server/src/model/cpu-support.ts";
import type { ModelManifest } from "../../udf-server/src/model/manifest.ts";

/** /proc/cpuinfo of one core, with these flags. */
const cpuinfo = (model: string, flags: string) =>
  `processor\t: 0\nvendor_id\t: x\nmodel name\t: ${model}\nflags\t\t: ${flags}\nbogomips\t: 4000\n\nprocessor\t: 1\nflags\t\t: ${flags}\n`;
const SAPPHIRE = cpuinfo("Intel(R) Xeon(R) Processor", "fpu sse2 avx avx2 avx512f avx512_vnni amx_int8");
const ALDER = cpuinfo("12th Gen Intel(R) Core(TM) i7-1260P", "fpu avx avx2 avx_vnni");
const EPYC_AVX2 = cpuinfo("AMD EPYC 7B12", "fpu sse2 avx avx2 fma");

const manifest = (extra: Partial<ModelManifest>) =>
  ({
    name: "efficientnet-lite0-int8",
    source: { quantizedFrom: { name: "efficientnet-lite0" } },
    ...extra,
  }) as ModelManifest;

describe("x86Vnni", () => {
  it.each([
    ["AVX-512 VNNI", SAPPHIRE, "yes"],
    ["AVX-VNNI", ALDER, "yes"],
    ["AVX2 only", EPYC_AVX2, "no"],
    ["a cpuinfo without flags (ARM's has Features)", "processor\t: 0\nFeatures\t: fp asimd asimddp\n", "unknown"],
    ["no /proc/cpuinfo", undefined, "unknown"],
  ] as const)("%s: %s", (_name, text, expected) => {
    expect(x86Vnni(text)).toBe(expected);
  });
});

describe("checkCpuSupports", () => {
  it("refuses an INT8 model on an x86-64 CPU without VNNI, naming the CPU and the FP32 model", () => {
    const run = () => checkCpuSupports(manifest({ x86RequiresVnni: true }), { arch: "x64", cpuinfo: EPYC_AVX2 });
    expect(run).toThrow(SetupError);
    expect(run).toThrow(
      /^efficientnet-lite0-int8 needs an x86-64 CPU with VNNI .*AMD EPYC 7B12 has neither.*use efficientnet-lite0, the FP32 model/,
    );
  });

  it.each([
    ["x86-64 with AVX-512 VNNI", { x86RequiresVnni: true }, { arch: "x64", cpuinfo: SAPPHIRE }],
    ["x86-64 with AVX-VNNI", { x86RequiresVnni: true }, { arch: "x64", cpuinfo: ALDER }],
    ["ARM64 (its dot products do not saturate)", { x86RequiresVnni: true }, { arch: "arm64", cpuinfo: EPYC_AVX2 }],
    ["x86-64 whose flags cannot be read", { x86RequiresVnni: true }, { arch: "x64", cpuinfo: undefined }],
    ["an FP32 model on x86-64 without VNNI", {}, { arch: "x64", cpuinfo: EPYC_AVX2 }],
  ] as const)("lets the model load on %s", (_name, extra, cpu) => {
    expect(() => checkCpuSupports(manifest(extra), cpu)).not.toThrow();
  });
});
