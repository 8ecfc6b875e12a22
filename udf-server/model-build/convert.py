"""orchard's model converter: a pretrained EfficientNet-Lite .pth -> model.onnx + manifest.json.

Usage: python convert.py --weights FILE.pth --out DIR --name NAME --version V --source JSON
       [--input-format float32-nchw|uint8-nhwc] [--size 224]
PyTorch is not needed: the weights are read with a restricted unpickler (torch_state_dict.py).
"""

import argparse
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import onnx  # noqa: E402

from efficientnet_lite_onnx import build  # noqa: E402
from torch_state_dict import load_state_dict  # noqa: E402

# TF EfficientNet-Lite preprocessing: (pixel - 127) / 128 on RGB; evaluation crop is the central
# 224/(224+32) of the shorter side, resized to 224 (bicubic in TF; sharp's default here).
MEAN = [127.0, 127.0, 127.0]
STD = [128.0, 128.0, 128.0]


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--version", required=True)
    ap.add_argument("--source", required=True, help="JSON object describing where the weights came from")
    ap.add_argument("--input-format", default="float32-nchw", choices=["float32-nchw", "uint8-nhwc"])
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--file", default="model.onnx")
    a = ap.parse_args()

    sd = load_state_dict(a.weights)
    model, feature_dim, classes = build(sd, size=a.size, input_format=a.input_format, mean=MEAN, std=STD)
    os.makedirs(a.out, exist_ok=True)
    onnx_path = os.path.join(a.out, a.file)
    tmp = onnx_path + ".part"
    onnx.save(model, tmp)
    os.replace(tmp, onnx_path)
    crop = a.size / (a.size + 32)
    manifest = {
        "name": a.name,
        "version": a.version,
        "file": a.file,
        "sha256": sha256(onnx_path),
        "input": {"name": "input", "format": a.input_format, "size": [a.size, a.size], "channels": "RGB"},
        "preprocess": {"resize": "center-crop", "cropFraction": crop, "mean": MEAN, "std": STD},
        "outputs": {"features": "features", "logits": "logits"},
        "featureDim": feature_dim,
        "classes": classes,
        "labels": "imagenet-1k",
        "source": json.loads(a.source),
        "converter": "udf-server/model-build/convert.py",
    }
    tmp = os.path.join(a.out, "manifest.json.part")
    with open(tmp, "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    os.replace(tmp, os.path.join(a.out, "manifest.json"))
    print(f"wrote {onnx_path} ({os.path.getsize(onnx_path)} bytes, features {feature_dim}, classes {classes})")


if __name__ == "__main__":
    main()
