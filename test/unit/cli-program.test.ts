import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CliContext } from "../../src/cli/cli-context.ts";
import { EXIT, exitCodeFor } from "../../src/cli/exit-codes.ts";
import { installLayout } from "../../src/cli/local/install-layout.ts";
import { runCli } from "../../src/cli/program.ts";
import { ConfigError, OrchardError, SetupError } from "../../src/errors.ts";

let dir: string;
let out: string[];
let err: string[];

function ctx(env: Record<string, string> = {}): CliContext {
  const layout = installLayout(join(dir, "cache"));
  return { env, layout, runDir: join(dir, "run"), out: (l) => out.push(l), err: (l) => err.push(l) };
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "orchard-cli-unit-"));
  out = [];
  err = [];
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("runCli", () => {
  it("prints help listing the commands and exits 0", async () => {
    expect(await runCli(["--help"], ctx())).toBe(EXIT.ok);
    const text = out.join("\n");
    expect(text).toMatch(/Usage: orchard/);
    expect(text).toMatch(/spark\s+start, stop or inspect a local\s+Spark\s+Connect\s+server/);
  });

  it("has --help on sub-commands", async () => {
    expect(await runCli(["spark", "start", "--help"], ctx())).toBe(EXIT.ok);
    expect(out.join("\n")).toContain("--conf <key=value>");
  });

  it("reports a bad option as one orchard: line naming the flag, exit code 2", async () => {
    expect(await runCli(["spark", "start", "--port", "99999"], ctx())).toBe(EXIT.config);
    expect(err).toEqual(["orchard: invalid --port: expected an integer port from 1 to 65535"]);
  });

  it("treats unknown commands and options as usage errors (exit 2)", async () => {
    expect(await runCli(["sprak"], ctx())).toBe(EXIT.config);
    expect(err.join("\n")).toMatch(/^orchard: unknown command 'sprak'/);
    err = [];
    expect(await runCli(["spark", "status", "--bogus"], ctx())).toBe(EXIT.config);
    expect(err.join("\n")).toMatch(/^orchard: unknown option '--bogus'/);
  });

  it("status of a port with no server recorded exits 3 with a clear message", async () => {
    expect(await runCli(["spark", "status", "--port", "15999"], ctx())).toBe(EXIT.setup);
    expect(err).toEqual([
      "orchard: no local Spark Connect server started by orchard is running on port 15999 (start one with: orchard spark start --port 15999)",
    ]);
  });

  it("stop with nothing recorded is not an error", async () => {
    expect(await runCli(["spark", "stop", "--port", "15999"], ctx())).toBe(EXIT.ok);
    expect(out).toEqual(["no local Spark Connect server started by orchard on port 15999"]);
  });

  it("asks for the S3 keys in the environment when --s3-endpoint is given, without starting anything", async () => {
    const code = await runCli(["spark", "start", "--port", "15999", "--s3-endpoint", "http://127.0.0.1:9"], ctx());
    expect(code).toBe(EXIT.config);
    expect(err.at(-1)).toBe(
      "orchard: invalid ORCHARD_S3_ACCESS_KEY / ORCHARD_S3_SECRET_KEY: expected both set in the environment when --s3-endpoint is given",
    );
  });

  it("spark start refuses --no-token with --token-file, and a token file others can read, before starting anything", async () => {
    expect(await runCli(["spark", "start", "--port", "15999", "--no-token", "--token-file", "x"], ctx())).toBe(
      EXIT.config,
    );
    expect(err.at(-1)).toBe("orchard: invalid --no-token: expected either --no-token or --token-file, not both");
    const loose = join(dir, "loose.token");
    writeFileSync(loose, "SECRET-VALUE\n", { mode: 0o644 });
    expect(await runCli(["spark", "start", "--port", "15999", "--token-file", loose], ctx())).toBe(EXIT.config);
    expect(err.at(-1)).toMatch(/^orchard: --token-file: the token file .* \(mode 0644\); run: chmod 600 /);
    expect(err.join("\n")).not.toContain("SECRET-VALUE");
  });

  it("run, shell and report take --token-file; a missing one is exit 2 naming the flag", async () => {
    for (const command of ["shell", "report"]) {
      out = [];
      expect(await runCli([command, "--help"], ctx())).toBe(EXIT.ok);
      expect(out.join("\n"), command).toContain("--token-file <file>");
    }
    const code = await runCli(["shell", "--no-start", "--token-file", join(dir, "missing.token")], ctx());
    expect(code).toBe(EXIT.config);
    expect(err).toHaveLength(1);
    expect(err.at(-1)).toMatch(/^orchard: --token-file: cannot read the token file .*missing\.token \(ENOENT\)$/);
  });

  it("warns when --remote carries a token (argv is visible to every local user), never showing it", async () => {
    const args = ["--no-start", "--remote", "sc://127.0.0.1:1/;token=SECRET-VALUE", "--token-file", join(dir, "none")];
    expect(await runCli(["shell", ...args], ctx())).toBe(EXIT.config);
    expect(err[0]).toBe(
      "orchard: warning: the token in --remote is visible to every local user (ps); give it with SPARK_CONNECT_TOKEN or --token-file instead",
    );
    expect(err.join("\n")).not.toContain("SECRET-VALUE");
  });

  it("reports a missing Spark installation as a set-up error (exit 3)", async () => {
    expect(await runCli(["spark", "start", "--port", "15999"], ctx())).toBe(EXIT.setup);
    expect(err.at(-1)).toMatch(
      /^orchard: Spark 4\.1\.1 is not installed \(looked in .*\): run `npx orchard setup spark`$/,
    );
  });
});

describe("exitCodeFor", () => {
  it("maps error kinds to exit codes", () => {
    expect(exitCodeFor(new ConfigError({ field: "--k", expected: "an integer" }))).toBe(2);
    expect(exitCodeFor(new SetupError({ component: "spark", message: "x" }))).toBe(3);
    expect(exitCodeFor(new OrchardError("connection", { message: "x" }))).toBe(3);
    expect(exitCodeFor(new OrchardError("server", { message: "x" }))).toBe(1);
    expect(exitCodeFor(new OrchardError("interrupted", { message: "x" }))).toBe(130);
    expect(exitCodeFor(new TypeError("x"))).toBe(1);
  });
});
