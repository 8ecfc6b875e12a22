import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { freePort } from "../../src/cli/local/ports.ts";
import { REPO_ROOT, testLayout } from "./helpers/test-paths.ts";

// orchard as a user gets it: `npm pack` of both packages (orchard and @orchard/udf-server, whose
// prepack scripts generate the protocol code and compile), installed into an empty project, then
// used with plain `node` on Node 20 and Node 22 (no tsx anywhere): the library, the command line,
// and a whole `orchard run` whose sidecar, ONNX worker and Spark-side bridge are the installed,
// compiled ones.

const remote = inject("sparkRemote");
const work = mkdtempSync(join(tmpdir(), "orchard-package-"));
const project = join(work, "consumer");
const layout = testLayout();
const node22 = join(layout.cacheRoot, "node-22", "bin", "node");
const nodes = [
  { name: `node ${process.versions.node}`, bin: process.execPath },
  ...(existsSync(node22) ? [{ name: "node 22", bin: node22 }] : []),
];

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command; resolves with its exit code and output (never rejects). */
function run(file: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { cwd: options.cwd ?? project, env: options.env ?? process.env, timeout: 900_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

/** The environment of a consumer process: this machine's, minus anything that would load the sources. */
function consumerEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  delete env.NODE_OPTIONS;
  return env;
}

const npm = process.platform === "win32" ? "npm.cmd" : "npm";
let tarballs: string[] = [];

beforeAll(async () => {
  const packs = join(work, "packs");
  mkdirSync(packs);
  const packed = await run(npm, ["pack", "--workspaces", "--include-workspace-root", "--pack-destination", packs], {
    cwd: REPO_ROOT,
  });
  expect(packed.code, packed.stderr).toBe(0);
  tarballs = readdirSync(packs)
    .filter((f) => f.endsWith(".tgz"))
    .sort()
    .map((f) => join(packs, f));
  expect(tarballs.map((t) => t.slice(packs.length + 1))).toEqual(["orchard-0.1.0.tgz", "orchard-udf-server-0.1.0.tgz"]);

  mkdirSync(project);
  writeFileSync(
    join(project, "package.json"),
    `${JSON.stringify({ name: "consumer", private: true, type: "module" })}\n`,
  );
  writeFileSync(join(project, ".npmrc"), "onnxruntime-node-install=skip\n");
  const installed = await run(npm, ["install", "--no-audit", "--no-fund", "--prefer-offline", ...tarballs]);
  expect(installed.code, installed.stderr).toBe(0);
}, 900_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("the npm package", () => {
  it("ships compiled JavaScript with types, and no TypeScript sources or tests", async () => {
    const listing = await run("tar", ["-tzf", tarballs[0] as string], { cwd: work });
    const files = listing.stdout.split("\n").filter(Boolean);
    expect(files).toContain("package/dist/index.js");
    expect(files).toContain("package/dist/index.d.ts");
    expect(files).toContain("package/dist/connect/gen/index.js");
    expect(files).toContain("package/bin/orchard.mjs");
    expect(files.filter((f) => /\.ts$/.test(f) && !f.endsWith(".d.ts"))).toEqual([]);
    expect(files.filter((f) => /^package\/(src|test|bench|examples)\//.test(f))).toEqual([]);
    const manifest = JSON.parse(readFileSync(join(project, "node_modules/orchard/package.json"), "utf8"));
    expect(manifest.dependencies.tsx).toBeUndefined();
    expect(existsSync(join(project, "node_modules/tsx"))).toBe(false);
  });

  describe.each(nodes)("on $name", ({ bin }) => {
    it("imports with plain node and runs a query against Spark", async () => {
      writeFileSync(
        join(project, "query.mjs"),
        [
          'import { SparkSession, functions as F, col } from "orchard";',
          "const spark = SparkSession.builder.remote(process.env.SPARK_REMOTE).getOrCreate();",
          'const rows = await spark.range(1, 11).where(col("id").gt(2)).groupBy().agg(F.sum("id").alias("s")).collect();',
          'console.log(JSON.stringify({ s: String(rows[0].get("s")), node: process.versions.node }));',
          "await spark.stop();",
        ].join("\n"),
      );
      const ran = await run(bin, ["query.mjs"], { env: consumerEnv({ SPARK_REMOTE: remote }) });
      expect(ran.stderr).toBe("");
      const out = JSON.parse(ran.stdout);
      expect(Number(out.s)).toBe(52);
      expect(out.node.split(".")[0]).toBe(bin === process.execPath ? process.versions.node.split(".")[0] : "22");
    });

    it("gives `orchard --help` and tells in one line how to install a missing Spark", async () => {
      const orchard = join(project, "node_modules", ".bin", "orchard");
      const help = await run(bin, [orchard, "--help"], { env: consumerEnv() });
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/^Usage: orchard /);
      expect(help.stdout).toMatch(/\n {2}setup \[parts\.\.\.\]/);

      const emptyCache = mkdtempSync(join(work, "cache-"));
      const port = await freePort();
      const start = await run(bin, [orchard, "spark", "start", "--port", String(port)], {
        env: consumerEnv({ ORCHARD_CACHE: emptyCache }),
      });
      expect(start.code).toBe(3);
      expect(start.stderr).toMatch(
        /^orchard: Spark 4\.1\.1 is not installed \(looked in .*\): run `npx orchard setup spark`\n$/,
      );
    });
  });

  it("type-checks a strict nodenext consumer, with no `any` in what it gets back", async () => {
    writeFileSync(
      join(project, "tsconfig.json"),
      `${JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "nodenext",
          moduleResolution: "nodenext",
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: [],
        },
        include: ["consumer.ts"],
      })}\n`,
    );
    // Each @ts-expect-error fails the check as "unused" if the type it probes were `any`.
    writeFileSync(
      join(project, "consumer.ts"),
      [
        'import { type DataFrame, OrchardError, Row, SparkSession, functions as F, col, lit } from "orchard";',
        'const spark: SparkSession = SparkSession.builder.remote("sc://localhost:15002").getOrCreate();',
        'const df: DataFrame = spark.range(10).withColumn("x", col("id").plus(lit(1))).groupBy().agg(F.sum("x"));',
        "export async function main(): Promise<number> {",
        "  const rows: Row[] = await df.collect();",
        "  // @ts-expect-error count() is a Promise<number>, not a string",
        "  const wrong: string = await df.count();",
        "  // @ts-expect-error collect() gives Rows, not numbers",
        "  const alsoWrong: number[] = rows;",
        "  // @ts-expect-error a DataFrame has no such method",
        "  df.noSuchMethod();",
        "  try {",
        "    await spark.sql('SELECT 1').show();",
        "  } catch (err) {",
        '    if (err instanceof OrchardError && err.kind === "server") return 1;',
        "  }",
        "  return rows.length + wrong.length + alsoWrong.length;",
        "}",
      ].join("\n"),
    );
    const tsc = join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc");
    const checked = await run(process.execPath, [tsc, "-p", "tsconfig.json"]);
    expect(checked.stdout + checked.stderr).toBe("");
    expect(checked.code).toBe(0);

    // And the check can fail: a wrong use of the same API is an error.
    writeFileSync(
      join(project, "consumer.ts"),
      'import { SparkSession } from "orchard";\nSparkSession.builder.remote(42);\n',
    );
    const refused = await run(process.execPath, [tsc, "-p", "tsconfig.json"]);
    expect(refused.code).not.toBe(0);
    expect(refused.stdout).toMatch(/consumer\.ts\(2,\d+\): error TS2345/);
  });

  it("runs the whole pipeline with the installed, compiled sidecar and bridge", async () => {
    const orchard = join(project, "node_modules", ".bin", "orchard");
    const input = join(work, "images");
    const fruits = join(layout.cacheRoot, "data", "fruits", "Training");
    for (const label of readdirSync(fruits).sort().slice(0, 2)) {
      mkdirSync(join(input, label), { recursive: true });
      for (const f of readdirSync(join(fruits, label)).sort().slice(0, 6))
        cpSync(join(fruits, label, f), join(input, label, f));
    }
    const port = await freePort();
    const env = consumerEnv({ SPARK_REMOTE: remote, ORCHARD_RUN_DIR: join(work, "run") });
    const started = await run(process.execPath, [orchard, "sidecar", "start", "--port", String(port)], { env });
    expect(started.code, started.stderr).toBe(0);
    try {
      const status = await run(process.execPath, [orchard, "sidecar", "status", "--port", String(port), "--json"], {
        env,
      });
      expect(JSON.parse(status.stdout).health.pid).toBeGreaterThan(0);
      const pidRecord = JSON.parse(readFileSync(join(work, "run", `sidecar-${port}.pid`), "utf8"));
      const cmdline = readFileSync(`/proc/${pidRecord.pid}/cmdline`, "utf8").split("\0");
      expect(cmdline[1]).toBe(join(project, "node_modules", "@orchard", "udf-server", "bin", "orchard-sidecar"));

      const output = join(work, "out");
      const ran = await run(
        process.execPath,
        [orchard, "run", "--input", input, "--output", output, "--k", "2", "--no-start", "--quiet"],
        { env: { ...env, ORCHARD_SIDECAR: `127.0.0.1:${port}` } },
      );
      expect(ran.code, ran.stderr).toBe(0);
      const summary = JSON.parse(readFileSync(join(output, "run.json"), "utf8"));
      expect(summary.counts).toMatchObject({ filesIn: 12, rowsOut: 12, failed: 0 });
      expect(readFileSync(join(output, "report.html"), "utf8")).toContain("<html");
      // The rows went through the installed sidecar (tsx is not installed: nothing ran from sources).
      const after = await run(process.execPath, [orchard, "sidecar", "status", "--port", String(port), "--json"], {
        env,
      });
      expect(JSON.parse(after.stdout).info.rowsServed).toBeGreaterThanOrEqual(12);
    } finally {
      await run(process.execPath, [orchard, "sidecar", "stop", "--port", String(port)], { env });
    }
  });
});
