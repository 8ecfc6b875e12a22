/**
 * Where a local sidecar keeps its pid file, log and start lock (`<cache>/run/`), and what its
 * pid file records. The file operations themselves live in `../process/managed-process.ts`.
 */
import { join } from "node:path";
import { readJsonFile } from "../process/managed-process.ts";

/** Pid file, log and lock of the sidecar serving `port`. */
export function sidecarRunFiles(dir: string, port: number): { pidFile: string; logFile: string; lockFile: string } {
  return {
    pidFile: join(dir, `sidecar-${port}.pid`),
    logFile: join(dir, `sidecar-${port}.log`),
    lockFile: join(dir, `sidecar-${port}.lock`),
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
