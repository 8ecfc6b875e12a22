import { fileURLToPath } from "node:url";

/** The `orchard-bridge` executable of this install (a checkout's, or the installed package's). */
export const BRIDGE_BIN = fileURLToPath(new URL("../../bin/orchard-bridge", import.meta.url));

/** What the bridge needs to know: the sidecar on its node, and the flags it passes on. */
export interface BridgeCommandOptions {
  /** `host:port` of the sidecar the bridge feeds on each executor's node. */
  sidecar: string;
  /**
   * The bridge executable (default: this install's, {@link BRIDGE_BIN}); another node may keep it
   * elsewhere. `command` wins when both are given.
   */
  executable?: string;
  /**
   * A bridge command line of words without shell metacharacters (e.g. `orchard-bridge`, or
   * `node /opt/orchard/bin/orchard-bridge`), used as it is, instead of `executable`.
   */
  command?: string;
  /**
   * The sidecar's secret FILE on each executor's node (the secret itself never goes in a command
   * line); default: the bridge's own default (`sidecar-<port>.secret` in its node's run folder).
   */
  secretFile?: string;
  /** The model the run asked for: the bridge refuses a sidecar that serves another. */
  expectModel?: { name: string; sha256?: string | undefined };
  /** The path transport: the `file:` folders the sidecar may read the rows' paths under (see `--read-root`). */
  readRoots?: readonly string[];
}

/**
 * The command line Spark's script transformation runs once per partition
 * (`SELECT TRANSFORM ... USING '<command>'`): Spark hands it to `/bin/bash -c`, so every value is
 * one single-quoted word when it holds anything but plain path characters (the CLI also refuses
 * shell metacharacters in the values it is given, before they get here).
 */
export function bridgeCommand({
  sidecar,
  executable = BRIDGE_BIN,
  command,
  secretFile,
  expectModel,
  readRoots = [],
}: BridgeCommandOptions): string {
  const words = [command ?? shellWord(executable), "--sidecar", shellWord(sidecar)];
  if (secretFile !== undefined) words.push("--secret-file", shellWord(secretFile));
  if (expectModel !== undefined) {
    words.push("--expect-model", shellWord(expectModel.name));
    if (expectModel.sha256 !== undefined) words.push("--expect-model-sha256", shellWord(expectModel.sha256));
  }
  for (const root of readRoots) words.push("--read-root", shellWord(root));
  return words.join(" ");
}

function shellWord(word: string): string {
  return /^[\w./:@=+-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}
