#!/usr/bin/env bash
# Builds the local S3-compatible server: MinIO at a pinned commit, compiled from source fetched
# through the Go module proxy (module checksums verified by Go's checksum database, and the
# built binary's embedded module version + hash checked below). Installs into the cache outside
# git: $ORCHARD_CACHE/s3/bin/minio. First run: ~3 minutes on 2 cores (download + compile);
# afterwards a stamp check returns at once.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/common.sh"

MINIO_MODULE=github.com/minio/minio
# MinIO publishes no semver tags to the module proxy; this pseudo-version is commit 7aac2a2c5b7c (2026-02-12).
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
MINIO_SUM='h1:/qdoYujxF5MBLDMVLeiYJ/7fBa1HikX39Dvzb9Ji8pA='

s3_dir="$ORCHARD_CACHE/s3"
bin_dir="$s3_dir/bin"
stamp="$bin_dir/.orchard-stamp"
want="$MINIO_MODULE@$MINIO_VERSION $MINIO_SUM"

if [ -x "$bin_dir/minio" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  log "s3 server ready: $bin_dir/minio ($MINIO_VERSION)"
  exit 0
fi

command -v go >/dev/null || die "Go is required to build the local S3 server (MinIO); install Go 1.24 or newer"
log "building MinIO $MINIO_VERSION from the Go module proxy (~3 minutes the first time)"
mkdir -p "$bin_dir"
rm -f "$stamp"
start=$(date +%s)
GOBIN="$bin_dir" GOFLAGS=-mod=mod GOSUMDB="${GOSUMDB:-sum.golang.org}" CGO_ENABLED=0 \
  go install "$MINIO_MODULE@$MINIO_VERSION" || die "building MinIO failed (see the Go output above)"

# The binary records the module it was built from; make sure it is exactly the pinned one.
got=$(go version -m "$bin_dir/minio" | awk -v m="$MINIO_MODULE" '$1 == "mod" && $2 == m { print $2 "@" $3 " " $4 }')
[ "$got" = "$want" ] || die "built MinIO does not match the pin: expected '$want', got '$got'"
echo "$want" > "$stamp"
log "s3 server ready: $bin_dir/minio ($MINIO_VERSION, built in $(( $(date +%s) - start )) s)"
