/**
 * The sidecar's settings, validated once at the edge (command line of `orchard-sidecar`,
 * `orchard sidecar start`, `startSidecar`). A bad value is reported as a `ConfigError` naming
 * the setting and its expected form.
 */
import { z } from "zod";
import { ConfigError } from "../errors.ts";
import { DEVICE_CHOICES } from "../model/execution-device.ts";

import { DEFAULT_SIDECAR_HOST, DEFAULT_SIDECAR_PORT } from "./defaults.ts";

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const sidecarConfigSchema = z.object({
  host: z.string().min(1).default(DEFAULT_SIDECAR_HOST),
  port: int(0, 65535).default(DEFAULT_SIDECAR_PORT),
  model: z.string().min(1).default("efficientnet-lite0"),
  threads: int(1, 256).optional(),
  device: z.enum(DEVICE_CHOICES).default("cpu"),
  sessions: int(1, 256).optional(),
  maxBatch: int(1, 1024).default(16),
  maxWaitMs: int(0, 10_000).default(5),
  concurrentBatches: int(1, 16).default(2),
  maxPendingPerStream: int(1, 100_000).optional(),
  maxQueued: int(1, 1_000_000).optional(),
  maxBatchRows: int(1, 1_000_000).default(4096),
  maxMessageMb: int(1, 2047).default(256),
  idleExitSeconds: int(0, 86_400 * 30).default(0),
  graceSeconds: int(0, 3600).default(30),
  cacheDir: z.string().min(1).optional(),
  pidFile: z.string().min(1).optional(),
  secretFile: z.string().min(1).optional(),
});

/** The sidecar's validated settings. */
export type SidecarConfig = z.output<typeof sidecarConfigSchema> & {
  maxPendingPerStream: number;
  maxQueued: number;
};

/** What each setting expects, for messages (the flag name is the kebab-case of the key). */
const EXPECTED: Record<string, string> = {
  host: "a host name or IP address (127.0.0.1 by default; 0.0.0.0 only if you mean it)",
  port: "an integer 0-65535",
  model: "a catalog model name or a path to an .onnx file",
  threads: "an integer >= 1",
  device: "cpu, cuda or auto (cuda needs onnxruntime-node's CUDA execution provider; auto falls back to cpu)",
  sessions: "an integer >= 1 that divides --threads",
  maxBatch: "an integer 1-1024",
  maxWaitMs: "an integer 0-10000 (milliseconds)",
  concurrentBatches: "an integer 1-16",
  maxPendingPerStream: "an integer >= 1 (rows)",
  maxQueued: "an integer >= 1 (images)",
  maxBatchRows: "an integer >= 1 (rows one incoming batch may declare)",
  maxMessageMb: "an integer 1-2047 (MiB)",
  idleExitSeconds: "an integer >= 0 (0 = never)",
  graceSeconds: "an integer 0-3600",
  cacheDir: "a folder path",
  pidFile: "a file path",
  secretFile: "a file path (default: sidecar-<port>.secret in the run folder, ORCHARD_RUN_DIR or <cache>/run)",
};

/** Validates raw settings (strings from a command line are coerced). */
export function parseSidecarConfig(raw: Record<string, unknown>): SidecarConfig {
  const result = sidecarConfigSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    const key = String(issue?.path[0] ?? "config");
    const flag = `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    throw new ConfigError({
      field: flag,
      expected: EXPECTED[key] ?? "a valid value",
      message: `invalid ${flag} (${JSON.stringify(raw[key])}): expected ${EXPECTED[key] ?? "a valid value"}`,
    });
  }
  const c = result.data;
  return {
    ...c,
    // Three of the bridge's 32-row batches: a single stream then keeps the model busy.
    maxPendingPerStream: c.maxPendingPerStream ?? Math.max(96, c.maxBatch * (c.concurrentBatches + 1)),
    maxQueued: c.maxQueued ?? Math.max(256, c.maxBatch * 8),
  };
}

/** Command-line flags of `orchard-sidecar`, kebab-case, mapped to config keys. */
export const SIDECAR_FLAGS = Object.keys(EXPECTED).map((key) => ({
  key,
  flag: key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`),
}));
