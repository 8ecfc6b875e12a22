/**
 * The bridge's settings, from its command line (the `USING '...'` string of the TRANSFORM can
 * carry flags) and the executor's environment, parsed once at start. Kept free of heavy
 * imports: one bridge starts per Spark partition.
 */
import { homedir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ConfigError } from "../errors.ts";
import type { DeviceChoice } from "../model/execution-device.ts";
import { cacheRootFromEnv } from "../process/cache-root.ts";
import { DEFAULT_SIDECAR_ADDRESS } from "../server/defaults.ts";
import { filePathOf } from "../server/image-file-reader.ts";

/** What the bridge does. */
export interface BridgeConfig {
  /** `host:port` of the sidecar. */
  sidecar: string;
  /** Rows per Flight batch. */
  batchSize: number;
  /** Bytes of image content per Flight batch (a batch closes at whichever limit comes first). */
  maxBatchBytes: number;
  /** Rows sent but not yet answered before the bridge stops reading stdin. */
  maxInFlight: number;
  /** Larger images are not sent: the row gets an error. */
  maxRowBytes: number;
  /** Start a sidecar on this node (under a lock) when none answers. */
  autoStart: boolean;
  /** For an auto-started sidecar. */
  model: string | undefined;
  threads: number | undefined;
  /** `--device` of an auto-started sidecar (`ORCHARD_SIDECAR_DEVICE`: cpu, cuda or auto; default cpu). */
  device: DeviceChoice | undefined;
  idleExitSeconds: number;
  startTimeoutSeconds: number;
  /**
   * Longest wait for the answer to the oldest batch sent and not yet answered (the sidecar is up
   * but stuck); past it the exchange is abandoned and its batches are sent again on a new one.
   */
  answerTimeoutSeconds: number;
  /** `<cache>/run` (or `ORCHARD_RUN_DIR`): pid file, log and lock of an auto-started sidecar. */
  runDir: string;
  cacheDir: string;
  /**
   * The node's sidecar secret file (`--secret-file`, else `ORCHARD_SIDECAR_SECRET_FILE`, else
   * `sidecar-<port>.secret` in `runDir`): the bridge checks the sidecar with it and sends it.
   */
  secretFile: string;
  /** The model the run asked for (`--expect-model`, `--expect-model-sha256`): the sidecar must serve it. */
  expectModel: { name: string; sha256?: string } | undefined;
  /**
   * The path transport (`--read-root URI`, repeatable): each row's id is a `file:` URI under one of
   * these folders, sent as a path for the sidecar to read (the row's content field is ignored).
   * Empty: the rows carry the images' bytes.
   */
  readRoots: string[];
}

const HELP_FLAGS = {
  sidecar: "host:port (e.g. 127.0.0.1:8815)",
  "batch-size": "an integer 1-4096",
  "max-in-flight": "an integer >= 1",
  threads: "an integer >= 1",
  "idle-exit-seconds": "an integer >= 0",
  "start-timeout-seconds": "an integer >= 1",
  "answer-timeout-seconds": "an integer 1-86400",
  "secret-file": "a file path",
  "expect-model": "a model name (letters, digits, . _ + -)",
  "expect-model-sha256": "64 lower-case hex characters (with --expect-model)",
  device: "cpu, cuda or auto (ORCHARD_SIDECAR_DEVICE)",
  "read-root": "a file: URI of a folder, e.g. file:/data/images (repeatable)",
} as const;

function textFlag(name: keyof typeof HELP_FLAGS, raw: string | undefined, pattern: RegExp): string | undefined {
  if (raw === undefined) return undefined;
  if (!pattern.test(raw)) {
    throw new ConfigError({
      field: `--${name}`,
      expected: HELP_FLAGS[name],
      message: `invalid --${name} "${raw}": expected ${HELP_FLAGS[name]}`,
    });
  }
  return raw;
}

function intFlag(name: keyof typeof HELP_FLAGS, raw: string | undefined, fallback: number, min: number, max: number) {
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError({
      field: `--${name}`,
      expected: HELP_FLAGS[name],
      message: `invalid --${name} "${raw}": expected ${HELP_FLAGS[name]}`,
    });
  }
  return n;
}

/** Checks a `host:port` address. */
export function parseAddress(text: string, field = "--sidecar"): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[2]) : Number.NaN;
  if (!m || !(port > 0 && port < 65536)) {
    throw new ConfigError({
      field,
      expected: HELP_FLAGS.sidecar,
      message: `invalid ${field} "${text}": expected ${HELP_FLAGS.sidecar}`,
    });
  }
  return { host: (m[1] as string).replace(/^\[|\]$/g, ""), port };
}

/** Builds the config from `argv` (after the executable) and `env`. */
export function bridgeConfig(argv: string[], env: Readonly<Record<string, string | undefined>>): BridgeConfig {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        sidecar: { type: "string" },
        "batch-size": { type: "string" },
        "max-in-flight": { type: "string" },
        "no-start": { type: "boolean" },
        model: { type: "string" },
        threads: { type: "string" },
        device: { type: "string" },
        "idle-exit-seconds": { type: "string" },
        "start-timeout-seconds": { type: "string" },
        "answer-timeout-seconds": { type: "string" },
        "secret-file": { type: "string" },
        "expect-model": { type: "string" },
        "expect-model-sha256": { type: "string" },
        "read-root": { type: "string", multiple: true },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (cause) {
    throw new ConfigError({
      field: "arguments",
      expected:
        "--sidecar host:port, --secret-file PATH, --expect-model NAME, --expect-model-sha256 HEX, --read-root URI, --batch-size N, --max-in-flight N, --no-start, --model NAME, --threads N",
      message: `orchard-bridge: ${cause instanceof Error ? cause.message : String(cause)}`,
      cause,
    });
  }
  const str = (k: string) => values[k] as string | undefined;
  const sidecar = str("sidecar") ?? env.ORCHARD_SIDECAR ?? DEFAULT_SIDECAR_ADDRESS;
  const { port } = parseAddress(
    sidecar,
    str("sidecar") === undefined && env.ORCHARD_SIDECAR ? "ORCHARD_SIDECAR" : "--sidecar",
  );
  const batchSize = intFlag("batch-size", str("batch-size"), 32, 1, 4096);
  const cacheDir = cacheRootFromEnv(env, homedir());
  const autoStartEnv = (env.ORCHARD_SIDECAR_AUTOSTART ?? "1").toLowerCase();
  const threadsRaw = str("threads") ?? env.ORCHARD_SIDECAR_THREADS;
  const runDir = env.ORCHARD_RUN_DIR || join(cacheDir, "run");
  const secretFile =
    textFlag("secret-file", str("secret-file"), /^.+$/) ||
    env.ORCHARD_SIDECAR_SECRET_FILE ||
    join(runDir, `sidecar-${port}.secret`);
  const expectName = textFlag("expect-model", str("expect-model"), /^[\w.+-]+$/);
  const expectSha = textFlag("expect-model-sha256", str("expect-model-sha256"), /^[0-9a-f]{64}$/);
  if (expectSha !== undefined && expectName === undefined) {
    throw new ConfigError({
      field: "--expect-model-sha256",
      expected: HELP_FLAGS["expect-model-sha256"],
      message: "--expect-model-sha256 needs --expect-model",
    });
  }
  const readRoots = (values["read-root"] as string[] | undefined) ?? [];
  for (const root of readRoots) {
    if (filePathOf(root) === null) {
      throw new ConfigError({
        field: "--read-root",
        expected: HELP_FLAGS["read-root"],
        message: `invalid --read-root "${root}": expected ${HELP_FLAGS["read-root"]}`,
      });
    }
  }
  return {
    sidecar,
    batchSize,
    maxBatchBytes: 16 * 1024 * 1024,
    maxInFlight: intFlag("max-in-flight", str("max-in-flight"), batchSize * 3, 1, 1_000_000),
    maxRowBytes: 64 * 1024 * 1024,
    autoStart: values["no-start"] !== true && !["0", "false", "no", "off"].includes(autoStartEnv),
    model: str("model") ?? env.ORCHARD_SIDECAR_MODEL,
    threads: threadsRaw === undefined ? undefined : intFlag("threads", threadsRaw, 1, 1, 256),
    device: textFlag("device", str("device") ?? env.ORCHARD_SIDECAR_DEVICE, /^(cpu|cuda|auto)$/) as
      | DeviceChoice
      | undefined,
    idleExitSeconds: intFlag("idle-exit-seconds", str("idle-exit-seconds"), 900, 0, 30 * 86_400),
    startTimeoutSeconds: intFlag("start-timeout-seconds", str("start-timeout-seconds"), 300, 1, 3600),
    answerTimeoutSeconds: intFlag("answer-timeout-seconds", str("answer-timeout-seconds"), 120, 1, 86_400),
    runDir,
    cacheDir,
    secretFile,
    expectModel:
      expectName === undefined
        ? undefined
        : { name: expectName, ...(expectSha === undefined ? {} : { sha256: expectSha }) },
    readRoots,
  };
}
