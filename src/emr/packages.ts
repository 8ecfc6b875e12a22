/**
 * The two npm tarballs `up` stages when no `--package-dir` is given: packed from the orchard that
 * runs. In a checkout, `npm pack --workspaces --include-workspace-root` (its prepack generates the
 * protocol code and compiles: about a minute); installed, `npm pack --ignore-scripts` of the
 * installed `orchard` and `@orchard/udf-server` folders (already compiled).
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { SetupError } from "../errors.ts";
import { packageTarballs } from "./staging.ts";

const run = promisify(execFile);

/** The root of the running orchard package (the repository in a checkout). */
export function orchardRoot(): string {
  return fileURLToPath(new URL("../../", import.meta.url));
}

/** Packs this orchard into `<cacheRoot>/emr/packs/<version>/` and returns the two tarballs. */
export async function packRunningOrchard(cacheRoot: string, log: (line: string) => void): Promise<string[]> {
  const root = orchardRoot();
  const version = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string }).version;
  const dest = join(cacheRoot, "emr", "packs", version);
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(dest, { recursive: true });
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  try {
    if (existsSync(join(root, "src", "index.ts"))) {
      log(`packing orchard ${version} from the checkout ${root} (npm pack: generates and compiles, ~1 min)`);
      await run(npm, ["pack", "--workspaces", "--include-workspace-root", "--pack-destination", dest], {
        cwd: root,
        maxBuffer: 64 << 20,
      });
    } else {
      const udf = [join(root, "node_modules", "@orchard", "udf-server"), join(dirname(root), "@orchard", "udf-server")]
        .filter((d) => existsSync(join(d, "package.json")))
        .map((d) => realpathSync(d))[0];
      if (!udf) throw new SetupError({ component: "emr", message: `@orchard/udf-server was not found beside ${root}` });
      log(`packing the installed orchard ${version} (npm pack --ignore-scripts)`);
      await run(npm, ["pack", "--ignore-scripts", "--pack-destination", dest, root, udf], { maxBuffer: 64 << 20 });
    }
  } catch (err) {
    if (err instanceof SetupError) throw err;
    throw new SetupError({
      component: "emr",
      message: `npm pack failed (${(err as { stderr?: string }).stderr?.trim().split("\n").pop() ?? String(err)}); pack them yourself (npm run pack:all DIR) and pass --package-dir DIR`,
      cause: err,
    });
  }
  return packageTarballs(dest, "--package-dir");
}
