import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { writeFileAtomic } from "@orchard/udf-server/process";
import { ConfigError } from "../../errors.ts";

/** A fresh bearer token: 32 random bytes, base64url (43 characters, safe in a URL and a header). */
export function newToken(): string {
  return randomBytes(32).toString("base64url");
}

/**
 * The token file of the local Spark Connect server orchard started on `port`, next to its state
 * file in `runDir` (e.g. `~/.cache/orchard/run/spark-15002.token`, mode 0600).
 */
export function sparkTokenFile(runDir: string, port: number): string {
  return join(runDir, `spark-${port}.token`);
}

/** Writes `token` to `file` atomically, readable by the owner only (0600, in a 0700 folder when it creates one). */
export function writeTokenFile(file: string, token: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileAtomic(file, `${token}\n`, 0o600);
}

/** Removes a token file; a missing one is fine. */
export function removeTokenFile(file: string): void {
  rmSync(file, { force: true });
}

/**
 * Reads a bearer token from `file` (one line; a trailing newline is dropped). Refuses, with a
 * ConfigError naming `field`, a file that is missing or unreadable, empty, holds more than one
 * word, or that other users may read or change (as ssh refuses a private key: `chmod 600 FILE`).
 * The message never contains the file's content.
 */
export function readTokenFile(file: string, field: string): string {
  let text: string;
  let mode: number;
  try {
    mode = statSync(file).mode;
    text = readFileSync(file, "utf8");
  } catch (cause) {
    throw new ConfigError({
      field,
      expected: "a readable file holding the token",
      message: `${field}: cannot read the token file ${file} (${(cause as NodeJS.ErrnoException).code ?? "error"})`,
      cause,
    });
  }
  if ((mode & 0o077) !== 0) {
    throw new ConfigError({
      field,
      expected: "a token file only its owner can read (mode 0600)",
      message: `${field}: the token file ${file} can be read or changed by other users (mode ${(mode & 0o777).toString(8).padStart(4, "0")}); run: chmod 600 ${file}`,
    });
  }
  const token = text.replace(/\r?\n$/, "");
  if (token === "" || /\s/.test(token)) {
    throw new ConfigError({
      field,
      expected: "a file holding the token on one line",
      message: `${field}: the token file ${file} must hold the token on one line, without spaces`,
    });
  }
  return token;
}
