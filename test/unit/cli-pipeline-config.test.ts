import { describe, expect, it } from "vitest";
import { configForRecord, configFromEnv, parsePipelineConfig, pipelineOptions } from "../../src/cli/pipeline-config.ts";
import { ConfigError } from "../../src/errors.ts";

const base = { input: "s3://bucket/images", output: "s3a://bucket/out" };

describe("parsePipelineConfig", () => {
  it("merges file < env < flags and normalises URIs", () => {
    const c = parsePipelineConfig({
      file: { k: 7, remote: "sc://file-host:15002", sample: 3 },
      env: configFromEnv({ SPARK_REMOTE: "sc://env-host:15002", AWS_ACCESS_KEY_ID: "AK", AWS_SECRET_ACCESS_KEY: "SK" }),
      flags: { ...base, sample: "5", k: undefined },
    });
    expect(c.remote).toBe("sc://env-host:15002");
    expect(c.k).toBe(7);
    expect(c.sample).toBe(5);
    expect(c.input).toBe("s3a://bucket/images");
    expect(c.s3.accessKeyId).toBe("AK");
    expect(parsePipelineConfig({ flags: { input: "rel/dir", output: "/abs/out" } }).input).toMatch(
      /^file:\/\/\/.*\/rel\/dir$/,
    );
  });

  it.each([
    [{ ...base, k: "abc" }, "--k", "positive whole number"],
    [{ ...base, k: 3, variance: 0.9 }, "--k", "not both"],
    [{ ...base, variance: 1.5 }, "--variance", "(0, 1]"],
    [{ input: base.input }, "--output", "folder URI"],
    [{ ...base, input: "ftp://x/y" }, "--input", "s3a://"],
    [{ ...base, remote: "http://host" }, "--remote", "sc://host"],
    [{ ...base, sidecar: "host" }, "--sidecar", "host:port"],
    [{ ...base, mode: "replace" }, "--mode", "overwrite or errorifexists"],
    [{ ...base, incremental: true, mode: "overwrite" }, "--incremental", "not both"],
    [{ ...base, incremental: true, sample: 3 }, "--sample", "no --sample with --incremental"],
    [{ ...base, incremental: true, pcaModel: "s3a://b/m" }, "--pca-model", "no --pca-model with --incremental"],
    [{ ...base, refit: true }, "--incremental", "only with --incremental"],
    [{ ...base, prune: true }, "--incremental", "only with --incremental"],
    [{ ...base, incremental: true, k: 3 }, "--k", "only with --refit"],
    [{ ...base, incremental: true, variance: 0.9 }, "--k", "only with --refit"],
  ])("rejects %j naming %s", (flags, field, expected) => {
    let error: unknown;
    try {
      parsePipelineConfig({ flags });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).field).toBe(field);
    expect((error as ConfigError).message).toContain(expected);
  });
});

describe("pipelineOptions", () => {
  it("defaults to 95% of the variance and the local bridge", () => {
    const o = pipelineOptions(parsePipelineConfig({ flags: base }));
    expect(o.reduction).toEqual({ variance: 0.95 });
    expect(o.sidecar).toBe("127.0.0.1:8815");
    expect(o.bridge).toBeUndefined();
    expect(o.mode).toBe("errorifexists");
  });
});

describe("pipelineOptions of an incremental run", () => {
  it.each([
    [{}, undefined],
    [{ incremental: true }, { refit: false, prune: false }],
    [
      { incremental: true, prune: true },
      { refit: false, prune: true },
    ],
    [
      { incremental: true, refit: true },
      { refit: true, prune: false },
    ],
    [
      { incremental: true, refit: true, k: 5 },
      { refit: true, prune: false, reduction: { k: 5 } },
    ],
    [
      { incremental: true, refit: true, variance: 0.9 },
      { refit: true, prune: false, reduction: { variance: 0.9 } },
    ],
  ])("%j -> incremental %j", (flags, incremental) => {
    expect(pipelineOptions(parsePipelineConfig({ flags: { ...base, ...flags } })).incremental).toEqual(incremental);
  });
});

describe("configForRecord", () => {
  it("keeps no keys or tokens", () => {
    const c = parsePipelineConfig({
      env: configFromEnv({ AWS_ACCESS_KEY_ID: "AKIDSECRET", AWS_SECRET_ACCESS_KEY: "VERYSECRET" }),
      flags: { ...base, remote: "sc://h:15002/;token=tok-123" },
    });
    const text = JSON.stringify(configForRecord(c));
    expect(text).not.toContain("AKIDSECRET");
    expect(text).not.toContain("VERYSECRET");
    expect(text).not.toContain("tok-123");
  });
});
