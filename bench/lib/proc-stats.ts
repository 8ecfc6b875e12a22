/**
 * What the benches read from Linux's /proc about the processes they start: CPU seconds of a
 * process, of its reaped children and of its threads; its resident set size; the java process of
 * a Spark server started through spark-submit; and a sampler of the peak RSS of a few processes.
 */
import { readdirSync, readFileSync } from "node:fs";

const TICKS = 100; // USER_HZ: /proc's CPU times are in 1/100 s on Linux

/** utime + stime (own) and cutime + cstime (reaped children) of a process or thread, in seconds, and its name. */
export function cpuOf(statPath: string): { self: number; children: number; name: string } {
  const stat = readFileSync(statPath, "utf8");
  const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // After the name: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14)
  return {
    self: (Number(f[11]) + Number(f[12])) / TICKS,
    children: (Number(f[13]) + Number(f[14])) / TICKS,
    name,
  };
}

/** CPU seconds of process `pid`: its own (exited threads included) and its reaped children's; 0 once it is gone. */
export function processCpu(pid: number): { self: number; children: number } {
  try {
    const { self, children } = cpuOf(`/proc/${pid}/stat`);
    return { self, children };
  } catch {
    return { self: 0, children: 0 };
  }
}

/** CPU seconds per live thread of `pid`, by thread name with digits folded to `N`. */
export function threadsOf(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const t = cpuOf(`/proc/${pid}/task/${tid}/stat`);
      const name = t.name.replace(/\d+/g, "N");
      out.set(name, (out.get(name) ?? 0) + t.self);
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/** The java process of a Spark server started through spark-submit (the launcher execs it in place, or runs it as a child); 0 if none. */
export function javaPid(pid: number): number {
  const comm = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  if (comm === "java") return pid;
  const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean);
  for (const kid of kids) {
    const found = javaPid(Number(kid));
    if (found) return found;
  }
  return 0;
}

/** Resident set size of `pid` in MB (0 once it is gone). */
export function rssMb(pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kb ? Number(kb) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** A running peak-RSS sampler; `stop()` ends it and gives the peaks in MB. */
export interface RssPeaks<K extends string> {
  /** The peaks so far, in MB. */
  readonly peaks: Readonly<Record<K, number>>;
  stop(): Record<K, number>;
}

/**
 * Samples the RSS of each named process every `intervalMs` (and once at the start and at the
 * stop) and keeps the peak of each. A pid getter may answer `undefined` while its process is not
 * there (e.g. between a sidecar's kill and its restart).
 */
export function sampleRssPeaks<K extends string>(
  pids: Record<K, () => number | undefined>,
  intervalMs = 500,
): RssPeaks<K> {
  const names = Object.keys(pids) as K[];
  const peaks = Object.fromEntries(names.map((n) => [n, 0])) as Record<K, number>;
  const sample = () => {
    for (const n of names) {
      const pid = pids[n]();
      if (pid) peaks[n] = Math.max(peaks[n], rssMb(pid));
    }
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    peaks,
    stop() {
      clearInterval(timer);
      sample();
      return { ...peaks };
    },
  };
}
