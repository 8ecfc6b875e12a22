// orchard's real ONNX worker thread (run from its TypeScript source through tsx) with one fault
// added, for the fault tests. Once the file `<marker>.armed` exists (marker: the path in
// ORCHARD_TEST_CRASH_MARKER when the worker started), the first worker of the process to get a
// run request exits after the real worker has taken it and before it answers, as a thread that
// crashed mid-batch would; which one is first is settled by creating `<marker>` exclusively.
// Without the variable nothing crashes.
import { existsSync, openSync } from "node:fs";
import { parentPort } from "node:worker_threads";

// The real worker's listener first: until a listener is attached, the port queues what the pool
// posts (one attached here first would start the port and let run requests go unanswered).
const { register } = await import("tsx/esm/api");
register();
await import(new URL("../../udf-server/src/model/onnx-worker.ts", import.meta.url).href);

const marker = process.env.ORCHARD_TEST_CRASH_MARKER;
parentPort.on("message", (req) => {
  if (req === "close" || marker === undefined || !existsSync(`${marker}.armed`)) return;
  try {
    openSync(marker, "wx");
  } catch {
    return; // another worker crashed already
  }
  process.exit(3); // in a worker thread, ends only the thread
});
