// A stand-in for udf-server's ONNX worker thread (same messages), for the session pool's unit
// tests: a slice whose first byte is 255 makes the thread exit, as a crashed worker would; 254
// makes it spin forever without answering, as a hung one would; otherwise it answers `features` = [first byte, threadId] per image.
import { parentPort, threadId } from "node:worker_threads";

parentPort.postMessage({ id: 0, ok: true, outputs: {}, inputNames: ["input"], outputNames: ["features"] });
parentPort.on("message", (req) => {
  if (req === "close") {
    parentPort.close();
    return;
  }
  if (req.data[0] === 255) process.exit(3); // in a worker thread, ends only the thread
  if (req.data[0] === 254) for (;;);
  const features = new Float32Array(req.dims[0] * 2);
  for (let i = 0; i < req.dims[0]; i++) features.set([req.data[0], threadId], i * 2);
  parentPort.postMessage({ id: req.id, ok: true, outputs: { features }, inputNames: [], outputNames: [] }, [
    features.buffer,
  ]);
});
