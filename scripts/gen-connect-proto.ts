/**
 * Derives the Spark Connect protocol code from the pinned Spark release at build time.
 *
 * The `.proto` files are read out of the `spark-connect_2.13-<version>.jar` that ships inside the
 * installed Spark (see scripts/setup-spark.sh), compiled with buf and turned into TypeScript by
 * protoc-gen-es into `src/connect/gen/` (git-ignored). Nothing is copied into the repository.
 * Idempotent: a stamp file records the jar's checksum; a second run with the same jar is a no-op.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { sparkHome } from "./lib/paths.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const outDir = join(root, "src/connect/gen");
const stamp = join(outDir, ".stamp");

const jarsDir = join(sparkHome(), "jars");
const jar = readdirSync(jarsDir).find((f) => /^spark-connect_2\.13-.*\.jar$/.test(f));
if (!jar) {
  console.error(`gen-connect-proto: no spark-connect jar under ${jarsDir}; run scripts/setup-spark.sh first`);
  process.exit(2);
}
const jarPath = join(jarsDir, jar);
const digest = createHash("sha256").update(readFileSync(jarPath)).digest("hex");
if (existsSync(stamp) && readFileSync(stamp, "utf8").trim() === digest) {
  process.exit(0);
}

const work = join(root, "node_modules/.cache/orchard-proto");
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
execFileSync("unzip", ["-q", "-o", jarPath, "spark/connect/*.proto", "-d", join(work, "proto")]);
writeFileSync(
  join(work, "buf.gen.yaml"),
  [
    "version: v2",
    "plugins:",
    `  - local: ${join(root, "node_modules/.bin/protoc-gen-es")}`,
    `    out: ${outDir}`,
    "    opt: [target=ts, import_extension=ts]",
    "",
  ].join("\n"),
);
rmSync(outDir, { recursive: true, force: true });
execFileSync(join(root, "node_modules/.bin/buf"), ["generate", "proto", "--template", "buf.gen.yaml"], {
  cwd: work,
  stdio: "inherit",
});

// One entry point for the generated layer: `src/connect/` imports it as `#connect-proto`.
const modules = readdirSync(join(outDir, "spark/connect"))
  .filter((f) => f.endsWith("_pb.ts"))
  .sort()
  .map((f) => `export * from "./${relative(outDir, join(outDir, "spark/connect", f))}";`);
writeFileSync(join(outDir, "index.ts"), `${modules.join("\n")}\n`);
writeFileSync(stamp, `${digest}\n`);
console.log(`gen-connect-proto: generated ${modules.length} modules from ${jar}`);
