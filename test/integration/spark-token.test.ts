import { spawn } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { freePort } from "../../src/cli/local/ports.ts";
import { readState } from "../../src/cli/local/server-state.ts";
import { stopLocalSpark } from "../../src/cli/local/spark-server.ts";
import { SparkAuthenticationError, SparkSession } from "../../src/index.ts";
import { cliEnv } from "./helpers/cli-env.ts";
import { runOrchard } from "./helpers/orchard-cli.ts";
import { withPySpark } from "./helpers/pyspark-client.ts";
import { REPO_ROOT } from "./helpers/test-paths.ts";

// Tokens by default, against real Spark servers: the shared one of the global set-up (started by
// the same startLocalSpark every orchard command uses, so it requires a random token too) and one
// that `orchard spark start` starts here (one extra Spark start, 10-30 s).

const shared = inject("sparkRemote");
const sharedToken = decodeURIComponent(/;token=([^;]+)/.exec(shared)?.[1] ?? "");
const sharedPlain = shared.replace(/\/?;token=[^;]+/, "");
const work = mkdtempSync(join(tmpdir(), "orchard-spark-token-"));
const runDir = join(work, "run");

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** The real CLI; `env` on top of the test environment (undefined values removed). */
function orchard(args: string[], env: Record<string, string | undefined> = {}, input?: string): Promise<Ran> {
  const merged: NodeJS.ProcessEnv = { ...cliEnv(), ORCHARD_RUN_DIR: runDir, ...env };
  for (const [k, v] of Object.entries(merged)) if (v === undefined) delete merged[k];
  return runOrchard(args, { env: merged, timeout: 300_000, ...(input === undefined ? {} : { input }) });
}

/** `orchard shell` fed one line on stdin; resolves with what it printed once it printed `marker` (or exited). */
function shellLine(line: string, marker: string, env: Record<string, string | undefined>): Promise<Ran> {
  const merged: NodeJS.ProcessEnv = { ...cliEnv(), ORCHARD_RUN_DIR: runDir, ...env };
  for (const [k, v] of Object.entries(merged)) if (v === undefined) delete merged[k];
  const child = spawn(process.execPath, [join(REPO_ROOT, "bin", "orchard.mjs"), "shell", "--no-start"], {
    cwd: REPO_ROOT,
    env: merged,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => {
    stdout += d.toString();
    if (stdout.includes(marker)) child.stdin.end(".exit\n");
  });
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  child.stdin.write(`${line}\n`);
  const timer = setTimeout(() => child.kill("SIGTERM"), 120_000);
  return new Promise((resolve) => {
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

async function refusal(remote: string): Promise<unknown> {
  const spark = SparkSession.builder.remote(remote).create();
  try {
    await spark.version();
    return undefined;
  } catch (err) {
    return err;
  } finally {
    await spark.stop();
  }
}

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("the shared test Spark requires its token", () => {
  it("our client without the token gets SparkAuthenticationError (UNAUTHENTICATED), with a wrong one too", async () => {
    expect(sharedToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    for (const remote of [sharedPlain, `${sharedPlain}/;token=not-the-token`]) {
      const err = await refusal(remote);
      expect(err, remote).toBeInstanceOf(SparkAuthenticationError);
      expect((err as SparkAuthenticationError).grpcCode).toBe("UNAUTHENTICATED");
      expect((err as Error).message).not.toContain(sharedToken);
      expect((err as Error).message).not.toContain("not-the-token");
    }
    const spark = SparkSession.builder.remote(sharedPlain).token(sharedToken).create();
    expect(await spark.version()).toMatch(/^4\.1\./);
    await spark.stop();
  });

  it("PySpark sends it from SPARK_CONNECT_AUTHENTICATE_TOKEN", async () => {
    expect(await withPySpark<number>(shared, "print(json.dumps(spark.range(7).count()))")).toBe(7);
  });

  it("the CLI without the token fails in one line with exit 3; with SPARK_CONNECT_TOKEN it runs", async () => {
    const images = join(work, "images", "apple");
    mkdirSync(images, { recursive: true });
    copyFileSync(join(REPO_ROOT, "docs", "progress.png"), join(images, "a.png"));
    const refused = await orchard(
      ["run", "--input", join(work, "images"), "--output", join(work, "out"), "--no-start"],
      {
        SPARK_REMOTE: sharedPlain,
        SPARK_CONNECT_TOKEN: undefined,
      },
    );
    expect(refused.code, refused.stderr).toBe(3);
    expect(
      refused.stderr
        .trim()
        .split("\n")
        .filter((l) => l.startsWith("orchard:")),
    ).toEqual([
      expect.stringMatching(
        /^orchard: Spark Connect at sc:\/\/127\.0\.0\.1:\d+ refused the request \(UNAUTHENTICATED\)/,
      ),
    ]);
    expect(refused.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(work, "out", "run.json"))).toBe(false);

    const ran = await shellLine('console.log("COUNT=" + (await spark.range(5).count()))', "COUNT=", {
      SPARK_REMOTE: sharedPlain,
      SPARK_CONNECT_TOKEN: sharedToken,
    });
    expect(ran.stdout, ran.stderr).toContain("COUNT=5");
    expect(ran.stderr).toMatch(/orchard shell: Spark 4\.1\.\d+ at sc:\/\/127\.0\.0\.1:\d+\/;token=<redacted>/);
    expect(ran.stdout + ran.stderr).not.toContain(sharedToken);
  });
});

describe("orchard spark start: a random token by default, in a 0600 file orchard's commands use", () => {
  let port: number;
  let started: Ran;
  let tokenFile: string;
  let token: string;
  const clientToken = "CLIENT-SIDE-TOKEN-NOT-FOR-THE-SERVER";

  beforeAll(async () => {
    port = await freePort();
    started = await orchard(["spark", "start", "--port", String(port), "--master", "local[1]"], {
      // Variables the server must not inherit.
      SPARK_CONNECT_TOKEN: clientToken,
      GITHUB_TOKEN: "ghp_not_for_spark",
      ORCHARD_S3_SECRET_KEY: "not-for-spark-either",
      SOME_OTHER_SECRET: "nor-this",
    });
    tokenFile = join(runDir, `spark-${port}.token`);
    token = existsSync(tokenFile) ? readFileSync(tokenFile, "utf8").trim() : "";
  }, 300_000);

  afterAll(async () => {
    await stopLocalSpark({ runDir, port });
  });

  it("starts, names the token file (mode 0600) and never prints the token", () => {
    expect(started.code, started.stderr).toBe(0);
    expect(started.stdout).toContain(`token: ${tokenFile} (mode 0600`);
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(started.stdout + started.stderr).not.toContain(token);
    expect(readState(runDir, "spark", port)).toMatchObject({ authenticated: true, tokenFile });
    // Its internal RPC (driver, block manager) requires the secret Spark generates for local masters.
    expect(readFileSync(join(runDir, `spark-${port}.log`), "utf8")).toContain(
      "SecurityManager: authentication enabled",
    );
  });

  it("the token is in the server's environment, not its command line; the rest of the environment is trimmed", () => {
    const pid = (readState(runDir, "spark", port) as { pid: number }).pid;
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    expect(cmdline).toContain("SparkConnectServer");
    expect(cmdline).not.toContain(token);
    const environ = Object.fromEntries(
      readFileSync(`/proc/${pid}/environ`, "utf8")
        .split("\0")
        .filter((kv) => kv.includes("="))
        .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
    );
    expect(environ.SPARK_CONNECT_AUTHENTICATE_TOKEN).toBe(token);
    for (const name of [
      "SPARK_CONNECT_TOKEN",
      "GITHUB_TOKEN",
      "ORCHARD_S3_SECRET_KEY",
      "SOME_OTHER_SECRET",
      "SPARK_REMOTE",
    ]) {
      expect(environ[name], name).toBeUndefined();
    }
    expect(environ.PATH).toBeTypeOf("string");
    // Everything else it got is on the documented list (docs/security.md, "Environment"), or set
    // by Spark's own launch scripts and bash (PYTHONHASHSEED, PWD, SHLVL, _).
    const allowed =
      /^(PATH|HOME|USER|LOGNAME|TMPDIR|TMP|TEMP|LANG|LANGUAGE|TZ|JAVA_HOME|KRB5CCNAME|KRB5_CONFIG|(HTTPS?|NO)_PROXY|(https?|no)_proxy|NODE_OPTIONS|LC_.*|SPARK_.*|HADOOP_.*|YARN_.*|ORCHARD_.*|AWS_.*|PWD|SHLVL|_|OLDPWD|PYTHONHASHSEED)$/;
    expect(Object.keys(environ).filter((k) => !allowed.test(k))).toEqual([]);
  });

  it("a client without the token is refused; spark status names the token file", async () => {
    const err = await refusal(`sc://127.0.0.1:${port}`);
    expect(err).toBeInstanceOf(SparkAuthenticationError);
    const status = await orchard(["spark", "status", "--port", String(port)]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain(`authentication: bearer token (${tokenFile})`);
  });

  it("orchard's own commands find the token in the file: orchard shell on that port, no token given", async () => {
    const ran = await shellLine('console.log("COUNT=" + (await spark.range(3).count()))', "COUNT=", {
      SPARK_REMOTE: `sc://127.0.0.1:${port}`,
      SPARK_CONNECT_TOKEN: undefined,
    });
    expect(ran.stdout, ran.stderr).toContain("COUNT=3");
    expect(ran.stdout + ran.stderr).not.toContain(token);
  });

  it("--token-file gives the token instead; a file other users can read is refused with exit 2", async () => {
    const loose = join(work, "loose.token");
    writeFileSync(loose, "abc\n", { mode: 0o644 });
    const r = await orchard(["shell", "--no-start", "--token-file", loose], { SPARK_REMOTE: `sc://127.0.0.1:${port}` });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(
      /^orchard: --token-file: the token file .*loose\.token can be read or changed by other users \(mode 0644\); run: chmod 600 /,
    );
  });

  it("spark stop removes the token file", async () => {
    const r = await orchard(["spark", "stop", "--port", String(port)]);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(tokenFile)).toBe(false);
  });
});
