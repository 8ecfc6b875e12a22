import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { afterAll, describe, expect, it } from "vitest";
import type { CliContext } from "../../src/cli/cli-context.ts";
import { forwardsSignal, registerSubmitCommand } from "../../src/cli/commands/submit.ts";
import { type SubmitPlan, submitPlan } from "../../src/cli/commands/submit-options.ts";
import { EXIT, ExitWith } from "../../src/cli/exit-codes.ts";
import { driverCommand, startDriver } from "../../src/cli/local/driver-process.ts";
import { installLayout } from "../../src/cli/local/install-layout.ts";
import { masterOption } from "../../src/cli/option-schemas.ts";
import { runCli } from "../../src/cli/program.ts";
import { ConfigError, SetupError } from "../../src/errors.ts";

const dir = mkdtempSync(join(tmpdir(), "orchard-submit-unit-"));
for (const f of ["driver.ts", "driver.mjs", "driver.js", "notes.txt", "extra.jar", "other.jar"]) {
  writeFileSync(join(dir, f), "");
}
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function ctx(out: string[] = [], err: string[] = []): CliContext {
  return {
    env: {},
    layout: installLayout(join(dir, "cache")),
    runDir: join(dir, "run"),
    out: (l) => out.push(l),
    err: (l) => err.push(l),
  };
}

describe("--master", () => {
  it.each([
    "local",
    "local[2]",
    "local[*]",
    "local[4,2]",
    "local[*,3]",
    "local-cluster[2,1,2048]",
    "spark://10.0.0.1:7077",
    "spark://a:7077,b:7077",
    "yarn",
    "k8s://https://kube:6443",
  ])("accepts %s", (m) => {
    expect(masterOption.parse(m)).toBe(m);
  });

  it.each([
    "",
    "local[]",
    "local[two]",
    "lokal[2]",
    "local-cluster[2,1]",
    "local-cluster",
    "local-cluster[2,1,1g]",
    "spark://",
    "yarn-client",
  ])("rejects %j", (m) => {
    expect(masterOption.safeParse(m).success).toBe(false);
  });
});

describe("submitPlan", () => {
  const plan = (script: string, args: string[], raw: Record<string, unknown> = {}, env = {}) =>
    submitPlan(script, args, raw, env, dir);

  it("defaults: local[2], no conf, no jars, 180 s, an application name from the script", () => {
    expect(plan("driver.ts", [])).toEqual({
      master: "local[2]",
      conf: {},
      jars: [],
      appName: "orchard-submit-driver",
      startTimeoutMs: 180_000,
      driver: { kind: "script", path: join(dir, "driver.ts"), args: [] },
    });
  });

  it.each([
    ["driver.ts", ["1", "--x"], { kind: "script", path: join(dir, "driver.ts"), args: ["1", "--x"] }],
    ["driver.mjs", [], { kind: "script", path: join(dir, "driver.mjs"), args: [] }],
    [
      join(dir, "driver.js"),
      ["--master", "yarn"],
      { kind: "script", path: join(dir, "driver.js"), args: ["--master", "yarn"] },
    ],
    [
      "run",
      ["--input", "s3a://b/in", "--output", "/tmp/o"],
      { kind: "pipeline", command: "run", args: ["--input", "s3a://b/in", "--output", "/tmp/o"] },
    ],
    ["fit", [], { kind: "pipeline", command: "fit", args: [] }],
    ["transform", ["--pca-model", "m"], { kind: "pipeline", command: "transform", args: ["--pca-model", "m"] }],
  ])("SCRIPT %s with ARGS %j", (script, args, driver) => {
    expect(plan(script, args).driver).toEqual(driver);
  });

  it("takes master, conf, jars (comma-separated and repeated), name and timeout", () => {
    const p = plan("driver.ts", [], {
      master: "local-cluster[2,1,1024]",
      conf: ["spark.executor.memory=512m", "spark.sql.shuffle.partitions=4"],
      jars: [`${join(dir, "extra.jar")},${join(dir, "other.jar")}`, "https://repo.example/x.jar"],
      name: "nightly",
      timeout: "30",
    });
    expect(p).toMatchObject({
      master: "local-cluster[2,1,1024]",
      conf: { "spark.executor.memory": "512m", "spark.sql.shuffle.partitions": "4" },
      jars: [join(dir, "extra.jar"), join(dir, "other.jar"), "https://repo.example/x.jar"],
      appName: "nightly",
      startTimeoutMs: 30_000,
    });
  });

  it("names the pipeline's application after the command", () => {
    expect(plan("run", []).appName).toBe("orchard-submit-run");
  });

  it("configures S3 for the server from --s3-endpoint or ORCHARD_S3_ENDPOINT, keys from the environment", () => {
    const env = { ORCHARD_S3_ENDPOINT: "http://127.0.0.1:9000", AWS_ACCESS_KEY_ID: "ak", AWS_SECRET_ACCESS_KEY: "sk" };
    expect(plan("driver.ts", [], {}, env).s3).toEqual({
      endpoint: "http://127.0.0.1:9000",
      accessKeyId: "ak",
      secretAccessKey: "sk",
      region: "us-east-1",
      pathStyle: true,
    });
    expect(plan("driver.ts", [], { s3Endpoint: "http://10.0.0.2:9000" }, env).s3?.endpoint).toBe(
      "http://10.0.0.2:9000",
    );
    expect(plan("driver.ts", []).s3).toBeUndefined();
  });

  it.each<[string, string, string[], Record<string, unknown>, Record<string, string>, RegExp]>([
    ["a bad master", "driver.ts", [], { master: "local[two]" }, {}, /^invalid --master: expected a Spark master/],
    ["a conf that is not key=value", "driver.ts", [], { conf: ["shuffle=4"] }, {}, /^invalid --conf\[0\]/],
    [
      "a missing jar",
      "driver.ts",
      [],
      { jars: [join(dir, "missing.jar")] },
      {},
      /^invalid --jars\[0\]: expected jar files/,
    ],
    ["a bad timeout", "driver.ts", [], { timeout: "soon" }, {}, /^invalid --timeout/],
    ["a bad name", "driver.ts", [], { name: "my app" }, {}, /^invalid --name/],
    ["a script of another kind", "notes.txt", [], {}, {}, /^invalid SCRIPT "notes.txt": expected a driver script/],
    ["an unknown command", "demo", [], {}, {}, /^invalid SCRIPT "demo"/],
    ["a missing script", "nope.ts", [], {}, {}, /^driver script nope.ts does not exist/],
    ["S3 without keys", "driver.ts", [], { s3Endpoint: "http://127.0.0.1:9000" }, {}, /AWS_ACCESS_KEY_ID/],
  ])("refuses %s with a ConfigError", (_name, script, args, raw, env, message) => {
    let error: unknown;
    try {
      plan(script, args, raw, env);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
  });
});

describe("orchard submit's command line", () => {
  async function parse(argv: string[], code = 0): Promise<{ plan?: SubmitPlan; thrown?: unknown }> {
    let plan: SubmitPlan | undefined;
    const program = new Command("orchard").exitOverride();
    registerSubmitCommand(program, ctx(), async (p) => {
      plan = p;
      return code;
    });
    try {
      await program.parseAsync(argv, { from: "user" });
      return { plan };
    } catch (thrown) {
      return { plan, thrown };
    }
  }

  it("takes options before SCRIPT and passes everything after it to the script untouched", async () => {
    const script = join(dir, "driver.mjs");
    const { plan } = await parse([
      "submit",
      "--master",
      "local[3]",
      "--conf",
      "spark.a=1",
      "--conf",
      "spark.b=2",
      script,
      "--master",
      "yarn",
      "--conf",
      "x",
      "-v",
      "--help",
      "--",
      "pos",
    ]);
    expect(plan?.master).toBe("local[3]");
    expect(plan?.conf).toEqual({ "spark.a": "1", "spark.b": "2" });
    expect(plan?.driver).toEqual({
      kind: "script",
      path: script,
      args: ["--master", "yarn", "--conf", "x", "-v", "--help", "--", "pos"],
    });
  });

  it("passes a pipeline command's options on: submit run --input ... --output ...", async () => {
    const { plan } = await parse(["submit", "--master", "spark://m:7077", "run", "--input", "in", "--output", "out"]);
    expect(plan?.master).toBe("spark://m:7077");
    expect(plan?.driver).toEqual({ kind: "pipeline", command: "run", args: ["--input", "in", "--output", "out"] });
  });

  it("ends with the driver's exit code (ExitWith), nothing for 0", async () => {
    const script = join(dir, "driver.mjs");
    expect((await parse(["submit", script], 0)).thrown).toBeUndefined();
    const { thrown } = await parse(["submit", script], 7);
    expect(thrown).toBeInstanceOf(ExitWith);
    expect((thrown as ExitWith).code).toBe(7);
  });

  it("refuses an unknown option before SCRIPT (exit 2), and needs a SCRIPT", async () => {
    const err: string[] = [];
    expect(await runCli(["submit", "--mastr", "local[2]", join(dir, "driver.ts")], ctx([], err))).toBe(EXIT.config);
    expect(err.join("\n")).toMatch(/unknown option '--mastr'/);
    expect(await runCli(["submit"], ctx([], err))).toBe(EXIT.config);
    expect(err.join("\n")).toMatch(/missing required argument 'script'/);
  });

  it("reports a bad master in one line (exit 2), and a missing Spark install (exit 3) before any start", async () => {
    const err: string[] = [];
    expect(await runCli(["submit", "--master", "local-cluster[2]", join(dir, "driver.ts")], ctx([], err))).toBe(
      EXIT.config,
    );
    expect(err).toEqual([
      "orchard: invalid --master: expected a Spark master such as local[2], local[*], local-cluster[2,1,1024], spark://host:7077 or yarn",
    ]);
    err.length = 0;
    expect(await runCli(["submit", join(dir, "driver.ts")], ctx([], err))).toBe(EXIT.setup);
    expect(err.join("\n")).toMatch(/^orchard: Spark 4\.1\.1 is not installed/);
  });

  it("lists submit in the help", async () => {
    const out: string[] = [];
    await runCli(["--help"], ctx(out));
    expect(out.join("\n")).toMatch(/submit \[options\] <script> \[args\.\.\.\]/);
  });
});

describe("driverCommand", () => {
  const runtime = { node: "/usr/bin/node", orchardBin: "/pkg/bin/orchard.mjs" };
  const ts = { kind: "script", path: "/w/a.ts", args: ["1"] } as const;

  it.each([
    [
      "a .ts script in a checkout: orchard's source-mode loader",
      ts,
      { ...runtime, sourceModeLoader: "file:///src-mode.mjs", tsxLoader: "file:///tsx.mjs" },
      ["--import", "file:///src-mode.mjs", "/w/a.ts", "1"],
    ],
    [
      "a .ts script installed: tsx's loader",
      ts,
      { ...runtime, tsxLoader: "file:///tsx.mjs" },
      ["--import", "file:///tsx.mjs", "/w/a.ts", "1"],
    ],
    [
      "a .mjs script: plain node",
      { kind: "script", path: "/w/a.mjs", args: ["-x"] } as const,
      runtime,
      ["/w/a.mjs", "-x"],
    ],
    [
      "a pipeline command: orchard's own CLI",
      { kind: "pipeline", command: "run", args: ["--input", "i"] } as const,
      runtime,
      ["/pkg/bin/orchard.mjs", "run", "--input", "i"],
    ],
  ])("%s", (_name, driver, rt, args) => {
    expect(driverCommand(driver, rt)).toEqual({ command: "/usr/bin/node", args });
  });

  it("refuses a .ts script when no tsx can be found, saying what to do", () => {
    expect(() => driverCommand(ts, runtime)).toThrow(SetupError);
    expect(() => driverCommand(ts, runtime)).toThrow(/npm install --save-dev tsx/);
  });
});

describe("signal forwarding", () => {
  it.each<[NodeJS.Signals, number, boolean, boolean]>([
    ["SIGINT", 1, false, true], // kill -INT to a submit without a terminal: the driver would not get it otherwise
    ["SIGINT", 1, true, false], // Ctrl-C in a terminal reached the driver already
    ["SIGINT", 2, true, true], // a second Ctrl-C is passed on
    ["SIGTERM", 0, true, true],
    ["SIGTERM", 0, false, true],
    ["SIGHUP", 0, true, true],
  ])("%s (SIGINT #%i, terminal %s): forwarded %s", (signal, count, interactive, forwarded) => {
    expect(forwardsSignal(signal, count, interactive)).toBe(forwarded);
  });
});

describe("startDriver", () => {
  const node = (code: string) => ({ command: process.execPath, args: ["-e", code] });

  it.each([
    ["an exit code", "process.exit(7)", 7],
    ["a crash (uncaught error)", "throw new Error('an intentional crash (cli-submit.test.ts)')", 1],
    ["a signal: 128 + its number", "process.kill(process.pid, 'SIGTERM')", 143],
    ["success", "", 0],
  ])("passes on %s", async (_name, code, expected) => {
    const driver = startDriver(node(code), { PATH: process.env.PATH });
    expect(await driver.exited).toBe(expected);
  });

  it("delivers a signal to the driver, and gives it the environment it was started with", async () => {
    const ready = join(dir, "driver-ready");
    const driver = startDriver(
      node(
        "process.on('SIGINT', () => process.exit(Number(process.env.CODE))); require('node:fs').writeFileSync(process.env.READY, ''); setInterval(() => {}, 1000)",
      ),
      { CODE: "5", READY: ready },
    );
    for (let i = 0; i < 300 && !existsSync(ready); i++) await new Promise((r) => setTimeout(r, 50));
    driver.signal("SIGINT");
    expect(await driver.exited).toBe(5);
    driver.signal("SIGINT"); // after exit: a no-op
  });
});
