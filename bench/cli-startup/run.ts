/**
 * bench/cli-startup: how long `orchard --help` takes as a user gets it — the npm tarballs
 * installed into an empty project, compiled JavaScript run by plain `node` — against `node -e 0`
 * measured in the same run, and the ratio (target: at most 3x). Also the checkout's own
 * `bin/orchard.mjs --help`, which runs the TypeScript sources through tsx, for comparison.
 *
 *   npx tsx bench/cli-startup/run.ts [--runs 20] [--keep DIR]
 *
 * Packs and installs first (about a minute). Runs interleave the commands so they see the same
 * load; the median of each is reported. Not part of `npm test`.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

const repo = resolve(import.meta.dirname, "..", "..");
const { values } = parseArgs({ options: { runs: { type: "string", default: "20" }, keep: { type: "string" } } });
const runs = Number(values.runs);
const work = values.keep ?? mkdtempSync(join(tmpdir(), "orchard-cli-startup-"));

const packs = join(work, "packs");
const project = join(work, "project");
rmSync(packs, { recursive: true, force: true });
mkdirSync(packs, { recursive: true });
mkdirSync(project, { recursive: true });
console.log("packing and installing orchard ...");
execFileSync("npm", ["pack", "--silent", "--workspaces", "--include-workspace-root", "--pack-destination", packs], {
  cwd: repo,
  stdio: ["ignore", "ignore", "inherit"],
});
writeFileSync(join(project, "package.json"), '{"name":"bench","private":true,"type":"module"}\n');
writeFileSync(join(project, ".npmrc"), "onnxruntime-node-install=skip\n");
const tarballs = readdirSync(packs).map((f) => join(packs, f));
execFileSync("npm", ["install", "--silent", "--no-audit", "--no-fund", "--prefer-offline", ...tarballs], {
  cwd: project,
  stdio: ["ignore", "ignore", "inherit"],
});

const commands = {
  "node -e 0": [process.execPath, "-e", "0"],
  "orchard --help (installed)": [process.execPath, join(project, "node_modules", ".bin", "orchard"), "--help"],
  "orchard --help (checkout, tsx)": [process.execPath, join(repo, "bin", "orchard.mjs"), "--help"],
} as const;
type Name = keyof typeof commands;
const times = new Map<Name, number[]>(Object.keys(commands).map((k) => [k as Name, []]));

function once(argv: readonly string[]): number {
  const started = process.hrtime.bigint();
  const r = spawnSync(argv[0] as string, argv.slice(1), { cwd: project, stdio: ["ignore", "ignore", "pipe"] });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(" ")} exited ${r.status}: ${r.stderr}`);
  return ms;
}

for (const argv of Object.values(commands)) once(argv); // warm the file cache and tsx's cache
for (let i = 0; i < runs; i++)
  for (const [name, argv] of Object.entries(commands)) times.get(name as Name)?.push(once(argv));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const base = median(times.get("node -e 0") ?? []);
console.log(
  `\n${runs} runs each, ${cpus().length} cores, load ${loadavg()[0]?.toFixed(1)}, node ${process.versions.node}`,
);
for (const [name, xs] of times) {
  const m = median(xs);
  console.log(`${name.padEnd(32)} median ${m.toFixed(0).padStart(5)} ms   ${(m / base).toFixed(2)}x node -e 0`);
}
const ratio = median(times.get("orchard --help (installed)") ?? []) / base;
console.log(`\ninstalled orchard --help / node -e 0 = ${ratio.toFixed(2)} (target <= 3)`);
if (values.keep === undefined) rmSync(work, { recursive: true, force: true });
