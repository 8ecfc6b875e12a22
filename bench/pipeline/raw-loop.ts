/**
 * The raw in-process decode + ONNX loop of bench/pipeline, in a child process of its own (forked
 * with IPC) so that its model and sessions count in neither the driver's RSS nor its CPU. The
 * parent sends `{ files }` once, then `"rate"` for each measurement; the child answers
 * `{ ready: true }`, then `{ rate }` (images/s over one pass; a warm-up batch before the first).
 */
import { readFileSync } from "node:fs";
import { loadFeaturizer } from "../../udf-server/src/featurizer.ts";

const BATCH = 32;
let bytes: Uint8Array[] = [];
const featurizer = await loadFeaturizer({ model: "efficientnet-lite0" });

process.on("message", async (msg: { files: string[] } | "rate" | "close") => {
  if (msg === "close") {
    await featurizer.close();
    process.disconnect();
    return;
  }
  if (msg === "rate") {
    const t0 = performance.now();
    for (let i = 0; i < bytes.length; i += BATCH) await featurizer.featurize(bytes.slice(i, i + BATCH));
    process.send?.({ rate: bytes.length / ((performance.now() - t0) / 1000) });
    return;
  }
  bytes = msg.files.map((f) => new Uint8Array(readFileSync(f)));
  await featurizer.featurize(bytes.slice(0, BATCH));
  process.send?.({ ready: true });
});
