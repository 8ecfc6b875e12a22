/**
 * Values that reach the bridge command (which Spark runs under `bash -c` on every executor): the
 * real CLI refuses shell metacharacters in ORCHARD_SIDECAR, --bridge and the secret file's
 * path with exit 2 and one line naming the field, before anything starts, and nothing it would
 * have run exists afterwards. And the real bridge, installed under a path with a space and given
 * a secret file under one, runs through `bash -c` against the real sidecar.
 */
import { spawn } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { readSecretFile, writeSecretFile } from "../../../udf-server/src/auth/sidecar-secret.ts";
import { BRIDGE_BIN, bridgeCommand } from "../../../udf-server/src/bridge/bridge-command.ts";
import { cliEnv } from "../helpers/cli-env.ts";
import { runOrchard } from "../helpers/orchard-cli.ts";
import { fruitImages } from "../sidecar-support.ts";

const work = mkdtempSync(join(tmpdir(), "orchard-injection-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const orchard = (args: string[], env: NodeJS.ProcessEnv) => runOrchard(args, { env, timeout: 60_000 });

/** Payloads that create `marker` if a shell ever runs them, one per metacharacter family. */
const payloads = (marker: string) => [
  `$(>${marker})`,
  `\`touch ${marker}\``,
  `;touch ${marker}`,
  `|touch ${marker}`,
  `&touch ${marker}`,
  `>${marker}`,
  `'$(touch ${marker})'`,
  `"$(touch ${marker})"`,
  `\\$(touch ${marker})`,
  `\ntouch ${marker}`,
];

describe("shell metacharacters never reach bash", () => {
  const input = join(work, "in", "apple");
  mkdirSync(input, { recursive: true });
  for (const f of fruitImages(2)) copyFileSync(f, join(input, f.split("/").pop() as string));

  it("ORCHARD_SIDECAR, --bridge and ORCHARD_SIDECAR_SECRET_FILE: exit 2, one line naming the field, no file", async () => {
    const cases: Array<{ field: RegExp; args: string[]; env: NodeJS.ProcessEnv; marker: string }> = [];
    let n = 0;
    for (const kind of ["sidecar", "bridge", "secret"] as const) {
      // Every family through ORCHARD_SIDECAR (the case); three through each other field (the
      // unit tests hold every metacharacter for every field).
      const families = kind === "sidecar" ? payloads("").length : 3;
      for (let k = 0; k < families; k++) {
        const marker = join(work, `m-${kind}-${n++}`);
        const payload = payloads(marker)[k] as string;
        const args = ["run", "--input", join(work, "in"), "--output", join(work, `out-${n}`), "--no-start"];
        const env = { ...cliEnv() };
        if (kind === "sidecar") env.ORCHARD_SIDECAR = `${payload}:8815`;
        if (kind === "bridge") args.push("--bridge", `orchard-bridge ${payload}`);
        if (kind === "secret") env.ORCHARD_SIDECAR_SECRET_FILE = join(work, payload);
        const field = {
          sidecar: /--sidecar.*ORCHARD_SIDECAR/,
          bridge: /--bridge/,
          secret: /ORCHARD_SIDECAR_SECRET_FILE/,
        }[kind];
        cases.push({ field, args, env, marker });
      }
    }
    // Four at a time: each is a whole CLI start.
    for (let i = 0; i < cases.length; i += 4) {
      const batch = cases.slice(i, i + 4);
      const results = await Promise.all(batch.map((c) => orchard(c.args, c.env)));
      results.forEach((r, j) => {
        const c = batch[j] as (typeof cases)[number];
        expect(r.code, c.args.join(" ")).toBe(2);
        expect(r.stderr.trim().split("\n"), r.stderr).toHaveLength(1);
        expect(r.stderr).toMatch(c.field);
        expect(r.stderr).not.toMatch(/\n\s+at /);
        expect(existsSync(c.marker), c.marker).toBe(false);
      });
    }
    expect(readdirSync(work).filter((f) => f.startsWith("m-"))).toEqual([]);
  }, 600_000);

  it("the real bridge under a path with a space, with its secret file under one, runs through bash -c", async () => {
    const spaced = join(work, "install dir", "it's here");
    mkdirSync(spaced, { recursive: true });
    const bridge = join(spaced, "orchard-bridge");
    symlinkSync(BRIDGE_BIN, bridge);
    const secretFile = join(work, "run dir", "sidecar.secret");
    writeSecretFile(secretFile, readSecretFile(inject("sidecarSecretFile")));
    const command = bridgeCommand({
      sidecar: inject("sidecar"),
      executable: bridge,
      secretFile,
      expectModel: { name: "efficientnet-lite0" },
    });
    const [a, b] = fruitImages(2);
    const rows = [a, b].map((p) => `${p}\t${readFileSync(p as string).toString("base64")}\n`).join("");
    const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn("bash", ["-c", command], { env: { ...process.env, ORCHARD_SIDECAR_AUTOSTART: "0" } });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.stderr.on("data", (d) => (stderr += d));
      child.on("close", (code) => resolve({ code, stdout, stderr }));
      child.stdin.end(rows);
    });
    expect(out.stderr).toBe("");
    expect(out.code).toBe(0);
    const lines = out.stdout
      .trim()
      .split("\n")
      .map((l) => l.split("\t"));
    expect(lines.map((l) => l[0])).toEqual([a, b]);
    for (const l of lines) {
      expect(l[2]).toBe("\\N");
      expect(JSON.parse(l[1] as string)).toHaveLength(1280);
    }
  });
});
