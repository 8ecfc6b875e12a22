"""orchard's model converter: pretrained weights from a registry package -> model.onnx + manifest.json.

  python convert.py --format efficientnet-lite-pth --weights FILE.pth ...
  python convert.py --format tfjs-layers --weights DIR (model.json + weights.bin) ...
  python convert.py --format onnx-int8 --weights DIR (an orchard FP32 model: manifest.json, model.onnx[, raw])
          --calibration FILE.npy [--calibration-raw FILE.npy] --out DIR --name NAME --version V --source JSON
  common: --out DIR --name NAME --version V --source JSON --mean R,G,B --std R,G,B
          --resize center-crop|stretch [--crop-fraction F] [--labels NAME]
          [--input-format float32-nchw|uint8-nhwc] [--size 224] [--raw-file model-raw.onnx]

Neither PyTorch nor TensorFlow is needed: .pth files are read with a restricted unpickler
(torch_state_dict.py), TF.js models from their JSON topology and weight bytes.
The preprocessing flags describe how the weights were trained; they go into manifest.json,
which orchard's featurizer follows. onnx-int8 takes them from the FP32 model's manifest and
quantizes its graphs (quantize_int8.py) with tensors that calibration-set.ts wrote.
"""

import argparse
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import onnx  # noqa: E402


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def triple(text):
    values = [float(v) for v in text.split(",")]
    return values * 3 if len(values) == 1 else values


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--format", required=True, choices=["efficientnet-lite-pth", "tfjs-layers", "onnx-int8"])
    ap.add_argument("--weights", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--version", required=True)
    ap.add_argument("--source", required=True, help="JSON object describing where the weights came from")
    ap.add_argument("--mean", type=triple)
    ap.add_argument("--std", type=triple)
    ap.add_argument("--resize", choices=["center-crop", "stretch"])
    ap.add_argument("--crop-fraction", type=float, default=1.0)
    ap.add_argument("--labels", default=None)
    ap.add_argument("--input-format", default="float32-nchw", choices=["float32-nchw", "uint8-nhwc"])
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--file", default="model.onnx")
    ap.add_argument(
        "--raw-file",
        default=None,
        help="also write this graph: any-size uint8 NHWC input, centre-crop resize + normalisation in the graph",
    )
    ap.add_argument("--resize-in-graph-from", type=int, default=None, help="benchmark variant: fixed input size, resized in the graph")
    ap.add_argument("--calibration", help="onnx-int8: float32 .npy of model.onnx inputs (calibration-set.ts --out)")
    ap.add_argument("--calibration-raw", help="onnx-int8: uint8 .npy of raw-graph inputs (calibration-set.ts --raw-out)")
    a = ap.parse_args()
    if a.format == "onnx-int8":
        if not a.calibration:
            ap.error("--format onnx-int8 needs --calibration")
        return write_int8(a)
    if a.mean is None or a.std is None or a.resize is None:
        ap.error("--mean, --std and --resize are required")

    if a.format == "efficientnet-lite-pth":
        from efficientnet_lite_onnx import build
        from torch_state_dict import load_state_dict

        sd = load_state_dict(a.weights)
        model, feature_dim, classes = build(
            sd,
            size=a.size,
            input_format=a.input_format,
            mean=a.mean,
            std=a.std,
            resize_from=a.resize_in_graph_from,
            crop_fraction=a.crop_fraction,
        )
        if a.raw_file:
            if a.resize != "center-crop":
                ap.error("--raw-file needs --resize center-crop")
            raw_model, _, _ = build(
                sd, size=a.size, input_format="uint8-nhwc-any", mean=a.mean, std=a.std, crop_fraction=a.crop_fraction
            )
    else:
        if a.raw_file:
            ap.error("--raw-file is supported for efficientnet-lite-pth only")
        if a.input_format != "float32-nchw":
            ap.error("tfjs-layers models are converted with float32-nchw input only")
        from keras_tfjs_onnx import build, load

        model_json, weights_bin = load(os.path.join(a.weights, "model.json"), os.path.join(a.weights, "weights.bin"))
        model, feature_dim, classes = build(model_json, weights_bin, size=a.size)

    os.makedirs(a.out, exist_ok=True)
    onnx_path = os.path.join(a.out, a.file)
    onnx.save(model, onnx_path + ".part")
    os.replace(onnx_path + ".part", onnx_path)
    raw = None
    if a.raw_file:
        raw_path = os.path.join(a.out, a.raw_file)
        onnx.save(raw_model, raw_path + ".part")
        os.replace(raw_path + ".part", raw_path)
        raw = {"file": a.raw_file, "sha256": sha256(raw_path), "input": "input", "format": "uint8-nhwc-any"}
    write_manifest(a.out, {
        "name": a.name,
        "version": a.version,
        "file": a.file,
        "sha256": sha256(onnx_path),
        "input": {"name": "input", "format": a.input_format, "size": [a.size, a.size], "channels": "RGB"},
        "preprocess": {"resize": a.resize, "cropFraction": a.crop_fraction, "mean": a.mean, "std": a.std},
        "outputs": {"features": "features", **({"logits": "logits"} if classes else {})},
        **({"raw": raw} if raw else {}),
        "featureDim": feature_dim,
        **({"classes": classes} if classes else {}),
        **({"labels": a.labels} if a.labels else {}),
        "source": json.loads(a.source),
        "converter": f"udf-server/model-build/convert.py --format {a.format}",
    })
    print(f"wrote {onnx_path} ({os.path.getsize(onnx_path)} bytes, features {feature_dim}, classes {classes})")


def write_manifest(out, manifest):
    tmp = os.path.join(out, "manifest.json.part")
    with open(tmp, "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    os.replace(tmp, os.path.join(out, "manifest.json"))


def write_int8(a):
    """--format onnx-int8: the FP32 model in --weights, statically quantized; same input, outputs and preprocessing."""
    import numpy as np
    from quantize_int8 import quantize, stem_input_quantization

    with open(os.path.join(a.weights, "manifest.json")) as f:
        fp32 = json.load(f)
    os.makedirs(a.out, exist_ok=True)
    calibration = np.load(a.calibration)
    onnx_path = os.path.join(a.out, a.file)
    quantize(os.path.join(a.weights, fp32["file"]), onnx_path, fp32["input"]["name"], calibration)
    raw = None
    if fp32.get("raw") and a.raw_file:
        if not a.calibration_raw:
            sys.exit("--raw-file needs --calibration-raw (the raw graph's inputs)")
        raw_path = os.path.join(a.out, a.raw_file)
        quantize(
            os.path.join(a.weights, fp32["raw"]["file"]),
            raw_path,
            fp32["raw"]["input"],
            np.load(a.calibration_raw),
            stem=stem_input_quantization(onnx_path),
        )
        raw = {**fp32["raw"], "file": a.raw_file, "sha256": sha256(raw_path)}
    source = {
        **json.loads(a.source),
        "quantizedFrom": {"name": fp32["name"], "sha256": fp32["sha256"], **({"rawSha256": fp32["raw"]["sha256"]} if raw else {})},
        "calibrationImages": len(calibration),
    }
    write_manifest(a.out, {
        # The FP32 manifest's fields, in its order: its input, preprocessing and outputs hold for the INT8 graphs.
        **{k: v for k, v in fp32.items() if k not in ("raw", "source", "converter")},
        "name": a.name,
        "version": a.version,
        "file": a.file,
        "sha256": sha256(onnx_path),
        **({"raw": raw} if raw else {}),
        # U8S8 convolutions: exact on x86 only with VNNI (quantize_int8.py's docstring).
        "x86RequiresVnni": True,
        "source": source,
        "converter": "udf-server/model-build/convert.py --format onnx-int8",
    })
    print(f"wrote {onnx_path} ({os.path.getsize(onnx_path)} bytes, INT8 from {fp32['name']}, {len(calibration)} calibration images)")


if __name__ == "__main__":
    main()
