/**
 * The sidecar's shared secret: 32 random bytes (hex) that the sidecar makes at every start and
 * keeps in a 0600 file of its run folder (`sidecar-<port>.secret`); its clients on the same node
 * (bridges, the CLI) read that file. Two uses, never mixed up:
 * - the client proves itself with `authorization: Bearer <secret>` on every call but `health`;
 * - the server proves itself, before any client sends the secret, by answering a client's random
 *   challenge in `health` with HMAC-SHA256(secret, "orchard-sidecar-server\0" + challenge).
 * The secret itself never appears in argv, logs, errors or answers.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { OrchardError } from "../errors.ts";

/** The metadata key a client sends the secret in (gRPC lower-cases keys). */
export const AUTHORIZATION_KEY = "authorization";

const SERVER_PROOF_CONTEXT = "orchard-sidecar-server\0";

/** The secret (file) cannot be read, or a peer failed to prove it knows the secret. */
export class SidecarAuthError extends OrchardError {
  constructor(message: string, cause?: unknown) {
    super("protocol", { message, cause });
  }
}

/** A fresh secret: 32 random bytes as 64 hex characters. */
export function generateSecret(): string {
  return randomBytes(32).toString("hex");
}

/**
 * Writes `secret` to `path` readable by its owner only (0600), through a temporary file and a
 * rename so a reader never sees half of it. The folder is created 0700 when missing.
 */
export function writeSecretFile(path: string, secret: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  rmSync(tmp, { force: true });
  const fd = openSync(tmp, "wx", 0o600);
  try {
    writeSync(fd, `${secret}\n`);
  } finally {
    closeSync(fd);
  }
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/** Reads a secret file; a missing or malformed one is a {@link SidecarAuthError} naming the file only. */
export function readSecretFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, "utf8").trim();
  } catch (cause) {
    throw new SidecarAuthError(
      `cannot read the sidecar's secret file ${path} (${(cause as NodeJS.ErrnoException).code ?? "unreadable"}): ` +
        "is a sidecar running on this node, started by orchard as this user?",
      cause,
    );
  }
  if (!/^[0-9a-f]{64}$/.test(text)) {
    throw new SidecarAuthError(`the sidecar's secret file ${path} does not hold a secret (64 hex characters)`);
  }
  return text;
}

/** The `authorization` metadata value for `secret`. */
export function bearer(secret: string): string {
  return `Bearer ${secret}`;
}

/** Whether an `authorization` value carries `secret` (constant time). */
export function isAuthorized(value: unknown, secret: string): boolean {
  if (typeof value !== "string" || !value.startsWith("Bearer ")) return false;
  return equalConstantTime(value.slice(7), secret);
}

/** The server's answer to a client's `challenge`. */
export function serverProof(secret: string, challenge: string): string {
  return createHmac("sha256", secret).update(SERVER_PROOF_CONTEXT).update(challenge).digest("hex");
}

/** Whether `proof` answers `challenge` for `secret` (constant time). */
export function isServerProof(proof: unknown, secret: string, challenge: string): boolean {
  return typeof proof === "string" && equalConstantTime(proof, serverProof(secret, challenge));
}

/** A fresh challenge for a server: 32 random bytes, hex. */
export function newChallenge(): string {
  return randomBytes(32).toString("hex");
}

function equalConstantTime(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
