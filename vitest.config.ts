import { readFileSync } from "node:fs";
import { join } from "node:path";
import { defineConfig } from "vitest/config";

// The tests run orchard's sources: what the "@orchard/source" export condition names in the
// package manifests (`orchard`, `#connect-proto`, each `@orchard/udf-server` export), as aliases,
// so that every Vite environment (global set-up included) resolves them to src/, never to dist/.
type Exports = Record<string, Record<string, string>>;
function sourceAliases(dir: string, name: string, map: Exports): { find: RegExp; replacement: string }[] {
  return Object.entries(map).map(([key, conditions]) => ({
    find: new RegExp(`^${(key.startsWith("#") ? key : name + key.slice(1)).replace(/[/.]/g, "\\$&")}$`),
    replacement: join(import.meta.dirname, dir, conditions["@orchard/source"] as string),
  }));
}
const root = JSON.parse(readFileSync(join(import.meta.dirname, "package.json"), "utf8"));
const udf = JSON.parse(readFileSync(join(import.meta.dirname, "udf-server/package.json"), "utf8"));
const alias = [
  ...sourceAliases(".", root.name, { ".": root.exports["."] }),
  ...sourceAliases(".", root.name, root.imports),
  ...sourceAliases("udf-server", udf.name, udf.exports),
];

export default defineConfig({
  resolve: { alias },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          globalSetup: ["test/integration/global-setup.ts"],
          // One real Spark and one sidecar on a 2-core machine: files run one after another.
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});
