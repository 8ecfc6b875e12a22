/**
 * check-layers: fails when a file imports across a layer boundary that docs/architecture.md forbids.
 * Run with `tsx scripts/check-layers.ts`; prints `file:line: rule` per violation and exits 1.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, posix, relative } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * One boundary: files under `from` must not import anything under one of `forbidden`, unless the
 * importing file is under one of `exceptFrom` or the target under one of `exceptTo`.
 */
export interface LayerRule {
  readonly name: string;
  readonly from: string;
  readonly forbidden: readonly string[];
  readonly exceptFrom?: readonly string[];
  readonly exceptTo?: readonly string[];
}

const GEN = ["#connect-proto", "src/connect/gen"];

/** The project's layer table. Paths are repository-relative prefixes; `#connect-proto` is the gen alias. */
const RULES: readonly LayerRule[] = [
  {
    name: "generated protobuf code is imported only by src/connect/",
    from: "src/",
    forbidden: GEN,
    exceptFrom: ["src/connect/"],
  },
  { name: "generated protobuf code is imported only by src/connect/", from: "udf-server/", forbidden: GEN },
  { name: "generated protobuf code is imported only by src/connect/", from: "examples/", forbidden: GEN },
  {
    name: "udf-server/ is a package of its own: it imports nothing from orchard's src/",
    from: "udf-server/",
    forbidden: ["src/", "orchard"],
  },
  {
    name: "src/ uses udf-server/ only through its package exports (@orchard/udf-server)",
    from: "src/",
    forbidden: ["udf-server/"],
  },
  {
    name: "src/connect/ imports nothing from src/pipeline, src/cli, src/ml",
    from: "src/connect/",
    forbidden: ["src/pipeline/", "src/cli/", "src/ml/"],
  },
  {
    name: "src/ml/ imports nothing from src/pipeline, src/cli",
    from: "src/ml/",
    forbidden: ["src/pipeline/", "src/cli/"],
  },
  { name: "src/pipeline/ imports nothing from src/cli", from: "src/pipeline/", forbidden: ["src/cli/"] },
  {
    name: "src/s3.ts imports nothing of ours but src/errors.ts",
    from: "src/s3.ts",
    forbidden: ["src/", "udf-server/"],
    exceptTo: ["src/errors.ts"],
  },
  {
    name: "src/emr/ (AWS: staging, the EMR API, estimates) imports only src/errors.ts of ours",
    from: "src/emr/",
    forbidden: ["src/cli/", "src/pipeline/", "src/ml/", "src/connect/"],
  },
];

/** A source file: repository-relative path and text. */
export interface SourceFile {
  readonly path: string;
  readonly text: string;
}

/** One broken rule. */
export interface Violation {
  readonly file: string;
  readonly line: number;
  readonly rule: string;
}

const IMPORT =
  /(?:^|[^\w$.])(?:import|export)\s*(?:type\s+)?(?:[^'"`;]*?\sfrom\s*)?["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

function resolveSpecifier(file: string, spec: string): string {
  return spec.startsWith(".") ? posix.normalize(posix.join(posix.dirname(file), spec)) : spec;
}

/** The violations of `rules` among `files` (pure: no file system). */
export function checkLayers(files: readonly SourceFile[], rules: readonly LayerRule[] = RULES): Violation[] {
  const out: Violation[] = [];
  for (const f of files) {
    const applicable = rules.filter((r) => f.path.startsWith(r.from));
    if (applicable.length === 0) continue;
    for (const m of f.text.matchAll(IMPORT)) {
      const target = resolveSpecifier(f.path, (m[1] ?? m[2]) as string);
      const line = f.text.slice(0, m.index).split("\n").length + (m[0].startsWith("\n") ? 1 : 0);
      for (const r of applicable) {
        const hit = r.forbidden.some((p) => target.startsWith(p));
        const allowed =
          (r.exceptFrom ?? []).some((p) => f.path.startsWith(p)) ||
          (r.exceptTo ?? []).some((p) => target.startsWith(p));
        if (hit && !allowed) out.push({ file: f.path, line, rule: r.name });
      }
    }
  }
  return out;
}

const ROOTS = ["src", "udf-server", "test", "bench", "examples"];

function walk(root: string, dir: string, acc: SourceFile[]): void {
  for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
    const p = posix.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== "node_modules" && p !== "src/connect/gen") walk(root, p, acc);
    } else if (e.name.endsWith(".ts")) acc.push({ path: p, text: readFileSync(join(root, p), "utf8") });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = relative(process.cwd(), join(dirname(fileURLToPath(import.meta.url)), "..")) || ".";
  const files: SourceFile[] = [];
  for (const r of ROOTS) walk(root, r, files);
  const violations = checkLayers(files);
  for (const v of violations) console.log(`${v.file}:${v.line}: ${v.rule}`);
  if (violations.length > 0) process.exit(1);
}
