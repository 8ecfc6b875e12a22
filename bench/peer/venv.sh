#!/usr/bin/env bash
# The peer's venv (bench/peer): pyspark, pandas, pyarrow, onnxruntime and Pillow from PyPI, pinned
# with hashes in requirements.txt beside this script, in $ORCHARD_CACHE/bench-peer/venv. Prints
# the venv's python. Idempotent: with the stamp in place it prints it at once.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../scripts/lib/common.sh"

venv="$ORCHARD_CACHE/bench-peer/venv"
req="$here/requirements.txt"
req_sum=$(sha256sum "$req" | cut -d' ' -f1)
if [ "$(cat "$venv/.orchard-stamp" 2>/dev/null)" != "$req_sum" ] || [ ! -x "$venv/bin/python" ]; then
  command -v python3 >/dev/null || die "python3 (3.10 or newer, with venv) is required for the peer bench"
  log "installing the peer's venv (pyspark, onnxruntime, Pillow, pandas, pyarrow; PyPI) into $venv"
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv" || die "could not create a Python venv at $venv (Debian: apt-get install python3-venv)"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --require-hashes -r "$req" || die "could not install the peer's packages from PyPI (see pip's message above)"
  echo "$req_sum" > "$venv/.orchard-stamp"
fi
echo "$venv/bin/python"
