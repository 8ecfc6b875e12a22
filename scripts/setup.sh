#!/usr/bin/env bash
# Installs the real local components orchard needs, from the package registries, into the cache
# outside git, then derives the Spark Connect protocol code. Idempotent: with everything cached it
# takes seconds. With no argument it installs everything; otherwise only the parts named:
#   spark (Spark + S3A jars + Python tools), s3 (MinIO), model (the CNN), data (sample images),
#   proto (generated Spark Connect code), browser (Debian's chromium, for the report test),
#   blas (Debian's OpenBLAS for Spark ML's PCA fit when possible; optional, never fails),
#   node22 (a second Node.js, 22, for the package test), spark40 (Spark 4.0.2, EMR's emr-spark-8.0.0
#   release, in its own venv, for the server-version test; after spark, whose AWS SDK bundle it shares),
#   nginx (Debian's nginx, the TLS-terminating gRPC proxy of the client-TLS test; its service is not started),
#   moto (the AWS API server the EMR tests use).
# Not in the default list, named only: docker (a Docker engine, compose v2 and the debian:bookworm-slim
#   base for docker/; see scripts/setup-docker.sh: ~1.5 s when cached, minutes on a new machine, and as
#   root it starts a dockerd that outlives setup; the full `npm test`, which runs the Docker tests,
#   makes it in the background after the default parts, see scripts/test.sh).
#   docker-image (orchard's node image for docker/compose.yaml, see scripts/setup-docker-image.sh: packs
#   orchard, stages the build context under the cache and builds only when its inputs changed).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/common.sh"
parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(spark s3 model data proto browser blas node22 spark40 nginx moto)

run_part() {
  case "$1" in
    spark) bash "$here/setup-spark.sh" ;;
    s3) bash "$here/setup-s3.sh" ;;
    model) bash "$here/setup-model.sh" && bash "$here/setup-model.sh" efficientnet-lite0-int8 ;;
    data) bash "$here/setup-sample-data.sh" ;;
    proto) (cd "$here/.." && npx tsx scripts/gen-connect-proto.ts) ;;
    browser) bash "$here/setup-browser.sh" ;;
    blas) bash "$here/setup-blas.sh" ;;
    node22) bash "$here/setup-node22.sh" ;;
    spark40) bash "$here/setup-spark40.sh" ;;
    nginx) bash "$here/setup-nginx.sh" ;;
    moto) bash "$here/setup-moto.sh" ;;
    docker) bash "$here/setup-docker.sh" ;;
    docker-image) bash "$here/setup-docker-image.sh" ;;
    *) echo "setup.sh: unknown part '$1' (expected spark, s3, model, data, proto, browser, blas, node22, spark40, nginx, moto, docker or docker-image)" >&2; exit 2 ;;
  esac
}

# When several parts are asked for, MinIO's Go build (minutes of CPU on a new machine) and moto's pip
# install (mostly downloads) run in the background beside the others: neither needs another part nor
# uses apt-get. Their output goes to a log under the cache, shown when they end.
background=()
if [ ${#parts[@]} -gt 1 ]; then
  for part in "${parts[@]}"; do
    case "$part" in s3 | moto) background+=("$part") ;; esac
  done
fi
declare -A pids=()
[ ${#background[@]} -eq 0 ] || mkdir -p "$ORCHARD_CACHE/logs"
for part in "${background[@]}"; do
  run_part "$part" > "$ORCHARD_CACHE/logs/setup-$part.log" 2>&1 &
  pids[$part]=$!
done
status=0
for part in "${parts[@]}"; do
  [ -n "${pids[$part]:-}" ] || run_part "$part" || { status=$?; break; }
done
for part in "${background[@]}"; do
  code=0
  wait "${pids[$part]}" || code=$?
  cat "$ORCHARD_CACHE/logs/setup-$part.log" >&2
  [ "$code" = 0 ] || { echo "setup.sh: part '$part' failed (log: $ORCHARD_CACHE/logs/setup-$part.log)" >&2; status=$code; }
done
exit "$status"
