#!/usr/bin/env bash
# Builds orchard's node image (docker/Dockerfile) for docker/compose.yaml, idempotently.
# Usage: scripts/setup-docker-image.sh [--print-tag]
#   Needs a Docker engine with the debian:bookworm-slim base (scripts/setup-docker.sh), the model
#   (scripts/setup-model.sh) and MinIO (scripts/setup-s3.sh) in the cache; the Spark part of the
#   cache (scripts/setup-spark.sh) for `npm pack`'s protocol generation.
#
# 1. Stages the build context OUTSIDE git, in $ORCHARD_CACHE/docker/context/:
#      orchard/   the two tarballs of `npm pack --workspaces --include-workspace-root` (skipped when the
#                 packed sources' hash is unchanged), a package.json naming them, `.npmrc`
#                 (onnxruntime-node-install=skip: its npm package already holds the CPU binaries), and
#                 a package-lock.json made here with `npm install --package-lock-only --omit=dev`, so
#                 the image's `npm ci` installs exactly these versions, integrity-checked;
#      model/     model.onnx, model-raw.onnx and manifest.json of the model setup-model.sh converted;
#      minio/     the MinIO binary setup-s3.sh built;
#      ca/        the extra CA certificates this host trusts (/usr/local/share/ca-certificates/*.crt),
#                 for the image's download stage only (a TLS-inspecting egress proxy needs them; a
#                 normal machine has none, and the folder stays empty); not in the final image;
#      Dockerfile and bin/orchard-node from docker/.
# 2. Hashes every staged file (and the build args): the image is tagged orchard/node:<hash12> and
#    orchard/node:local, with the hash in the label org.orchard.inputs. An image with that label
#    already there: nothing is built (~3 s with the tarballs current, a stamp check).
# 3. Builds with the classic builder (`docker build`; BuildKit is not available here, see
#    setup-docker.sh). Measured on this 2-core machine: see docker/README.md.
# Prints the tag on stdout with --print-tag (what the test uses); logs go to stderr.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
source "$here/lib/common.sh"

IMAGE_REPO=${ORCHARD_IMAGE_REPO:-orchard/node}
MODEL=${ORCHARD_IMAGE_MODEL:-efficientnet-lite0}
ctx="$ORCHARD_CACHE/docker/context"
model_dir="$ORCHARD_CACHE/models/$MODEL"
minio="$ORCHARD_CACHE/s3/bin/minio"
print_tag=false
[ "${1:-}" = "--print-tag" ] && print_tag=true

command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1 \
  || die "no Docker daemon answers: run scripts/setup-docker.sh first"
docker image inspect debian:bookworm-slim >/dev/null 2>&1 \
  || die "the base image debian:bookworm-slim is missing: run scripts/setup-docker.sh first"
[ -f "$model_dir/model.onnx" ] && [ -f "$model_dir/manifest.json" ] \
  || die "the model is missing ($model_dir): run scripts/setup-model.sh first"
[ -x "$minio" ] || die "MinIO is missing ($minio): run scripts/setup-s3.sh first"

mkdir -p "$ctx/orchard" "$ctx/model/$MODEL" "$ctx/minio" "$ctx/ca" "$ctx/bin"
# One staging at a time (two test runs, or a test and a user, share the context folder).
exec 9>"$ORCHARD_CACHE/docker/context.lock"
flock 9

# --- orchard's tarballs: re-packed only when what they are made of changed.
src_hash=$(cd "$repo" && {
  git ls-files -co --exclude-standard -- bin src udf-server scripts/gen-connect-proto.ts \
    package.json package-lock.json tsconfig.json tsconfig.build.json CHANGELOG.md \
    | grep -v '^src/connect/gen/' | LC_ALL=C sort | xargs -d '\n' sha256sum
} | sha256sum | cut -c1-64)
stamp="$ctx/orchard/.source-hash"
if [ "$(cat "$stamp" 2>/dev/null)" != "$src_hash" ] || ! [ -f "$ctx/orchard/package-lock.json" ]; then
  log "packing orchard (npm pack, compiles both packages; ~1 minute)"
  t0=$SECONDS
  tmp=$(mktemp -d)
  # shellcheck disable=SC2064
  trap "rm -rf '$tmp'" EXIT
  (cd "$repo" && npm pack --workspaces --include-workspace-root --pack-destination "$tmp" >"$tmp/pack.log" 2>&1) \
    || { tail -n 20 "$tmp/pack.log" >&2; die "npm pack failed"; }
  rm -f "$ctx/orchard"/*.tgz "$stamp"
  cp "$tmp"/orchard-*.tgz "$ctx/orchard/"
  tarballs=$(cd "$ctx/orchard" && ls orchard-*.tgz | LC_ALL=C sort)
  [ "$(echo "$tarballs" | wc -l)" = 2 ] || die "expected two tarballs from npm pack, got: $tarballs"
  {
    echo '{'
    echo '  "name": "orchard-node-image",'
    echo '  "private": true,'
    echo '  "description": "orchard as installed in the node image (docker/Dockerfile)",'
    echo '  "dependencies": {'
    echo "    \"orchard\": \"file:$(echo "$tarballs" | grep -v udf-server)\","
    echo "    \"@orchard/udf-server\": \"file:$(echo "$tarballs" | grep udf-server)\""
    echo '  }'
    echo '}'
  } > "$ctx/orchard/package.json"
  echo "onnxruntime-node-install=skip" > "$ctx/orchard/.npmrc"
  # Keep the versions locked before (the image stays reproducible), except orchard's own two
  # tarballs, whose integrity changed: their entries are dropped so npm records the new ones.
  if [ -f "$ctx/orchard/package-lock.json" ]; then
    node -e '
      const fs = require("fs"), p = process.argv[1], lock = JSON.parse(fs.readFileSync(p, "utf8"));
      for (const k of ["node_modules/orchard", "node_modules/@orchard/udf-server"]) delete lock.packages[k];
      fs.writeFileSync(p, JSON.stringify(lock, null, 2) + "\n");' "$ctx/orchard/package-lock.json"
  fi
  (cd "$ctx/orchard" && npm install --package-lock-only --omit=dev --no-audit --no-fund --ignore-scripts \
      >"$tmp/lock.log" 2>&1) || { tail -n 20 "$tmp/lock.log" >&2; die "npm install --package-lock-only failed"; }
  echo "$src_hash" > "$stamp"
  log "orchard packed and locked in $(( SECONDS - t0 )) s"
fi

# --- the rest of the context (cp -p only when different, so hashes and mtimes stay put).
sync_file() { cmp -s "$1" "$2" 2>/dev/null || cp "$1" "$2"; }
for f in model.onnx model-raw.onnx manifest.json; do
  [ -f "$model_dir/$f" ] && sync_file "$model_dir/$f" "$ctx/model/$MODEL/$f"
done
sync_file "$minio" "$ctx/minio/minio"
sync_file "$repo/docker/Dockerfile" "$ctx/Dockerfile"
sync_file "$repo/docker/bin/orchard-node" "$ctx/bin/orchard-node"
# The image keeps these modes (its Dockerfile does not chmod: that would copy MinIO into a new layer).
chmod 0755 "$ctx/minio/minio" "$ctx/bin/orchard-node"
find "$ctx/ca" -type f -delete
for crt in /usr/local/share/ca-certificates/*.crt; do
  [ -f "$crt" ] && cp "$crt" "$ctx/ca/"
done
# Ignore the stamp when sending the context (it is not an input of the image).
printf '%s\n' orchard/.source-hash > "$ctx/.dockerignore"

# --- inputs hash: every file of the context, by path and content.
inputs=$(cd "$ctx" && find . -type f -not -name .source-hash -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-64)
tag="$IMAGE_REPO:${inputs:0:12}"
if [ "$(docker image inspect --format '{{index .Config.Labels "org.orchard.inputs"}}' "$tag" 2>/dev/null)" = "$inputs" ]; then
  log "image ready: $tag (inputs unchanged)"
else
  log "building $tag (docker build, classic builder; several minutes the first time)"
  t0=$SECONDS
  DOCKER_BUILDKIT=0 docker build --label "org.orchard.inputs=$inputs" -t "$tag" "$ctx" \
    >"$ctx/../image-build.log" 2>&1 \
    || { tail -n 30 "$ctx/../image-build.log" >&2; die "docker build failed (log: $ctx/../image-build.log)"; }
  log "built $tag in $(( SECONDS - t0 )) s (log: $ORCHARD_CACHE/docker/image-build.log)"
fi
docker tag "$tag" "$IMAGE_REPO:local"
if $print_tag; then echo "$tag"; fi
