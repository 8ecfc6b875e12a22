import { SingleBar } from "cli-progress";
import type { SparkConnectClient } from "../connect/client.ts";
import type { ExecutionProgress } from "../connect/progress.ts";
import { barPosition, progressParts } from "./progress-format.ts";

/** Handle on the shell's action progress. */
export interface ActionProgress {
  /** Removes the bars now (e.g. on Ctrl-C, before the REPL prints) and ignores further updates of those operations. */
  clear(): void;
  /** Puts the client back as it was. */
  restore(): void;
}

/**
 * Live progress for actions typed in the shell: every operation of the session's client reports
 * its Spark execution progress to a bar on the terminal, which disappears when the operation ends.
 */
export function showActionProgress(client: SparkConnectClient, stream: NodeJS.WritableStream): ActionProgress {
  const original = client.execute;
  const active = new Set<{ stop(): void }>();
  client.execute = function (this: SparkConnectClient, plan, opts = {}) {
    const started = performance.now();
    let bar: SingleBar | undefined;
    let cleared = false;
    const handle = {
      stop() {
        cleared = true;
        bar?.stop();
        bar = undefined;
      },
    };
    active.add(handle);
    const onProgress = (p: ExecutionProgress) => {
      opts.onProgress?.(p);
      if (cleared) return;
      const { value, total } = barPosition(p);
      const parts = progressParts({
        title: "spark",
        spark: p,
        countsImages: false,
        elapsedMs: performance.now() - started,
      }).join(" | ");
      if (bar === undefined) {
        bar = new SingleBar({
          stream,
          format: "spark |{bar}| {percentage}% | {parts}",
          barsize: 20,
          clearOnComplete: true,
          hideCursor: false,
          fps: 5,
          barCompleteChar: "\u2588",
          barIncompleteChar: "\u2591",
        });
        bar.start(total, value, { parts });
      } else {
        bar.setTotal(total);
        bar.update(value, { parts });
      }
    };
    const inner = original.call(this, plan, { ...opts, onProgress });
    return (async function* () {
      try {
        yield* inner;
      } finally {
        handle.stop();
        active.delete(handle);
      }
    })();
  };
  return {
    clear() {
      for (const h of active) h.stop();
    },
    restore() {
      client.execute = original;
    },
  };
}
