#!/usr/bin/env bash
# Installs Spark 4.0.2 (PyPI's pyspark 4.0.2: the full runtime with Spark Connect and MLlib), the
# release EMR's emr-spark-8.0.0 ships, in its own venv beside the pinned Spark, for the tests that
# run orchard against an older server (test/integration/server-versions.test.ts). Spark 4.0.2 is
# built on Hadoop 3.4.1, so its S3A file system is hadoop-aws 3.4.1 (3.4.2 calls Hadoop methods
# 3.4.1 lacks), with the AWS SDK bundle of scripts/setup-spark.sh. Every download is checksum-
# checked; idempotent: a second run checks stamps and returns at once.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/common.sh"

venv="$ORCHARD_CACHE/spark-4.0/venv"
req="$here/requirements-spark40.txt"
mkdir -p "$ORCHARD_CACHE/spark-4.0/s3a"
req_sum=$(sha256sum "$req" | cut -d' ' -f1)
if [ "$(cat "$venv/.orchard-stamp" 2>/dev/null)" != "$req_sum" ]; then
  log "installing Spark 4.0.2 (pyspark from PyPI, ~435 MB the first time) into $venv"
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --require-hashes -r "$req"
  echo "$req_sum" > "$venv/.orchard-stamp"
fi
fetch_checked "$MAVEN_CENTRAL/org/apache/hadoop/hadoop-aws/3.4.1/hadoop-aws-3.4.1.jar" \
  "$ORCHARD_CACHE/spark-4.0/s3a/hadoop-aws-3.4.1.jar" 01334a07e179cae2b7e251f24857f11e3759108c9d6a79dcbe362a4295227da2
[ -f "$ORCHARD_CACHE/spark/s3a/bundle-2.29.52.jar" ] || die "the AWS SDK bundle is missing: run scripts/setup.sh spark first"
log "spark 4.0.2 ready: SPARK_HOME=$(echo "$venv"/lib/python3*/site-packages/pyspark)"
