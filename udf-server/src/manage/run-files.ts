/**
 * Where a local sidecar keeps its pid file, log and start lock (`<cache>/run/`), and the small
 * file operations around them: atomic writes, and an exclusive lock file that a dead holder
 * cannot leave behind forever.
 */
import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { dirname, join } from "node:path";

/** Pid file, log and lock of the sidecar serving `port`. */
export function sidecarRunFiles(dir: string, port: number): { pidFile: string; logFile: string; lockFile: string } {
  return {
    pidFile: join(dir, `sidecar-${port}.pid`),
    logFile: join(dir, `sidecar-${port}.log`),
    lockFile: join(dir, `sidecar-${port}.lock`),
  };
}

/** Writes `text` to `path` via a temporary file and a rename, so readers never see half a file. */
export function writeFileAtomic(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** What a sidecar records in its pid file. */
export interface PidRecord {
  pid: number;
  address: string;
  model?: string;
  startedAt?: string;
}

/** Reads a pid file, or undefined when it is missing or unreadable. */
export function readPidRecord(path: string): PidRecord | undefined {
  try {
    const r = JSON.parse(readFileSync(path, "utf8")) as Partial<PidRecord>;
    return typeof r.pid === "number" && typeof r.address === "string" ? (r as PidRecord) : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a process with this pid exists and has not exited (a zombie nobody reaped yet counts as gone). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  try {
    // /proc/<pid>/stat: "pid (comm) state ..."; comm may hold spaces or parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true;
  }
}

/**
 * Tries to take the lock file (created exclusively, holding our pid). A lock whose holder is
 * dead, or older than `staleMs`, is broken first. Returns a release function, or null if
 * another live process holds it.
 */
export function tryLock(path: string, staleMs: number): (() => void) | null {
  mkdirSync(dirname(path), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(path, "utf8").trim() === String(process.pid)) rmSync(path, { force: true });
        } catch {
          // already gone
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      if (!isStale(path, staleMs)) return null;
      rmSync(path, { force: true });
    }
  }
  return null;
}

function isStale(path: string, staleMs: number): boolean {
  try {
    const holder = Number.parseInt(readFileSync(path, "utf8").trim(), 10);
    const age = Date.now() - statSync(path).mtimeMs;
    return !Number.isInteger(holder) || !processExists(holder) || age > staleMs;
  } catch {
    // vanished between open and read: not stale, just retry later
    return false;
  }
}
