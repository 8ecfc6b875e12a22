#!/usr/bin/env node
// The `orchard` command. Installed from the package, it runs the compiled JavaScript in dist/. In a
// checkout of the repository (src/ beside it), it runs the TypeScript sources through tsx, so that
// an edit is live without a build.
import { existsSync } from "node:fs";

const source = new URL("../src/cli/main.ts", import.meta.url);
if (existsSync(source)) {
  if (!existsSync(new URL("../src/connect/gen/index.ts", import.meta.url))) {
    process.stderr.write(
      "orchard: this checkout has no generated Spark Connect code yet: run `npm run setup` (it installs Spark, then derives the code from its release)\n",
    );
    process.exit(2);
  }
  await import("../udf-server/bin/source-mode.mjs");
  await import(source.href);
} else {
  await import("../dist/cli/main.js");
}
