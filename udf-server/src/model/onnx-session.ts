/**
 * The ONNX Runtime side of a featurizer: one or more inference sessions over the same model file,
 * each in its own worker thread (onnxruntime-node's `run` blocks the thread it is called on).
 * `sessions: 1` runs each batch on one session with all intra-op threads; `sessions: N` splits a
 * batch into N slices run in parallel on N sessions.
 */

import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type * as ort from "onnxruntime-node";
import { SetupError } from "../errors.ts";
import type { RunRequest, WorkerInit, WorkerReply } from "./onnx-worker.ts";

/** How to open the model. */
export interface SessionPoolOptions {
  onnxPath: string;
  inputName: string;
  outputs: string[];
  /** Number of sessions (each gets `threadsPerSession` intra-op threads). */
  sessions: number;
  threadsPerSession: number;
  /** ONNX Runtime execution providers, in order of preference (default: the CPU one). */
  executionProviders?: string[];
  /**
   * Let idle intra-op threads spin-wait for work (ONNX Runtime's default). Spinning burns CPU that
   * co-located Spark executors need, and stalls when cores are oversubscribed; default false.
   */
  spinning?: boolean;
  /** The worker thread's script (default: orchard's ONNX worker); tests give a stand-in. */
  workerScript?: string;
  /**
   * How long one slice may run before its worker is given up on (default
   * {@link runDeadlineMs}). A thread that never answers would otherwise hold its slot, and the
   * batches queued behind it, while `health` still says ok.
   */
  runTimeoutMs?: (images: number) => number;
}

/**
 * The default deadline of one slice of `images` images: a minute, plus 50 ms an image (a 64-image
 * slice runs in well under a second on one core, so only a hung thread reaches it). It stays under
 * the bridge's default answer timeout (120 s) for the batch sizes the batcher makes, so the sidecar
 * gives up on the thread before the bridges give up on the sidecar.
 */
export function runDeadlineMs(images: number): number {
  return 60_000 + 50 * images;
}

/** At most this many worker replacements per minute: a model that kills every worker is not retried forever. */
const MAX_RESTARTS_PER_MINUTE = 5;

/** One output tensor's data for the whole batch, row-major [batch, dim]. */
export type BatchOutputs = Record<string, { data: Float32Array; dim: number }>;

/** A model input batch: float32 NCHW or uint8 NHWC, with its shape. */
export interface BatchInput {
  data: Float32Array | Uint8Array;
  dims: number[];
}

// Compiled (the installed package), the worker is the JavaScript beside this module. From a
// checkout it is TypeScript, run from a one-file bundle with npm packages left as imports (built
// on first use, like the bridge's): a tsx loader per worker would cost each one ~40 MB of RSS. If
// the bundle cannot be written (a read-only checkout), the worker loads the source through tsx.
const compiled = import.meta.url.endsWith(".js");
const workerSource = new URL(compiled ? "./onnx-worker.js" : "./onnx-worker.ts", import.meta.url).href;
const bundleModule = new URL("../../bin/bundle.mjs", import.meta.url).href;

/** What a worker thread runs: the bundle's path, or (`eval`) a bootstrap that loads the source. */
interface WorkerScript {
  script: string;
  eval: boolean;
}

// Resolved once per process: pools opened at the same time would otherwise build the same bundle
// into the same temporary file.
let workerScriptOnce: Promise<WorkerScript> | undefined;
const workerScript = () => {
  workerScriptOnce ??= findWorkerScript();
  return workerScriptOnce;
};

async function findWorkerScript(): Promise<WorkerScript> {
  if (compiled) return { script: fileURLToPath(workerSource), eval: false };
  try {
    const { bundled } = (await import(bundleModule)) as {
      bundled: (entry: string, name: string, options: { packagesExternal: boolean }) => Promise<string>;
    };
    return {
      script: await bundled("src/model/onnx-worker.ts", "onnx-worker", { packagesExternal: true }),
      eval: false,
    };
  } catch {
    const tsxApi = import.meta.resolve("tsx/esm/api");
    const bootstrap = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(workerSource)}); });`;
    return { script: bootstrap, eval: true };
  }
}

class SessionWorker {
  private next = 1;
  private readonly pending = new Map<number, (r: WorkerReply) => void>();
  private closing = false;
  private exited = false;
  private loadFailed = false;
  readonly ready: Promise<WorkerReply>;

  /**
   * `onDeath` runs when the thread exits without having been asked to close, or when a run passes
   * its deadline (the thread is then terminated, and given up on at once: a thread stuck in native
   * code ends only when that code returns).
   */
  constructor(
    init: WorkerInit,
    from: WorkerScript,
    private readonly onDeath: (dead: SessionWorker) => void,
  ) {
    const worker = new Worker(from.script, { eval: from.eval, workerData: init });
    this.worker = worker;
    this.ready = new Promise((resolve) => this.pending.set(0, resolve));
    worker.on("message", (r: WorkerReply) => {
      const done = this.pending.get(r.id);
      this.pending.delete(r.id);
      done?.(r);
      // A replacement whose model did not load never answers the runs sent to it while it loaded.
      if (r.id === 0 && !r.ok) {
        this.loadFailed = true;
        this.failAll(`ONNX worker could not load the model: ${r.error}`);
      }
    });
    worker.on("error", (err) => this.failAll(err.message));
    worker.on("exit", (code) => {
      this.exited = true;
      this.failAll(`ONNX worker exited (code ${code})`);
      if (!this.closing) onDeath(this);
    });
  }

  private readonly worker: Worker;

  /** False once the thread has exited, its model failed to load, or a run passed its deadline. */
  get alive(): boolean {
    return !this.exited && !this.loadFailed && !this.hung;
  }

  private hung = false;

  private failAll(error: string): void {
    for (const [id, done] of this.pending) done({ id, ok: false, error });
    this.pending.clear();
  }

  /** Run requests sent and not yet answered. */
  get inFlight(): number {
    return this.pending.size;
  }

  run(req: Omit<RunRequest, "id">, deadlineMs: number): Promise<WorkerReply> {
    const id = this.next++;
    return new Promise((resolve) => {
      // The deadline counts from when the thread has its model: a replacement still loading is not hung.
      let timer: NodeJS.Timeout | undefined;
      let answered = false;
      void this.ready.then(() => {
        if (!answered) timer = setTimeout(() => this.giveUp(deadlineMs), deadlineMs);
      });
      this.pending.set(id, (reply) => {
        answered = true;
        clearTimeout(timer);
        resolve(reply);
      });
      this.worker.postMessage({ ...req, id }, [req.data.buffer as ArrayBuffer]);
    });
  }

  /** A run passed its deadline: fail everything on this thread, terminate it, and let the pool replace it. */
  private giveUp(deadlineMs: number): void {
    if (this.hung || this.exited || this.closing) return;
    this.hung = true;
    this.failAll(`ONNX worker did not answer within ${Math.round(deadlineMs / 1000)} s (terminated)`);
    void this.worker.terminate();
    this.onDeath(this);
  }

  async close(): Promise<void> {
    if (this.exited) return;
    this.closing = true;
    if (this.hung) return;
    const exited = new Promise((resolve) => this.worker.once("exit", resolve));
    this.worker.postMessage("close");
    await exited;
  }
}

/** A set of ONNX Runtime sessions over one model, each in a worker thread. */
export class SessionPool {
  #restarts = 0;
  #recentRestarts: number[] = [];
  #closed = false;

  private constructor(
    private readonly workers: SessionWorker[],
    private readonly options: SessionPoolOptions,
    private readonly start: (onDeath: (dead: SessionWorker) => void) => SessionWorker,
  ) {}

  /** Worker threads replaced after they died, since the pool opened. */
  get restarts(): number {
    return this.#restarts;
  }

  /** Number of session slots. */
  get size(): number {
    return this.workers.length;
  }

  /** Sessions whose thread is alive (replacements still loading the model count). */
  get alive(): number {
    return this.workers.filter((w) => w.alive).length;
  }

  /**
   * A worker thread died (an uncaught error, out of memory): its in-flight runs have failed; a new
   * thread takes its slot so later batches do not go to a dead one, within a restart budget.
   */
  private replace(dead: SessionWorker): void {
    const slot = this.workers.indexOf(dead);
    if (this.#closed || slot < 0) return;
    const now = Date.now();
    this.#recentRestarts = this.#recentRestarts.filter((t) => now - t < 60_000);
    if (this.#recentRestarts.length >= MAX_RESTARTS_PER_MINUTE) return;
    this.#recentRestarts.push(now);
    this.#restarts++;
    this.workers[slot] = this.start((w) => this.replace(w));
  }

  /** Opens `options.sessions` sessions. Throws `SetupError` if the file is not a loadable ONNX model. */
  static async open(options: SessionPoolOptions): Promise<SessionPool> {
    const sessionOptions: ort.InferenceSession.SessionOptions = {
      intraOpNumThreads: options.threadsPerSession,
      interOpNumThreads: 1,
      executionMode: "sequential",
      graphOptimizationLevel: "all",
      // Input sizes vary (the raw graph takes each image size as it comes): memory patterns are
      // planned per shape and kept, which grows RSS without speeding anything up here.
      enableMemPattern: false,
      extra: { session: { intra_op: { allow_spinning: options.spinning ? "1" : "0" } } },
      ...(options.executionProviders === undefined ? {} : { executionProviders: options.executionProviders }),
    };
    const from = options.workerScript ? { script: options.workerScript, eval: false } : await workerScript();
    const start = (onDeath: (dead: SessionWorker) => void) =>
      new SessionWorker({ onnxPath: options.onnxPath, sessionOptions }, from, onDeath);
    // Until the pool exists, a worker that dies fails the open below (its ready reply is an error).
    let pool: SessionPool | undefined;
    const workers = Array.from({ length: options.sessions }, () => start((dead) => pool?.replace(dead)));
    const replies = await Promise.all(workers.map((w) => w.ready));
    const failed = replies.find((r) => !r.ok);
    const first = replies[0];
    const fail = async (message: string) => {
      await Promise.all(workers.map((w) => w.close()));
      throw new SetupError({ component: "model", message });
    };
    if (failed && !failed.ok) return fail(`cannot load ONNX model ${options.onnxPath}: ${failed.error}`);
    if (first?.ok) {
      const missing = [options.inputName, ...options.outputs].filter(
        (n) => !first.inputNames.includes(n) && !first.outputNames.includes(n),
      );
      if (missing.length > 0) {
        return fail(
          `ONNX model ${options.onnxPath} has no input/output named ${missing.join(", ")} (inputs: ${first.inputNames.join(", ")}; outputs: ${first.outputNames.join(", ")})`,
        );
      }
    }
    pool = new SessionPool(workers, options, start);
    return pool;
  }

  /**
   * Runs the model on a batch of `count` images, split across the sessions (the input is copied, not
   * consumed). Slices go to the least busy sessions, so small batches run concurrently spread out.
   */
  async run(input: BatchInput, count: number): Promise<BatchOutputs> {
    const live = this.workers.filter((w) => w.alive);
    if (live.length === 0)
      throw new SetupError({
        component: "model",
        message: `no ONNX session is alive (${this.#restarts} worker restarts; the last ones died within a minute)`,
      });
    const n = Math.min(live.length, count);
    const per = Math.ceil(count / n);
    const perImage = input.data.length / count;
    const idle = live
      .map((w, i) => ({ w, i }))
      .sort((a, b) => a.w.inFlight - b.w.inFlight || a.i - b.i)
      .map((x) => x.w);
    const replies = await Promise.all(
      Array.from({ length: n }, (_, i) => {
        const start = i * per;
        const end = Math.min(count, start + per);
        return (idle[i] as SessionWorker).run(
          {
            inputName: this.options.inputName,
            outputs: this.options.outputs,
            data: input.data.slice(start * perImage, end * perImage),
            dims: [end - start, ...input.dims.slice(1)],
          },
          (this.options.runTimeoutMs ?? runDeadlineMs)(end - start),
        );
      }),
    );
    const out: BatchOutputs = {};
    for (const name of this.options.outputs) {
      const parts: Float32Array[] = [];
      for (const r of replies) {
        if (!r.ok) throw new SetupError({ component: "model", message: `inference failed: ${r.error}` });
        parts.push(r.outputs[name] as Float32Array);
      }
      const data = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
      let offset = 0;
      for (const p of parts) {
        data.set(p, offset);
        offset += p.length;
      }
      out[name] = { data, dim: data.length / count };
    }
    return out;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.workers.map((w) => w.close()));
  }
}
