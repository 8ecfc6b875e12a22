import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.ts";
import { checkOutputApart } from "../../src/pipeline/folder-overlap.ts";
import { preflight } from "../../src/pipeline/preflight.ts";

const dir = mkdtempSync(join(tmpdir(), "orchard-overlap-"));
mkdirSync(join(dir, "photos", "apple"), { recursive: true });
mkdirSync(join(dir, "elsewhere"));
symlinkSync(join(dir, "photos"), join(dir, "link-to-photos"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const f = (...parts: string[]) => pathToFileURL(join(dir, ...parts)).href;

describe("checkOutputApart: an output that is, contains or lies inside the input is refused", () => {
  // [output, input, refused with]
  const cases: [string, string, RegExp | undefined][] = [
    [f("out"), f("photos"), undefined],
    [f("photos-out"), f("photos"), undefined],
    [f("photos"), f("photos"), /is the same folder as the --input/],
    [`${f("photos")}/`, f("photos"), /is the same folder as the --input/],
    [f(), f("photos"), /contains the --input/],
    [f("photos", "out"), f("photos"), /is inside the --input/],
    [f("photos", "apple", "..", "out"), f("photos"), /is inside the --input/],
    [f("link-to-photos", "out"), f("photos"), /is inside the --input/],
    [f("elsewhere", "new", "deeper"), f("photos"), undefined],
    [f("link-to-photos", "not-yet", "out"), f("photos"), /is inside the --input/],
    ["s3a://b/out", "s3a://b/photos", undefined],
    ["s3a://b/photos-out", "s3a://b/photos", undefined],
    ["s3a://b/photos/out", "s3a://b/photos", /is inside the --input/],
    ["s3a://b/", "s3a://b/photos/", /contains the --input/],
    ["s3a://b//photos//", "s3a://b/photos", /is the same folder/],
    ["s3://b/photos/out", "s3a://b/photos", /is inside the --input/],
    ["s3a://other/photos/out", "s3a://b/photos", undefined],
    ["s3a://b/photos", f("photos"), undefined],
    ["hdfs://nn/data", "hdfs://nn/data/images", /contains the --input/],
  ];
  it.each(cases)("--output %s, --input %s", (output, input, refused) => {
    const check = () => checkOutputApart(output, [{ flag: "--input", uri: input }]);
    if (!refused) {
      expect(check).not.toThrow();
      return;
    }
    let err: unknown;
    try {
      check();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).field).toBe("--output");
    expect((err as Error).message).toMatch(refused);
    expect((err as Error).message).not.toContain("\n");
  });

  it("preflight refuses it before reading anything, also for a --pca-model inside the output", async () => {
    const options = {
      input: f("photos"),
      output: f(),
      reduction: { k: 2 },
      keepFeatures: false,
      extensions: ["jpg"],
      mode: "overwrite" as const,
      sidecar: "127.0.0.1:8815",
    };
    await expect(preflight(options)).rejects.toThrow(/contains the --input/);
    await expect(
      preflight({ ...options, output: f("elsewhere", "run2"), pcaModel: f("elsewhere", "run2", "pca-model") }),
    ).rejects.toThrow(/contains the --pca-model/);
  });
});
