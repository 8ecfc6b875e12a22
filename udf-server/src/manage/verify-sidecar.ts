/**
 * "Is the server at this address our sidecar, serving the model this run asked for?" — asked by
 * every bridge before it sends a row, and again after each reconnect:
 * 1. the server must prove it knows the node's shared secret: `health` with a fresh random
 *    challenge must come back with HMAC(secret, challenge) (the secret is not sent yet, so an
 *    impostor on the port learns nothing);
 * 2. `info`, now with the secret, must name the expected model and its ONNX file's SHA-256.
 * Either failure is loud: an error, never rows.
 */

import { status } from "@grpc/grpc-js";
import { SidecarAuthError } from "../auth/sidecar-secret.ts";
import { OrchardError } from "../errors.ts";
import { FlightCallError, FlightClient } from "../flight/client.ts";
import type { ModelIdentity } from "../model/model-identity.ts";
import type { InfoReport } from "../server/flight-server.ts";

/** The sidecar serves another model than the run asked for. */
export class ModelMismatchError extends OrchardError {
  constructor(message: string) {
    super("config", { message });
  }
}

/** What to check. */
export interface VerifySidecarOptions {
  /** The node's sidecar secret file. */
  secretFile: string;
  /** The model the run asked for: its name, and its checksum when known. */
  expectModel?: { name: string; sha256?: string | undefined };
  timeoutMs?: number;
}

/** Resolves with the sidecar's `info` when it proves itself and serves the expected model; throws otherwise. */
export async function verifySidecar(address: string, options: VerifySidecarOptions): Promise<InfoReport> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const client = new FlightClient(address, { secretFile: options.secretFile });
  try {
    // The challenge first (FlightClient asks for the proof before it sends the secret).
    await client.proveServer(timeoutMs);
    let info: InfoReport;
    try {
      info = await client.actionJson<InfoReport>("info", timeoutMs);
    } catch (err) {
      if (err instanceof FlightCallError && err.code === status.UNAUTHENTICATED) {
        throw new SidecarAuthError(`the sidecar at ${address} refused this node's secret (${options.secretFile})`, err);
      }
      throw err;
    }
    checkModel(address, info, options.expectModel);
    return info;
  } finally {
    client.close();
  }
}

/** Throws {@link ModelMismatchError} when `info` is not the expected model. */
export function checkModel(
  address: string,
  info: Pick<InfoReport, "model" | "sha256">,
  expect: { name: string; sha256?: string | undefined } | undefined,
): void {
  if (!expect) return;
  const served: ModelIdentity = { name: info.model, sha256: info.sha256 };
  if (served.name !== expect.name || (expect.sha256 !== undefined && served.sha256 !== expect.sha256)) {
    throw new ModelMismatchError(
      `the sidecar at ${address} serves model ${served.name} (sha256 ${served.sha256 ?? "unknown"}), ` +
        `but this run asked for ${expect.name}${expect.sha256 === undefined ? "" : ` (sha256 ${expect.sha256})`}: ` +
        "no features are made with another model; restart that sidecar with the run's --model",
    );
  }
}
