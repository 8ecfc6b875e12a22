import { describe, expect, it } from "vitest";
import { PipelineError } from "../../src/pipeline/pipeline-error.ts";
import { assertSupportedServer, MIN_SPARK_VERSION, parseSparkVersion } from "../../src/pipeline/server-version.ts";

describe("the server's Spark version", () => {
  it.each([
    ["4.0.2", [4, 0, 2]],
    ["4.1.1", [4, 1, 1]],
    ["4.1.1-amzn-0", [4, 1, 1]],
    ["4.2.0-SNAPSHOT", [4, 2, 0]],
    ["3.5", [3, 5, 0]],
    ["vendor-build", undefined],
  ] as const)("reads %s", (text, parsed) => {
    expect(parseSparkVersion(text)).toEqual(parsed);
  });

  it.each(["4.0.0", "4.0.2", "4.1.1", "4.1.1-amzn-0", "5.0.0", "vendor-build"])("accepts %s", (version) => {
    expect(() => assertSupportedServer(version, "sc://h:15002")).not.toThrow();
  });

  it.each(["3.5.6", "3.4.0", "3.5.1-amzn-1"])("refuses %s with one line naming the version it needs", (version) => {
    let err: unknown;
    try {
      assertSupportedServer(version, "sc://emr:15002/;token=<redacted>");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PipelineError);
    const message = (err as Error).message;
    expect(message).toBe(
      `orchard needs a Spark Connect server of Spark ${MIN_SPARK_VERSION} or newer; sc://emr:15002/;token=<redacted> runs Spark ${version}`,
    );
    expect(message).not.toContain("\n");
  });
});
