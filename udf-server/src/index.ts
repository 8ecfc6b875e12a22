/**
 * `@orchard/udf-server`: what the orchard CLI and library may use of the sidecar package —
 * start, stop and status of a local sidecar, its live row counters, the identity of an installed
 * model (name + checksum, which the bridges check), the bridge command that Spark's executors run,
 * and a direct featurizer for the driver's few-image calls. Everything else (the Flight server, the model, preprocessing) stays
 * inside the package and runs in its own processes.
 */
export { BRIDGE_BIN, type BridgeCommandOptions, bridgeCommand } from "./bridge/bridge-command.ts";
export { type DirectFeaturizer, type DirectImage, directFeaturizer } from "./flight/direct-featurizer.ts";
export type { FeatureRow } from "./flight/feature-schema.ts";
export { type EnsureLocalSidecarOptions, ensureLocalSidecar } from "./manage/ensure-local-sidecar.ts";
export { type PidRecord, readPidRecord, type SidecarRunFiles, sidecarRunFiles } from "./manage/run-files.ts";
export {
  type RowCounter,
  type RowCounts,
  rowCounter,
  type SidecarStatus,
  sidecarStatus,
} from "./manage/sidecar-status.ts";
export {
  SIDECAR_GRACE_MS,
  type SidecarHandle,
  type StartSidecarOptions,
  startSidecar,
} from "./manage/start-sidecar.ts";
export type { DeviceChoice } from "./model/execution-device.ts";
export { installedModelIdentity, type ModelIdentity } from "./model/model-identity.ts";
