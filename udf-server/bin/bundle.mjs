// A one-file ESM bundle of a udf-server entry point, built with esbuild (tsx's own compiler) on
// first use and rebuilt when a source file changes. The bridge starts once per Spark partition:
// loading one bundled file takes a fraction of the time tsx needs to load hundreds of modules.
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const UDF_ROOT = resolve(import.meta.dirname, "..");
const REPO_ROOT = resolve(UDF_ROOT, "..");

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

function isFresh(outfile, manifestFile) {
  try {
    const built = statSync(outfile).mtimeMs;
    const { inputs } = JSON.parse(readFileSync(manifestFile, "utf8"));
    return inputs.every((input) => mtime(join(REPO_ROOT, input)) <= built);
  } catch {
    return false;
  }
}

/**
 * Returns the path of an up-to-date bundle of `entry` (relative to udf-server/), kept at
 * `udf-server/dist/<dir>/<name>.mjs` — two levels below udf-server/ like the sources, so
 * `import.meta.url`-relative paths in them (e.g. to bin/orchard-sidecar) still resolve.
 * `packagesExternal` leaves npm packages as imports (needed for native ones such as onnxruntime-node).
 */
export async function bundled(entry, name, { packagesExternal = false } = {}) {
  const outfile = join(UDF_ROOT, "dist", "bundle", `${name}.mjs`);
  const manifestFile = join(UDF_ROOT, "dist", "bundle", `${name}.inputs.json`);
  if (isFresh(outfile, manifestFile)) return outfile;
  const esbuild = await import("esbuild");
  mkdirSync(dirname(outfile), { recursive: true });
  const tmp = `${outfile}.${process.pid}.tmp.mjs`;
  const result = await esbuild.build({
    entryPoints: [join(UDF_ROOT, entry)],
    outfile: tmp,
    bundle: true,
    packages: packagesExternal ? "external" : undefined,
    platform: "node",
    format: "esm",
    target: "node20",
    conditions: ["@orchard/source"],
    metafile: true,
    minify: true,
    legalComments: "none",
    logLevel: "error",
    // Bundled CommonJS packages (grpc-js) call require() for Node built-ins.
    banner: {
      js: "import { createRequire as __orchardRequire } from 'node:module'; const require = __orchardRequire(import.meta.url);",
    },
  });
  const inputs = Object.keys(result.metafile.inputs)
    .map((p) => relative(REPO_ROOT, resolve(process.cwd(), p)))
    .filter((p) => !p.startsWith("node_modules"))
    .concat(["package-lock.json"]);
  writeFileSync(`${manifestFile}.${process.pid}.tmp`, JSON.stringify({ entry, inputs }));
  renameSync(`${manifestFile}.${process.pid}.tmp`, manifestFile);
  renameSync(tmp, outfile);
  return outfile;
}
