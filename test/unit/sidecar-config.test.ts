import { describe, expect, it } from "vitest";
import { parseSidecarConfig, SIDECAR_FLAGS } from "../../udf-server/src/server/sidecar-config.ts";

describe("orchard-sidecar --threads and --sessions", () => {
  it("has a --sessions flag", () => {
    expect(SIDECAR_FLAGS).toContainEqual({ key: "sessions", flag: "sessions" });
  });

  it.each([
    { raw: {}, threads: undefined, sessions: undefined },
    { raw: { threads: "2" }, threads: 2, sessions: undefined },
    { raw: { threads: "2", sessions: "1" }, threads: 2, sessions: 1 },
  ])("$raw parses to threads $threads, sessions $sessions", ({ raw, threads, sessions }) => {
    const c = parseSidecarConfig(raw);
    expect(c.threads).toBe(threads);
    expect(c.sessions).toBe(sessions);
  });

  it.each([{ sessions: "0" }, { sessions: "two" }, { sessions: "1.5" }])(
    "a bad --sessions ($sessions) names the flag",
    (raw) => {
      expect(() => parseSidecarConfig(raw)).toThrow(
        /^invalid --sessions \(.*\): expected an integer >= 1 that divides --threads$/,
      );
    },
  );
});
