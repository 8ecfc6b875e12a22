#!/usr/bin/env bash
# `npm test`: installs/starts what the tests need (idempotent, cached), type-checks, lints, then runs the
# unit and the integration tests (the integration set-up starts real Spark, S3 and the sidecar
# unless SPARK_REMOTE / ORCHARD_S3_ENDPOINT / ORCHARD_SIDECAR are given) and prints one summary line.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm install --no-audit --no-fund
bash scripts/setup.sh
mkdir -p test-artifacts
# The Docker engine, compose v2 and the Debian base (setup.sh's `docker` part) take minutes on a new
# machine (a Go build, debootstrap): they are made in the background while the checks and the first
# test files run, after the default parts (whose apt-get must not race this one's). The Docker tests
# run the same script, which waits for this one (a lock) and then finds everything ready. Only for
# the whole suite (no file arguments) and without ORCHARD_SKIP_DOCKER=1.
docker_setup=
if [ "${ORCHARD_SKIP_DOCKER:-}" != 1 ] && [ $# -eq 0 ]; then
  bash scripts/setup-docker.sh > test-artifacts/setup-docker.log 2>&1 &
  docker_setup=$!
fi
npx tsc -p tsconfig.json --noEmit
# The package build (JavaScript + .d.ts into dist/, git-ignored): declaration emit must succeed too.
npm run build --silent
npx biome check --diagnostic-level=error .
npx tsx scripts/check-layers.ts
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json=test-artifacts/vitest.json "$@" || status=$?
node -e '
const r = require("./test-artifacts/vitest.json");
console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed` + (r.numPendingTests + r.numTodoTests ? `, ${r.numPendingTests + r.numTodoTests} skipped` : ""));
' || true
# Never leave the background set-up behind (it has finished when a Docker test ran).
[ -z "$docker_setup" ] || wait "$docker_setup" || echo "scripts/setup-docker.sh failed: see test-artifacts/setup-docker.log" >&2
exit $status
