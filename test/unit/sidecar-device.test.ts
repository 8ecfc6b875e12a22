import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { sidecarStartOptions } from "../../src/cli/commands/sidecar-options.ts";
import { parsePipelineConfig } from "../../src/cli/pipeline-config.ts";
import { bridgeConfig } from "../../udf-server/src/bridge/bridge-config.ts";
import {
  cudaProvider,
  cudaUnavailableMessage,
  type DeviceChoice,
  devicesToTry,
  executionProviders,
} from "../../udf-server/src/model/execution-device.ts";
import { parseSidecarConfig } from "../../udf-server/src/server/sidecar-config.ts";

const installed = () => ({ installed: true }) as const;
const missing = () => ({ installed: false, why: "not installed here" }) as const;

describe("--device: which execution provider the sidecar tries", () => {
  it.each<[DeviceChoice, typeof installed | typeof missing, string[], string | null]>([
    ["cpu", installed, ["cpu"], null],
    ["cpu", missing, ["cpu"], null],
    ["cuda", installed, ["cuda"], null],
    ["cuda", missing, [], "not installed here"],
    ["auto", installed, ["cuda", "cpu"], null],
    ["auto", missing, ["cpu"], "not installed here"],
  ])("%s with the provider %s -> %j", (choice, provider, devices, skipped) => {
    expect(devicesToTry(choice, provider)).toEqual({ devices, skipped });
  });

  it("cpu never looks for the CUDA provider", () => {
    expect(
      devicesToTry("cpu", () => {
        throw new Error("looked");
      }),
    ).toEqual({ devices: ["cpu"], skipped: null });
  });

  it("maps a device to ONNX Runtime's execution providers", () => {
    expect(executionProviders("cpu")).toEqual(["cpu"]);
    expect(executionProviders("cuda")).toEqual(["cuda", "cpu"]);
  });

  it("finds the CUDA provider only when its libraries sit beside the binding (Linux x64)", () => {
    const dir = mkdtempSync(join(tmpdir(), "orchard-ort-bin-"));
    const before = cudaProvider(dir);
    expect(before.installed).toBe(false);
    if (process.platform === "linux" && process.arch === "x64") {
      expect(before).toMatchObject({ why: expect.stringContaining("libonnxruntime_providers_cuda.so") });
      writeFileSync(join(dir, "libonnxruntime_providers_shared.so"), "");
      writeFileSync(join(dir, "libonnxruntime_providers_cuda.so"), "");
      expect(cudaProvider(dir)).toEqual({ installed: true });
    }
  });

  it("says what to do, naming --device", () => {
    expect(cudaUnavailableMessage("x")).toMatch(/^--device cuda: x\. .*--device cpu or --device auto$/);
  });
});

describe("--device parsing at each edge", () => {
  it.each([
    [{}, "cpu"],
    [{ device: "cuda" }, "cuda"],
    [{ device: "auto" }, "auto"],
  ])("orchard-sidecar %j -> %s", (raw, device) => {
    expect(parseSidecarConfig(raw).device).toBe(device);
  });

  it.each([["gpu"], ["CUDA"], [""]])("orchard-sidecar refuses --device %j, naming the flag", (device) => {
    expect(() => parseSidecarConfig({ device })).toThrow(/--device .*expected cpu, cuda or auto/);
  });

  it.each([
    [{}, "cpu"],
    [{ device: "auto" }, "auto"],
  ])("orchard sidecar start %j -> %s", (raw, device) => {
    expect(sidecarStartOptions.parse(raw).device).toBe(device);
  });

  it("orchard sidecar start refuses another device", () => {
    expect(sidecarStartOptions.safeParse({ device: "tpu" }).success).toBe(false);
  });

  it.each([
    [{}, "cpu"],
    [{ device: "cuda" }, "cuda"],
  ])("orchard run %j -> %s", (flags, device) => {
    expect(parsePipelineConfig({ flags: { input: "/in", output: "/out", ...flags } }).device).toBe(device);
  });

  it.each<[string[], Record<string, string>, string | undefined]>([
    [[], {}, undefined],
    [["--device", "auto"], {}, "auto"],
    [[], { ORCHARD_SIDECAR_DEVICE: "cuda" }, "cuda"],
    [["--device", "cpu"], { ORCHARD_SIDECAR_DEVICE: "cuda" }, "cpu"],
  ])("the bridge's auto-start %j %j -> %s", (argv, env, device) => {
    expect(bridgeConfig(argv, env).device).toBe(device);
  });

  it("the bridge refuses a bad ORCHARD_SIDECAR_DEVICE", () => {
    expect(() => bridgeConfig([], { ORCHARD_SIDECAR_DEVICE: "gpu" })).toThrow(/expected cpu, cuda or auto/);
  });
});
