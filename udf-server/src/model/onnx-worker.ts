/**
 * Worker-thread side of `SessionPool`: owns one ONNX Runtime session. onnxruntime-node runs
 * inference synchronously on the calling thread, so each session lives in its own worker to keep
 * the sidecar's event loop (Flight I/O, sharp decoding) free and to let sessions run in parallel.
 */
import { parentPort, workerData } from "node:worker_threads";
import * as ort from "onnxruntime-node";

/** Sent once, as `workerData`. */
export interface WorkerInit {
  onnxPath: string;
  sessionOptions: ort.InferenceSession.SessionOptions;
}

/** A run request: one batch slice. */
export interface RunRequest {
  id: number;
  inputName: string;
  outputs: string[];
  data: Float32Array | Uint8Array;
  dims: number[];
}

/** The worker's answer to the open (id 0) or to a run request. */
export type WorkerReply =
  | { id: number; ok: true; outputs: Record<string, Float32Array>; inputNames: string[]; outputNames: string[] }
  | { id: number; ok: false; error: string };

const port = parentPort;
if (port) {
  const init = workerData as WorkerInit;
  const opened = ort.InferenceSession.create(init.onnxPath, init.sessionOptions);
  opened.then(
    (s) =>
      port.postMessage({
        id: 0,
        ok: true,
        outputs: {},
        inputNames: [...s.inputNames],
        outputNames: [...s.outputNames],
      }),
    (err: unknown) => port.postMessage({ id: 0, ok: false, error: err instanceof Error ? err.message : String(err) }),
  );
  port.on("message", async (req: RunRequest | "close") => {
    const session = await opened.catch(() => null);
    if (req === "close") {
      await session?.release();
      port.close();
      return;
    }
    if (!session) return;
    try {
      const tensor =
        req.data instanceof Float32Array
          ? new ort.Tensor("float32", req.data, req.dims)
          : new ort.Tensor("uint8", req.data, req.dims);
      const results = await session.run({ [req.inputName]: tensor }, req.outputs);
      const outputs: Record<string, Float32Array> = {};
      for (const name of req.outputs) outputs[name] = (results[name] as ort.Tensor).data as Float32Array;
      const reply: WorkerReply = { id: req.id, ok: true, outputs, inputNames: [], outputNames: [] };
      port.postMessage(
        reply,
        Object.values(outputs).map((o) => o.buffer as ArrayBuffer),
      );
    } catch (err) {
      port.postMessage({ id: req.id, ok: false, error: err instanceof Error ? err.message : String(err) });
    }
  });
}
