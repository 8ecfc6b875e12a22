"""Writes a tiny ONNX model for the featurizer's non-finite check: features = sqrt(mean of each
channel), so an image whose normalised channel mean is negative (a dark one, with the manifest's
mean 128 and std 1) gets NaN features, and a bright one finite features.

    python nan_model.py OUT_DIR
"""
import hashlib
import json
import sys
from pathlib import Path

import onnx
from onnx import TensorProto, helper

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
graph = helper.make_graph(
    [
        helper.make_node("ReduceMean", ["input"], ["mean"], axes=[2, 3], keepdims=0),
        helper.make_node("Sqrt", ["mean"], ["features"]),
    ],
    "nan_model",
    [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, 16, 16])],
    [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", 3])],
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, out / "model.onnx")
digest = hashlib.sha256((out / "model.onnx").read_bytes()).hexdigest()
manifest = {
    "name": "nan-model",
    "version": "0",
    "file": "model.onnx",
    "sha256": digest,
    "input": {"name": "input", "format": "float32-nchw", "size": [16, 16]},
    "preprocess": {"resize": "stretch", "mean": [128, 128, 128], "std": [1, 1, 1]},
    "outputs": {"features": "features"},
    "featureDim": 3,
}
(out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
