#!/usr/bin/env bash
# moto in server mode (PyPI, pinned with hashes in requirements-moto.txt): the AWS API (EMR, S3,
# IAM, EC2, ...) that the `orchard emr` tests talk to, on loopback. Its botocore also carries the
# AWS service models the tests validate orchard's requests against. Installed into a venv of its own,
# $ORCHARD_CACHE/moto/venv; idempotent: with the stamp in place it returns at once.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/common.sh"

venv="$ORCHARD_CACHE/moto/venv"
req="$here/requirements-moto.txt"
req_sum=$(sha256sum "$req" | cut -d' ' -f1)
if [ "$(cat "$venv/.orchard-stamp" 2>/dev/null)" = "$req_sum" ] && [ -x "$venv/bin/moto_server" ]; then exit 0; fi
command -v python3 >/dev/null || die "python3 (3.9 or newer, with venv) is required for moto, the AWS API server the EMR tests use"
log "installing moto (AWS API server for the EMR tests; PyPI, ~60 MB the first time)"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv" || die "could not create a Python venv at $venv (Debian: apt-get install python3-venv)"
"$venv/bin/pip" install --quiet --disable-pip-version-check --require-hashes -r "$req" || die "could not install moto from PyPI (see pip's message above)"
echo "$req_sum" > "$venv/.orchard-stamp"
log "moto $("$venv/bin/python" -c 'import moto; print(moto.__version__)') ready: $venv/bin/moto_server"
