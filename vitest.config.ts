import { defineConfig } from "vitest/config";

// The tests run orchard's sources: the "@orchard/source" export condition resolves `orchard`,
// `@orchard/udf-server` and `#connect-proto` to src/ instead of a build in dist/ (see package.json).
const conditions = ["@orchard/source", "node"];

export default defineConfig({
  ssr: { resolve: { conditions, externalConditions: ["@orchard/source"] } },
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
