import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** What the CLI records about a local server it started, so a later `stop`/`status` finds it. */
export interface ServerState {
  readonly component: string;
  readonly pid: number;
  readonly host: string;
  readonly port: number;
  /** Address clients use (`sc://...`, `http://...`), never with credentials in it. */
  readonly url: string;
  readonly logFile: string;
  readonly startedAt: string;
  readonly authenticated: boolean;
}

/** The state file of `component` on `port` inside `runDir` (e.g. `~/.cache/orchard/run/spark-15002.json`). */
export function stateFile(runDir: string, component: string, port: number): string {
  return join(runDir, `${component}-${port}.json`);
}

export function writeState(runDir: string, state: ServerState): string {
  mkdirSync(runDir, { recursive: true });
  const file = stateFile(runDir, state.component, state.port);
  writeFileSync(file, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  return file;
}

/** The recorded state, or undefined when there is none (or it is unreadable). */
export function readState(runDir: string, component: string, port: number): ServerState | undefined {
  try {
    return JSON.parse(readFileSync(stateFile(runDir, component, port), "utf8")) as ServerState;
  } catch {
    return undefined;
  }
}

export function removeState(runDir: string, component: string, port: number): void {
  rmSync(stateFile(runDir, component, port), { force: true });
}
