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
#   root it starts a dockerd that outlives setup, which plain `npm test` should not do until a test
#   needs it).
#   docker-image (orchard's node image for docker/compose.yaml, see scripts/setup-docker-image.sh: packs
#   orchard, stages the build context under the cache and builds only when its inputs changed).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(spark s3 model data proto browser blas node22 spark40 nginx moto)
for part in "${parts[@]}"; do
  case "$part" in
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
    *) echo "setup.sh: unknown part '$part' (expected spark, s3, model, data, proto, browser, blas, node22, spark40, nginx, moto, docker or docker-image)" >&2; exit 2 ;;
  esac
done
