import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BRIDGE_BIN, bridgeCommand } from "../../udf-server/src/bridge/bridge-command.ts";

describe("bridgeCommand: what Spark hands to bash -c", () => {
  it.each([
    {
      sidecar: "127.0.0.1:8815",
      executable: "/opt/orchard/bin/orchard-bridge",
      want: "/opt/orchard/bin/orchard-bridge --sidecar 127.0.0.1:8815",
    },
    { sidecar: "[::1]:8815", executable: "/o/b", want: "/o/b --sidecar '[::1]:8815'" },
    { sidecar: "$(>/tmp/x):8815", executable: "/o/b", want: "/o/b --sidecar '$(>/tmp/x):8815'" },
    { sidecar: "h:1", executable: "/my orchard/it's/b", want: `'/my orchard/it'\\''s/b' --sidecar h:1` },
  ])("$sidecar via $executable", ({ sidecar, executable, want }) => {
    expect(bridgeCommand({ sidecar, executable })).toBe(want);
  });

  it("passes the secret FILE and the expected model, each one word; a given command is used as it is", () => {
    expect(
      bridgeCommand({
        sidecar: "127.0.0.1:8815",
        executable: "/o/b",
        secretFile: "/my run/sidecar-8815.secret",
        expectModel: { name: "efficientnet-lite0", sha256: "ab".repeat(32) },
      }),
    ).toBe(
      `/o/b --sidecar 127.0.0.1:8815 --secret-file '/my run/sidecar-8815.secret' --expect-model efficientnet-lite0 --expect-model-sha256 ${"ab".repeat(32)}`,
    );
    expect(bridgeCommand({ sidecar: "h:1", command: "node /x/orchard-bridge", expectModel: { name: "m" } })).toBe(
      "node /x/orchard-bridge --sidecar h:1 --expect-model m",
    );
  });

  it("passes each read root of the path transport as one --read-root word", () => {
    expect(
      bridgeCommand({ sidecar: "h:1", executable: "/o/b", readRoots: ["file:/data/in", "file:/my photos/it's"] }),
    ).toBe(`/o/b --sidecar h:1 --read-root file:/data/in --read-root 'file:/my photos/it'\\''s'`);
  });

  it("defaults to this install's bridge executable", () => {
    expect(bridgeCommand({ sidecar: "127.0.0.1:8815" })).toBe(`${BRIDGE_BIN} --sidecar 127.0.0.1:8815`);
    expect(existsSync(BRIDGE_BIN)).toBe(true);
  });

  const dir = mkdtempSync(join(tmpdir(), "orchard bridge command "));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("runs under bash -c from a path with a space, and a hostile address stays one inert word", () => {
    mkdirSync(join(dir, "it's here"));
    const fake = join(dir, "it's here", "orchard-bridge");
    writeFileSync(fake, '#!/usr/bin/env bash\nprintf "%s|" "$@"\n');
    chmodSync(fake, 0o755);
    const marker = join(dir, "created");
    const out = execFileSync(
      "bash",
      ["-c", bridgeCommand({ sidecar: `$(touch '${marker}'):8815`, executable: fake })],
      {
        encoding: "utf8",
      },
    );
    expect(out).toBe(`--sidecar|$(touch '${marker}'):8815|`);
    expect(existsSync(marker)).toBe(false);
  });
});
