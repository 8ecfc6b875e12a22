#!/usr/bin/env bash
# Native BLAS/LAPACK for Spark ML: PCA's fit ends in an SVD of the d x d covariance matrix on the
# driver (d = 1280 for EfficientNet-Lite0), which Spark hands to dev.ludovic.netlib; that library
# uses the system's libblas.so.3/liblapack.so.3 when present, else its Java port. Debian's OpenBLAS
# takes the fit on 1188 images from ~4 s to ~1 s here. Optional: without it Spark stays correct,
# only slower, so this script never fails the set-up. Idempotent.
set -euo pipefail
lapack=$(ldconfig -p 2>/dev/null | awk '/liblapack\.so\.3 / {print $NF; exit}')
if [ -n "$lapack" ] && readlink -f "$lapack" | grep -q openblas; then
  exit 0
fi
note() { echo "setup-blas.sh: $1; Spark ML uses its Java LAPACK (correct, slower PCA fit). Install OpenBLAS (Debian: libopenblas0-pthread) for speed." >&2; }
if ! command -v apt-get >/dev/null 2>&1; then
  note "no OpenBLAS and no apt-get"
  exit 0
fi
sudo=()
if [ "$(id -u)" != 0 ]; then
  if ! sudo -n true 2>/dev/null; then
    note "no OpenBLAS and no root to install it"
    exit 0
  fi
  sudo=(sudo -n)
fi
echo "setup-blas.sh: installing Debian's OpenBLAS (libopenblas0-pthread) with apt-get ..." >&2
if ! { "${sudo[@]}" apt-get update -qq && DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends libopenblas0-pthread >/dev/null; }; then
  note "apt-get could not install libopenblas0-pthread"
fi
exit 0
