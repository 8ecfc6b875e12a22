import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { REPO_ROOT } from "./helpers/test-paths.ts";

// `orchard shell` as a person uses it: in a real pseudo-terminal (tmux, on its own socket), typing
// lines against the real Spark Connect server and reading the screen.

const remote = inject("sparkRemote");
const socket = `orchard-shell-test-${process.pid}`;
const cache = mkdtempSync(join(tmpdir(), "orchard-shell-"));

function tmux(...args: string[]): string {
  return execFileSync("tmux", ["-L", socket, ...args], { encoding: "utf8" });
}

/** The whole pane including scrollback, wrapped lines joined. */
function screen(): string {
  return tmux("capture-pane", "-p", "-J", "-S", "-500", "-t", "shell");
}

async function waitFor(what: string | RegExp, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = screen();
    if (typeof what === "string" ? s.includes(what) : what.test(s)) return s;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${String(what)}; screen:\n${s}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function type(line: string): void {
  tmux("send-keys", "-t", "shell", "-l", line);
  tmux("send-keys", "-t", "shell", "Enter");
}

const count = (text: string, sub: string) => text.split(sub).length - 1;

beforeAll(async () => {
  try {
    execFileSync("tmux", ["-V"]);
  } catch {
    execFileSync("bash", ["-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux"], {
      stdio: "inherit",
    });
  }
  execFileSync(
    "tmux",
    [
      "-L",
      socket,
      "new-session",
      "-d",
      "-s",
      "shell",
      "-x",
      "160",
      "-y",
      "50",
      `${process.execPath} ${join(REPO_ROOT, "bin", "orchard.mjs")} shell --no-start`,
    ],
    { env: { ...process.env, SPARK_REMOTE: remote, ORCHARD_CACHE: cache, TERM: "xterm-256color" }, cwd: REPO_ROOT },
  );
  await waitFor("orchard> ", 60_000);
}, 90_000);

afterAll(() => {
  try {
    tmux("kill-server");
  } catch {
    // the session already ended with the shell
  }
  rmSync(cache, { recursive: true, force: true });
});

describe("orchard shell in a terminal", () => {
  it("greets with the server's Spark version and binds spark, F, col, lit", async () => {
    expect(screen()).toMatch(/orchard shell: Spark 4\.1\.\d+ at sc:\/\/127\.0\.0\.1:\d+/);
    type('[typeof spark.sql, typeof F.upper, typeof col, typeof lit].join(",")');
    await waitFor("'function,function,function,function'");
  });

  it("echoes a DataFrame as its schema and show() prints Spark's table", async () => {
    type('const df = spark.range(5).withColumn("sq", col("id").multiply(col("id"))).withColumn("tag", lit("x"))');
    type("df");
    await waitFor("DataFrame[id: bigint, sq: bigint, tag: string]");
    type("await df.show()");
    const s = await waitFor("|  4| 16|  x|");
    expect(s).toContain("+---+---+---+\n| id| sq|tag|\n+---+---+---+\n|  0|  0|  x|");
  });

  it("awaits at top level", async () => {
    type("const n = await spark.range(7).where(col('id').gt(lit(2))).count(); n * 10");
    await waitFor(/^40$/m);
  });

  it("prints Rows as PySpark does, and a failing query as one error message without ending the shell", async () => {
    type('await spark.range(2).withColumn("s", lit("x")).collect()');
    await waitFor("[\n  Row(id=0, s=x),\n  Row(id=1, s=x)\n]");
    type('await spark.sql("SELECT nope FROM no_such_table").collect()');
    const s = await waitFor(/SparkServerError: \[TABLE_OR_VIEW_NOT_FOUND\]/);
    expect(s).not.toContain("grpc-status-details-bin");
    expect(s).not.toMatch(/at SparkConnectClient/);
    type("await spark.range(2).first()");
    await waitFor(/^Row\(id=0\)$/m);
  });

  it("Ctrl-C interrupts the running Spark operation, not the shell", async () => {
    const before = screen();
    type('await spark.range(0, 200000000000, 1, 2).selectExpr("sum(sqrt(id)) AS s").collect()');
    // The bar shows the query runs on Spark (tasks of its stage).
    await waitFor(/spark \|.*tasks 0\/2/, 60_000);
    const t0 = Date.now();
    tmux("send-keys", "-t", "shell", "C-c");
    await waitFor("interrupted 1 running Spark operation", 30_000);
    type("await spark.range(11).count()");
    await waitFor(/^11$/m, 30_000);
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(count(screen(), "orchard shell: Spark")).toBe(count(before, "orchard shell: Spark"));
  });

  it("leaves with .exit", async () => {
    type(".exit");
    const deadline = Date.now() + 30_000;
    let alive = true;
    while (alive && Date.now() < deadline) {
      try {
        tmux("has-session", "-t", "shell");
        await new Promise((r) => setTimeout(r, 200));
      } catch {
        alive = false;
      }
    }
    expect(alive).toBe(false);
  });
});
