import { rmSync } from "node:fs";
import { join } from "node:path";
import { readJsonFile, writeFileAtomic } from "@orchard/udf-server/process";

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
  /** The 0600 file holding the token clients must send, when the server requires one. */
  readonly tokenFile?: string;
}

/** The state file of `component` on `port` inside `runDir` (e.g. `~/.cache/orchard/run/spark-15002.json`). */
export function stateFile(runDir: string, component: string, port: number): string {
  return join(runDir, `${component}-${port}.json`);
}

/** Records `state` (atomically, readable by the owner only); returns the file's path. */
export function writeState(runDir: string, state: ServerState): string {
  const file = stateFile(runDir, state.component, state.port);
  writeFileAtomic(file, `${JSON.stringify(state, null, 2)}\n`, 0o600);
  return file;
}

/** The recorded state, or undefined when there is none (or it is unreadable). */
export function readState(runDir: string, component: string, port: number): ServerState | undefined {
  return readJsonFile(stateFile(runDir, component, port)) as ServerState | undefined;
}

/** Forgets the recorded state of `component` on `port`. */
export function removeState(runDir: string, component: string, port: number): void {
  rmSync(stateFile(runDir, component, port), { force: true });
}
