/**
 * The help text of `--device`, shared by `orchard sidecar start` and the pipeline commands. Kept
 * apart from the option schemas so that building the program (`orchard --help`) loads no zod.
 */
export const DEVICE_HELP =
  "where the sidecar runs the model: cpu (default), cuda (needs onnxruntime-node's CUDA execution provider), auto (cuda when present, else cpu)";
