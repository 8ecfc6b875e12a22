#!/usr/bin/env bash
# `npm test`: installs/starts what the tests need (idempotent, cached), type-checks, lints, then runs the
# unit and the integration tests (the integration set-up starts real Spark, S3 and the sidecar
# unless SPARK_REMOTE / ORCHARD_S3_ENDPOINT / ORCHARD_SIDECAR are given) and prints one summary line.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm install --no-audit --no-fund
bash scripts/setup.sh
npx tsc -p tsconfig.json --noEmit
# The package build (JavaScript + .d.ts into dist/, git-ignored): declaration emit must succeed too.
npm run build --silent
npx biome check --diagnostic-level=error .
npx tsx scripts/check-layers.ts
mkdir -p test-artifacts
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json=test-artifacts/vitest.json "$@" || status=$?
node -e '
const r = require("./test-artifacts/vitest.json");
console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed` + (r.numPendingTests + r.numTodoTests ? `, ${r.numPendingTests + r.numTodoTests} skipped` : ""));
' || true
exit $status
