#!/usr/bin/env bash
# Debian's nginx, the TLS-terminating gRPC proxy the client-TLS test puts in front of a test Spark
# (test/integration/connect-tls.test.ts starts its own nginx on a loopback port with a config it
# writes; no system service is used). Installed with apt-get without starting the package's own
# service (a policy-rc.d that refuses service starts is put in place for the install when the
# machine has none). Idempotent: returns at once when an nginx with TLS, HTTP/2 and gRPC is there.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/common.sh"

usable() {
  command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || return 1
  local v
  v=$( (nginx -V 2>&1 || /usr/sbin/nginx -V 2>&1) | tr ' ' '\n')
  grep -q -- '--with-http_ssl_module' <<<"$v" && grep -q -- '--with-http_v2_module' <<<"$v" &&
    ! grep -q -- '--without-http_grpc_module' <<<"$v"
}
usable && exit 0
command -v apt-get >/dev/null 2>&1 || die "nginx (with TLS, HTTP/2 and gRPC) is needed for the TLS test; install it (Debian: apt-get install nginx)"
sudo=()
if [ "$(id -u)" != 0 ]; then
  sudo -n true 2>/dev/null || die "installing nginx needs root: run apt-get install nginx as root"
  sudo=(sudo -n)
fi
policy=/usr/sbin/policy-rc.d
placed=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# placed by orchard setup-nginx.sh during apt-get install\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
  "${sudo[@]}" chmod 755 "$policy"
  placed=1
fi
trap 'if [ "$placed" = 1 ]; then "${sudo[@]}" rm -f "$policy"; fi' EXIT
log "installing Debian's nginx with apt-get (for the TLS proxy test)"
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends nginx >/dev/null
usable || die "the installed nginx lacks TLS, HTTP/2 or gRPC proxying"
log "nginx ready: $(/usr/sbin/nginx -v 2>&1)"
