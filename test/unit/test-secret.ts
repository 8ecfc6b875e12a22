/** A sidecar secret for the unit tests' Flight servers, and a 0600 file holding it (as a sidecar writes it). */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeSecretFile } from "../../udf-server/src/auth/sidecar-secret.ts";

export const TEST_SECRET = "5e".repeat(32);

/** A fresh secret file holding `secret` (default {@link TEST_SECRET}). */
export function testSecretFile(secret = TEST_SECRET): string {
  const path = join(mkdtempSync(join(tmpdir(), "orchard-secret-")), "sidecar.secret");
  writeSecretFile(path, secret);
  return path;
}
