import { readFileSync } from "node:fs";
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
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        // already gone
      }
    }
  };
  if (!isAlive(pid)) return { forced: false };
  signal("SIGTERM");
  if (await waitForExit(pid, graceMs)) return { forced: false };
  signal("SIGKILL");
  await waitForExit(pid, 10_000);
  return { forced: true };
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
