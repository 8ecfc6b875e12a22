#!/usr/bin/env bash
# Installs the pinned Apache Spark (PyPI's pyspark distribution: full runtime with Spark Connect
# and MLlib, plus PySpark's own Connect client used by interop tests and benches) and the S3A
# jars from Maven Central (hadoop-aws, the AWS SDK bundle, and spark-hadoop-cloud: Spark's binding
# to the S3A committers, whose only runtime needs for s3a:// are those two and Spark's own
# Hadoop client), into the cache outside git. Every download is checksum-checked.
# Idempotent: a second run checks stamps and returns in about a second.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/common.sh"

spark_dir="$ORCHARD_CACHE/spark"
venv="$spark_dir/venv"
req="$here/requirements-python.txt"
mkdir -p "$spark_dir/s3a"

command -v java >/dev/null || die "Java 17 or newer is required to run Spark (install a JDK, e.g. apt-get install openjdk-17-jre-headless)"

req_sum=$(sha256sum "$req" | cut -d' ' -f1)
if [ "$(cat "$venv/.orchard-stamp" 2>/dev/null)" != "$req_sum" ]; then
  log "installing Python tools and Spark $SPARK_VERSION (pyspark from PyPI, ~450 MB the first time)"
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --require-hashes -r "$req"
  echo "$req_sum" > "$venv/.orchard-stamp"
fi

# name|maven path|sha256
jars=(
  "hadoop-aws-3.4.2.jar|org/apache/hadoop/hadoop-aws/3.4.2/hadoop-aws-3.4.2.jar|d2d24e6b715b5656b9d238bf13b6682a07e2004dd36aad74a73aeb854319f4d9"
  "bundle-2.29.52.jar|software/amazon/awssdk/bundle/2.29.52/bundle-2.29.52.jar|62638f33045690c6bc5e496b54b0b2e89a9ad38cbedacdf6e017fea6bc85f55c"
  "spark-hadoop-cloud_2.13-4.1.1.jar|org/apache/spark/spark-hadoop-cloud_2.13/4.1.1/spark-hadoop-cloud_2.13-4.1.1.jar|e5b41b43d481510afd0cdc372b593770ddee5a0a348d0744cef6c6cd77a27943"
)
for entry in "${jars[@]}"; do
  IFS='|' read -r name path sum <<<"$entry"
  fetch_checked "$MAVEN_CENTRAL/$path" "$spark_dir/s3a/$name" "$sum"
done
log "spark $SPARK_VERSION ready: SPARK_HOME=$(spark_home)"
