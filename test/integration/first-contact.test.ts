import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { describe, expect, inject, it } from "vitest";
import { s3Client } from "../../src/s3.ts";
import { sidecarStatus } from "../../udf-server/src/manage/sidecar-status.ts";
import { cliEnv } from "./helpers/cli-env.ts";
import { runOrchard } from "./helpers/orchard-cli.ts";
import { REPO_ROOT } from "./helpers/test-paths.ts";

const s3 = inject("s3");
/** The sidecar the CLI is pointed at (ORCHARD_SIDECAR in {@link cliEnv}). */
const sidecar = inject("sidecar");

/** Runs the real CLI; resolves with its exit code, output and wall time (never rejects). */
const orchard = (args: string[]) => runOrchard(args, { timeout: 300_000 });

describe("first contact: user mistakes are refused before any Spark work, in one line", () => {
  const root = mkdtempSync(join(tmpdir(), "orchard-first-contact-"));
  mkdirSync(join(root, "empty"));
  mkdirSync(join(root, "notes/apple"), { recursive: true });
  writeFileSync(join(root, "notes/apple/readme.txt"), "no images here\n");
  mkdirSync(join(root, "images/apple"), { recursive: true });
  writeFileSync(
    join(root, "images/apple/a.jpg"),
    readFileSync(join(REPO_ROOT, "docs/progress.png")), // any real image file
  );
  mkdirSync(join(root, "old-out"));
  writeFileSync(join(root, "old-out/run.json"), '{"old":true}\n');

  const cases: { name: string; args: string[]; message: RegExp }[] = [
    {
      name: "a missing input folder",
      args: ["--input", join(root, "nonexistent"), "--output", join(root, "out1")],
      message: /^orchard: cannot read the input .*nonexistent: no such file or folder$/,
    },
    {
      name: "an empty input folder",
      args: ["--input", join(root, "empty"), "--output", join(root, "out2")],
      message: /^orchard: no image files under .*empty /,
    },
    {
      name: "an input folder without image files",
      args: ["--input", join(root, "notes"), "--output", join(root, "out3")],
      message: /^orchard: no image files under .*notes /,
    },
    {
      name: "a missing S3 prefix",
      args: ["--input", `s3a://${s3.bucket}/first-contact-${Date.now()}/nothing`, "--output", join(root, "out4")],
      message: /^orchard: no image files under s3a:\/\//,
    },
  ];
  for (const { name, args, message } of cases) {
    it(`${name}: exit 2, one line naming what failed`, async () => {
      const r = await orchard(["run", ...args, "--k", "2", "--no-start"]);
      expect(r.code).toBe(2);
      const lines = r.stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(message);
      expect(r.stderr).not.toMatch(/unexpected error|ENOENT|scandir|at .*\.ts:\d+/);
    });
  }

  it("an existing local output without --overwrite is refused in under 2 s, and left as it was", async () => {
    const r = await orchard(["run", "--input", join(root, "images"), "--output", join(root, "old-out"), "--no-start"]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^orchard: the output .*old-out already exists; pass --overwrite/);
    expect(r.ms).toBeLessThan(2000);
    expect(readFileSync(join(root, "old-out/run.json"), "utf8")).toBe('{"old":true}\n');
  });

  it("a refused run loads none of Spark Connect's code, Arrow or the sidecar's: the checks come first", async () => {
    const trace = join(root, "modules.txt");
    const r = await runOrchard(
      ["run", "--input", join(root, "images"), "--output", join(root, "old-out"), "--no-start"],
      {
        env: {
          ...cliEnv(),
          MODULE_TRACE_FILE: trace,
          NODE_OPTIONS: `--import=${pathToFileURL(join(REPO_ROOT, "test/integration/fixtures/trace-module-loads.mjs")).href}`,
        },
      },
    );
    expect(r.code, r.stderr).toBe(2);
    const loaded = readFileSync(trace, "utf8").split("\n").filter(Boolean);
    // The trace works: the checks' own modules are in it.
    expect(loaded.some((url) => url.endsWith("/src/pipeline/preflight.ts"))).toBe(true);
    const heavy = loaded.filter((url) =>
      /\/src\/connect\/gen\/|\/node_modules\/apache-arrow\/|\/udf-server\/src\/index\.ts$|\/src\/pipeline\/run-pipeline\.ts$/.test(
        url,
      ),
    );
    expect(heavy).toEqual([]);
  });

  it("an --output that contains the input, with --overwrite, is refused in one line and the input is left as it was", async () => {
    const photos = join(root, "inside", "photos", "apple");
    mkdirSync(photos, { recursive: true });
    writeFileSync(join(photos, "a.jpg"), readFileSync(join(REPO_ROOT, "docs/progress.png")));
    writeFileSync(join(root, "inside", "run.json"), '{"old":true}\n');
    const runs: [string[], RegExp][] = [
      [["run", "--input", join(root, "inside", "photos"), "--output", join(root, "inside")], /contains the --input/],
      [["fit", "--input", join(root, "inside", "photos"), "--output", join(photos, "out")], /is inside the --input/],
      [
        ["run", "--input", `s3a://${s3.bucket}/fc-overlap/photos`, "--output", `s3a://${s3.bucket}/fc-overlap/`],
        /contains the --input s3a:\/\//,
      ],
    ];
    for (const [args, message] of runs) {
      const r = await orchard([...args, "--overwrite", "--no-start"]);
      expect(r.code, r.stderr).toBe(2);
      const lines = r.stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^orchard: the --output .* choose an --output outside it$/);
      expect(lines[0]).toMatch(message);
    }
    expect(existsSync(join(photos, "a.jpg"))).toBe(true);
    expect(readFileSync(join(root, "inside", "run.json"), "utf8")).toBe('{"old":true}\n');
  });

  it("an existing S3 output without --overwrite is refused in under 2 s", async () => {
    const key = `first-contact-${Date.now()}/old-out/run.json`;
    await (await s3Client(s3)).send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: "{}" }));
    const output = `s3a://${s3.bucket}/${key.replace(/\/run\.json$/, "")}`;
    const r = await orchard(["run", "--input", join(root, "images"), "--output", output, "--no-start"]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/already exists; pass --overwrite/);
    expect(r.ms).toBeLessThan(2000);
  });

  it("transform with a --pca-model that orchard did not save names --pca-model", async () => {
    const r = await orchard([
      "transform",
      "--pca-model",
      join(root, "empty"),
      "--input",
      join(root, "images"),
      "--output",
      join(root, "out5"),
      "--no-start",
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^orchard: no model saved by orchard at /);
  });

  it("--no-start with a --model the running sidecar does not serve is refused before any Spark work, naming --model", async () => {
    const served = (await sidecarStatus(sidecar, 2000, inject("sidecarSecretFile"))).info?.model;
    expect(served).toBeTypeOf("string");
    const other = served === "mobilenet-v2" ? "efficientnet-lite0" : "mobilenet-v2";
    const output = join(root, "out6");
    const r = await orchard([
      "run",
      "--input",
      join(root, "images"),
      "--output",
      output,
      "--model",
      other,
      "--no-start",
    ]);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe(
      `orchard: --model ${other}: the sidecar at ${sidecar} serves ${served}; pass --model ${served}, or replace that ` +
        `sidecar (orchard sidecar stop --port ${sidecar.split(":")[1]}, then orchard sidecar start --port ${sidecar.split(":")[1]} --model ${other})`,
    );
    expect(existsSync(output)).toBe(false);
  });
});
