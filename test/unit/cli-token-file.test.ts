import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { CliContext } from "../../src/cli/cli-context.ts";
import { installLayout } from "../../src/cli/local/install-layout.ts";
import { newToken, readTokenFile, sparkTokenFile, writeTokenFile } from "../../src/cli/local/token-file.ts";
import { clientToken } from "../../src/cli/spark-connect.ts";
import { ConfigError } from "../../src/errors.ts";

const dir = mkdtempSync(join(tmpdir(), "orchard-token-file-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string, mode: number): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  chmodSync(path, mode);
  return path;
}

function ctx(env: Record<string, string>, runDir = join(dir, "run")): CliContext {
  return { env, layout: installLayout(dir), runDir, out: () => undefined, err: () => undefined };
}

describe("token files", () => {
  it("newToken is 43 URL-safe characters, fresh each time", () => {
    const a = newToken();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(newToken()).not.toBe(a);
  });

  it("writeTokenFile writes mode 0600 (folder 0700) and readTokenFile reads it back", () => {
    const path = join(dir, "fresh", "spark-1.token");
    writeTokenFile(path, "abc");
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "fresh")).mode & 0o777).toBe(0o700);
    expect(readTokenFile(path, "--token-file")).toBe("abc");
  });

  const refused: [string, string, number, RegExp][] = [
    ["group-readable", "SECRET-1\n", 0o640, /chmod 600 .*group-readable/],
    ["world-readable", "SECRET-1\n", 0o604, /can be read or changed by other users \(mode 0604\)/],
    ["empty", "", 0o600, /on one line/],
    ["two-words", "SECRET-1 SECRET-2\n", 0o600, /on one line/],
    ["two-lines", "SECRET-1\nSECRET-2\n", 0o600, /on one line/],
  ];
  it.each(refused)("refuses a %s file, naming the field and never the content", (name, text, mode, message) => {
    const path = file(name, text, mode);
    let err: unknown;
    try {
      readTokenFile(path, "--token-file");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).field).toBe("--token-file");
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain("SECRET");
  });

  it("refuses a missing file", () => {
    expect(() => readTokenFile(join(dir, "nope"), "ORCHARD_SPARK_TOKEN_FILE")).toThrow(
      /ORCHARD_SPARK_TOKEN_FILE: cannot read the token file .*nope \(ENOENT\)/,
    );
  });
});

describe("clientToken: where orchard's commands take the token from", () => {
  const flagFile = file("flag.token", "FROM-FLAG\n", 0o600);
  const envFile = file("env.token", "FROM-ENV-FILE", 0o600);
  const runDir = join(dir, "run");
  writeTokenFile(sparkTokenFile(runDir, 15555), "FROM-LOCAL");

  const cases: [string, string, string | undefined, Record<string, string>, string | undefined][] = [
    [
      "the --token-file flag first",
      "sc://127.0.0.1:15555",
      flagFile,
      { ORCHARD_SPARK_TOKEN_FILE: envFile, SPARK_CONNECT_TOKEN: "E" },
      "FROM-FLAG",
    ],
    [
      "then ORCHARD_SPARK_TOKEN_FILE",
      "sc://127.0.0.1:15555",
      undefined,
      { ORCHARD_SPARK_TOKEN_FILE: envFile, SPARK_CONNECT_TOKEN: "E" },
      "FROM-ENV-FILE",
    ],
    ["then SPARK_CONNECT_TOKEN", "sc://127.0.0.1:15555", undefined, { SPARK_CONNECT_TOKEN: "E" }, "E"],
    [
      "then SPARK_CONNECT_AUTHENTICATE_TOKEN",
      "sc://127.0.0.1:15555",
      undefined,
      { SPARK_CONNECT_AUTHENTICATE_TOKEN: "A" },
      "A",
    ],
    ["then the local server's token file", "sc://127.0.0.1:15555", undefined, {}, "FROM-LOCAL"],
    ["(localhost is loopback too)", "sc://localhost:15555/", undefined, {}, "FROM-LOCAL"],
    ["none when the URL has its own", "sc://127.0.0.1:15555/;token=U", undefined, {}, undefined],
    ["none for another port", "sc://127.0.0.1:15556", undefined, {}, undefined],
    ["none for a host that is not loopback", "sc://spark.example:15555/;use_ssl=true", undefined, {}, undefined],
  ];
  it.each(cases)("%s", (_name, remote, tokenFile, env, expected) => {
    expect(clientToken(ctx(env, runDir), remote, tokenFile)?.token).toBe(expected);
  });
});
