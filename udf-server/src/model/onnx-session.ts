/**
 * The ONNX Runtime side of a featurizer: one or more inference sessions over the same model file.
 * `sessions: 1` runs each batch on one session with all intra-op threads; `sessions: N` splits a
 * batch into N slices run concurrently on single-threaded sessions.
 */
import * as ort from "onnxruntime-node";
import { SetupError } from "../../../src/errors.ts";

/** How to open the model. */
export interface SessionPoolOptions {
  onnxPath: string;
  inputName: string;
  outputs: string[];
  /** Number of sessions (each gets `threadsPerSession` intra-op threads). */
  sessions: number;
  threadsPerSession: number;
  /**
   * Let idle intra-op threads spin-wait for work (ONNX Runtime's default). Spinning burns CPU that
   * co-located Spark executors need, and stalls when cores are oversubscribed; default false.
   */
  spinning?: boolean;
}

/** One output tensor's data for the whole batch, row-major [batch, dim]. */
export type BatchOutputs = Record<string, { data: Float32Array; dim: number }>;

/** A model input batch: float32 NCHW or uint8 NHWC, with its shape. */
export interface BatchInput {
  data: Float32Array | Uint8Array;
  dims: number[];
}

/** A set of ONNX Runtime sessions over one model. */
export class SessionPool {
  private constructor(
    private readonly sessions: ort.InferenceSession[],
    private readonly options: SessionPoolOptions,
  ) {}

  /** Opens `options.sessions` sessions. Throws `SetupError` if the file is not a loadable ONNX model. */
  static async open(options: SessionPoolOptions): Promise<SessionPool> {
    const so: ort.InferenceSession.SessionOptions = {
      intraOpNumThreads: options.threadsPerSession,
      interOpNumThreads: 1,
      executionMode: "sequential",
      graphOptimizationLevel: "all",
      extra: { session: { intra_op: { allow_spinning: options.spinning ? "1" : "0" } } },
    };
    const sessions: ort.InferenceSession[] = [];
    try {
      for (let i = 0; i < options.sessions; i++) sessions.push(await ort.InferenceSession.create(options.onnxPath, so));
    } catch (cause) {
      await Promise.all(sessions.map((s) => s.release()));
      throw new SetupError({
        component: "model",
        message: `cannot load ONNX model ${options.onnxPath}: ${cause instanceof Error ? cause.message : String(cause)}`,
        cause,
      });
    }
    const first = sessions[0] as ort.InferenceSession;
    const missing = [options.inputName, ...options.outputs].filter(
      (n) => !first.inputNames.includes(n) && !first.outputNames.includes(n),
    );
    if (missing.length > 0) {
      await Promise.all(sessions.map((s) => s.release()));
      throw new SetupError({
        component: "model",
        message: `ONNX model ${options.onnxPath} has no input/output named ${missing.join(", ")} (inputs: ${first.inputNames.join(", ")}; outputs: ${first.outputNames.join(", ")})`,
      });
    }
    return new SessionPool(sessions, options);
  }

  /** Runs the model on a batch of `count` images, split across the sessions. */
  async run(input: BatchInput, count: number): Promise<BatchOutputs> {
    const n = Math.min(this.sessions.length, count);
    const per = Math.ceil(count / n);
    const perImage = input.data.length / count;
    const slices = await Promise.all(
      Array.from({ length: n }, (_, i) => {
        const start = i * per;
        const end = Math.min(count, start + per);
        return this.runOne(this.sessions[i] as ort.InferenceSession, input, start, end, perImage);
      }),
    );
    const out: BatchOutputs = {};
    for (const name of this.options.outputs) {
      const first = slices[0]?.[name];
      const dim = first?.dim ?? 0;
      const data = new Float32Array(count * dim);
      let offset = 0;
      for (const s of slices) {
        const part = s[name] as { data: Float32Array; dim: number };
        data.set(part.data, offset);
        offset += part.data.length;
      }
      out[name] = { data, dim };
    }
    return out;
  }

  private async runOne(
    session: ort.InferenceSession,
    input: BatchInput,
    start: number,
    end: number,
    perImage: number,
  ): Promise<BatchOutputs> {
    const part = input.data.subarray(start * perImage, end * perImage);
    const dims = [end - start, ...input.dims.slice(1)];
    const tensor =
      part instanceof Float32Array ? new ort.Tensor("float32", part, dims) : new ort.Tensor("uint8", part, dims);
    const results = await session.run({ [this.options.inputName]: tensor }, this.options.outputs);
    const out: BatchOutputs = {};
    for (const name of this.options.outputs) {
      const t = results[name] as ort.Tensor;
      const data = t.data as Float32Array;
      out[name] = { data, dim: data.length / (end - start) };
    }
    return out;
  }

  async close(): Promise<void> {
    await Promise.all(this.sessions.map((s) => s.release()));
  }
}
