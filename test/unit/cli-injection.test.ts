import { describe, expect, it } from "vitest";
import { configFromEnv, parsePipelineConfig } from "../../src/cli/pipeline-config.ts";
import { ConfigError } from "../../src/errors.ts";
import { bridgeConfig } from "../../udf-server/src/bridge/bridge-config.ts";

// Every value that reaches the bridge command (which Spark runs under `bash -c`) is refused at the
// edge when it holds a shell metacharacter: a ConfigError naming the field, which the CLI turns into
// one line and exit 2 (see test/integration/faults/injection.test.ts for the process).

const base = { input: "/tmp/in", output: "/tmp/out" };
const METACHARACTERS = [
  "$(>/tmp/x)",
  "`touch x`",
  "a;b",
  "a&b",
  "a|b",
  "a>b",
  "a<b",
  "(a)",
  "{a}",
  "a*",
  "a?",
  "a!",
  "'a'",
  '"a"',
  "a\\b",
  "a#b",
  "~a",
  "a\nb",
  "a\tb",
];

function configError(f: () => unknown): ConfigError {
  try {
    f();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("no ConfigError");
}

describe("shell metacharacters in values that reach the bridge command", () => {
  it("ORCHARD_SIDECAR='$(>/tmp/x):8815' is refused naming --sidecar and ORCHARD_SIDECAR", () => {
    const err = configError(() =>
      parsePipelineConfig({ env: configFromEnv({ ORCHARD_SIDECAR: "$(>/tmp/x):8815" }), flags: base }),
    );
    expect(err.field).toBe("--sidecar");
    expect(err.message).toMatch(/--sidecar.*ORCHARD_SIDECAR/);
  });

  it.each(METACHARACTERS)("%j in --sidecar, --bridge and the secret file is refused", (bad) => {
    expect(configError(() => parsePipelineConfig({ flags: { ...base, sidecar: `${bad}:8815` } })).field).toBe(
      "--sidecar",
    );
    expect(configError(() => parsePipelineConfig({ flags: { ...base, sidecar: `127.0.0.1:88${bad}` } })).field).toBe(
      "--sidecar",
    );
    expect(configError(() => parsePipelineConfig({ flags: { ...base, bridge: `orchard-bridge ${bad}` } })).field).toBe(
      "--bridge",
    );
    expect(
      configError(() =>
        parsePipelineConfig({ env: configFromEnv({ ORCHARD_SIDECAR_SECRET_FILE: `/run/${bad}` }), flags: base }),
      ).field,
    ).toBe("--sidecar-secret-file");
  });

  it("accepts plain values: host names, IPv4, bracketed IPv6, a bridge with arguments, a secret path with a space", () => {
    for (const sidecar of ["127.0.0.1:8815", "localhost:1", "node-1.example:65535", "[::1]:8815"]) {
      expect(parsePipelineConfig({ flags: { ...base, sidecar } }).sidecar).toBe(sidecar);
    }
    expect(() => parsePipelineConfig({ flags: { ...base, sidecar: "127.0.0.1:70000" } })).toThrow(ConfigError);
    expect(parsePipelineConfig({ flags: { ...base, bridge: "node /opt/orchard/bin/orchard-bridge" } }).bridge).toBe(
      "node /opt/orchard/bin/orchard-bridge",
    );
    const c = parsePipelineConfig({
      env: configFromEnv({ ORCHARD_SIDECAR_SECRET_FILE: "/my run/s.secret" }),
      flags: base,
    });
    expect(c.sidecarSecretFile).toBe("/my run/s.secret");
  });

  it("the bridge refuses a malformed --expect-model or --expect-model-sha256", () => {
    expect(() => bridgeConfig(["--expect-model", "$(x)"], {})).toThrow(/--expect-model/);
    expect(() => bridgeConfig(["--expect-model", "m", "--expect-model-sha256", "xyz"], {})).toThrow(
      /--expect-model-sha256/,
    );
    expect(() => bridgeConfig(["--expect-model-sha256", "a".repeat(64)], {})).toThrow(/needs --expect-model/);
    const c = bridgeConfig(
      ["--sidecar", "127.0.0.1:9", "--expect-model", "m-1.0", "--expect-model-sha256", "a".repeat(64)],
      {
        ORCHARD_RUN_DIR: "/r",
      },
    );
    expect(c.expectModel).toEqual({ name: "m-1.0", sha256: "a".repeat(64) });
    expect(c.secretFile).toBe("/r/sidecar-9.secret");
    expect(bridgeConfig(["--secret-file", "/s/f"], {}).secretFile).toBe("/s/f");
    expect(bridgeConfig([], { ORCHARD_SIDECAR_SECRET_FILE: "/e/f" }).secretFile).toBe("/e/f");
  });
});
