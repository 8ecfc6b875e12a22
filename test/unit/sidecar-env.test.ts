import { describe, expect, it } from "vitest";
import { sidecarEnv } from "../../udf-server/src/manage/sidecar-env.ts";

describe("sidecarEnv: what a sidecar orchard starts may see", () => {
  it("passes what it needs and drops keys, tokens and everything else", () => {
    const env = sidecarEnv({
      PATH: "/usr/bin",
      HOME: "/home/u",
      LANG: "C.UTF-8",
      LC_ALL: "C",
      ORCHARD_CACHE: "/c",
      ORCHARD_RUN_DIR: "/r",
      HTTPS_PROXY: "http://proxy:3128",
      PIP_INDEX_URL: "https://pypi.example/simple",
      AWS_ACCESS_KEY_ID: "AKIA",
      AWS_SECRET_ACCESS_KEY: "secret",
      AWS_SESSION_TOKEN: "tok",
      SPARK_CONNECT_AUTHENTICATE_TOKEN: "spark-token",
      SPARK_REMOTE: "sc://h/;token=t",
      ORCHARD_S3_SECRET_KEY: "s3",
      MINIO_ROOT_PASSWORD: "pw",
      GITHUB_TOKEN: "gh",
      NODE_OPTIONS: "--require /tmp/evil.js",
      UNSET: undefined,
    });
    expect(env).toEqual({
      PATH: "/usr/bin",
      HOME: "/home/u",
      LANG: "C.UTF-8",
      LC_ALL: "C",
      ORCHARD_CACHE: "/c",
      ORCHARD_RUN_DIR: "/r",
      HTTPS_PROXY: "http://proxy:3128",
      PIP_INDEX_URL: "https://pypi.example/simple",
    });
  });
});
