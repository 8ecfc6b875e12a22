/**
 * Where a local sidecar keeps its pid file, log, start lock and shared secret (`<cache>/run/`, or
 * `ORCHARD_RUN_DIR`), and what its pid file records. The file operations themselves live in
 * `../process/managed-process.ts` and `../auth/sidecar-secret.ts`.
 */
import { join } from "node:path";
import { readJsonFile } from "../process/managed-process.ts";

/** The files of the sidecar serving `port`. */
export interface SidecarRunFiles {
  pidFile: string;
  logFile: string;
  lockFile: string;
  /** Its shared secret (0600), written by the sidecar at each start; the bridges of this node read it. */
  secretFile: string;
}

/** Pid file, log, lock and secret file of the sidecar serving `port`. */
export function sidecarRunFiles(dir: string, port: number): SidecarRunFiles {
  return {
    pidFile: join(dir, `sidecar-${port}.pid`),
    logFile: join(dir, `sidecar-${port}.log`),
    lockFile: join(dir, `sidecar-${port}.lock`),
    secretFile: join(dir, `sidecar-${port}.secret`),
  };
}

/** What a sidecar records in its pid file once it listens. */
export interface PidRecord {
  pid: number;
  address: string;
  model?: string;
  startedAt?: string;
}

/** Reads a pid file, or undefined when it is missing or unreadable. */
export function readPidRecord(path: string): PidRecord | undefined {
  const r = readJsonFile(path) as Partial<PidRecord> | undefined;
  return r && typeof r.pid === "number" && typeof r.address === "string" ? (r as PidRecord) : undefined;
}
