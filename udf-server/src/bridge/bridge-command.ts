import { fileURLToPath } from "node:url";

/** The `orchard-bridge` executable of this install (a checkout's, or the installed package's). */
export const BRIDGE_BIN = fileURLToPath(new URL("../../bin/orchard-bridge", import.meta.url));

/** What the bridge needs to know: the sidecar on its node, and the flags it passes on. */
export interface BridgeCommandOptions {
  /** `host:port` of the sidecar the bridge feeds on each executor's node. */
  sidecar: string;
  /** The bridge executable (default: this install's, {@link BRIDGE_BIN}); another node may keep it elsewhere. */
  executable?: string;
}

/**
 * The command line Spark's script transformation runs once per partition
 * (`SELECT TRANSFORM ... USING '<command>'`): Spark hands it to `/bin/bash -c`, so a path with
 * spaces or quotes is single-quoted.
 */
export function bridgeCommand({ sidecar, executable = BRIDGE_BIN }: BridgeCommandOptions): string {
  return `${shellWord(executable)} --sidecar ${shellWord(sidecar)}`;
}

function shellWord(word: string): string {
  return /^[\w./:@=+-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}
