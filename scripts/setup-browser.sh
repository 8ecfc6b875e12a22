#!/usr/bin/env bash
# Installs the headless browser the report test opens report.html in: Debian's `chromium`
# (/usr/bin/chromium), with apt-get, only when it is missing. Idempotent.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup-browser.sh: /usr/bin/chromium is missing and apt-get is not available; install Chromium yourself" >&2
  exit 3
fi
sudo=()
if [ "$(id -u)" != 0 ]; then
  sudo=(sudo -n)
fi
echo "setup-browser.sh: installing Debian's chromium with apt-get ..." >&2
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends chromium >/dev/null
/usr/bin/chromium --version >&2
