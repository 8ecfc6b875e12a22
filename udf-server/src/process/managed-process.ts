/**
 * Process management shared by every local server orchard starts (Spark, S3, the sidecar):
 * whether a recorded pid is still alive and still ours, stopping a detached process group,
 * tailing its log, and the small file operations around pid and state files (atomic writes,
 * JSON records, an exclusive lock file that a dead holder cannot leave behind forever).
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
import { dirname } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/**
 * Whether a process with this pid is running (signal 0 probes without touching it). A zombie
 * (exited, not yet reaped by its parent, e.g. after the CLI that started it has gone) counts as gone.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  return !isZombie(pid);
}

/**
 * A process that has fully exited but is not reaped yet. The state of the thread-group leader alone
 * is not enough: a JVM's leader thread shows `Z` while its other threads still run the shutdown.
 */
function isZombie(pid: number): boolean {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    return /^State:\s+Z/m.test(status) && /^Threads:\s+1$/m.test(status);
  } catch {
    return false;
  }
}

/**
 * The command line of a running process (Linux `/proc`), or undefined when it cannot be read.
 * Used to make sure a recorded pid still belongs to the server we started before signalling it.
 */
export function commandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
  } catch {
    return undefined;
  }
}

/**
 * Stops a process we started detached (it leads its own process group): SIGTERM to the group,
 * wait up to `graceMs`, then SIGKILL, and wait until the pid is gone. Returns whether it had to force.
 */
export async function stopProcessGroup(pid: number, graceMs = 15_000): Promise<{ forced: boolean }> {
  if (!isAlive(pid)) return { forced: false };
  signalGroup(pid, "SIGTERM");
  if (await waitForExit(pid, graceMs)) return { forced: false };
  signalGroup(pid, "SIGKILL");
  await waitForExit(pid, 10_000);
  return { forced: true };
}

/** Sends `signal` to the process group led by `pid` (falls back to the pid alone). */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** Polls until `pid` no longer exists; resolves false if it still does after `timeoutMs`. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await sleep(100);
  }
  return !isAlive(pid);
}

/** The last `lines` lines of a text file ("" when it cannot be read). */
export function tailFile(path: string, lines = 30): string {
  try {
    const all = readFileSync(path, "utf8").split("\n");
    return all
      .slice(Math.max(0, all.length - lines - 1))
      .join("\n")
      .trimEnd();
  } catch {
    return "";
  }
}

/**
 * Writes `text` to `path` via a temporary file and a rename, so readers never see half a file.
 * `mode` applies to the new file (e.g. 0o600 for a state file that names a log with secrets nearby).
 */
export function writeFileAtomic(path: string, text: string, mode?: number): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, mode === undefined ? undefined : { mode });
  renameSync(tmp, path);
}

/** Parses a JSON file, or undefined when it is missing or not JSON. */
export function readJsonFile(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return undefined;
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
    return !Number.isInteger(holder) || !isAlive(holder) || age > staleMs;
  } catch {
    // vanished between open and read: not stale, just retry later
    return false;
  }
}
