"""The peer's per-worker half: image bytes -> the model's features, with Pillow and onnxruntime.

Shipped to the Python workers with SparkContext.addPyFile, so it is imported (not pickled by
value): the ONNX session below is made once per Python worker and kept while Spark reuses the
worker (spark.python.worker.reuse, on by default). Preprocessing follows the model's manifest.json
and orchard's sidecar (udf-server/src/preprocess/decode.ts, normalise.ts): EXIF orientation
applied, alpha flattened onto white, the shorter side scaled to size / cropFraction (Lanczos, as
sharp's default kernel), the centre `size` cropped, then (pixel - mean) / std per channel, NCHW.
"""
import io
import json
import math
import os

import numpy as np
import onnxruntime as ort
from PIL import Image, ImageOps

_session = None  # (session, manifest, mean, inv_std) for this Python worker


def _load(model_dir):
    global _session
    if _session is None:
        with open(os.path.join(model_dir, "manifest.json")) as f:
            manifest = json.load(f)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        session = ort.InferenceSession(
            os.path.join(model_dir, manifest["file"]), options, providers=["CPUExecutionProvider"]
        )
        pre = manifest["preprocess"]
        mean = np.array(pre["mean"], dtype=np.float32).reshape(3, 1, 1)
        inv_std = (1.0 / np.array(pre["std"], dtype=np.float64)).astype(np.float32).reshape(3, 1, 1)
        _session = (session, manifest, mean, inv_std)
    return _session


def _pixels(data, manifest):
    """One image's bytes -> uint8 HWC RGB of the model's input size."""
    out_h, out_w = manifest["input"]["size"]
    pre = manifest["preprocess"]
    img = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, rgba)
    img = img.convert("RGB")
    width, height = img.size
    if pre["resize"] == "stretch":
        return np.asarray(img.resize((out_w, out_h), Image.LANCZOS))
    fraction = pre.get("cropFraction", 1.0)
    scale = max(out_w / fraction / width, out_h / fraction / height)
    scaled_w = max(out_w, math.floor(width * scale + 0.5))
    scaled_h = max(out_h, math.floor(height * scale + 0.5))
    img = img.resize((scaled_w, scaled_h), Image.LANCZOS)
    left, top = (scaled_w - out_w) // 2, (scaled_h - out_h) // 2
    return np.asarray(img.crop((left, top, left + out_w, top + out_h)))


def featurize(contents, model_dir, batch_size=16):
    """A pandas Series of image bytes -> (features as lists of float32 or None, error or None)."""
    session, manifest, mean, inv_std = _load(model_dir)
    input_name = manifest["input"]["name"]
    output_name = manifest["outputs"]["features"]
    features = [None] * len(contents)
    errors = [None] * len(contents)
    good = []
    for i, data in enumerate(contents):
        try:
            good.append((i, _pixels(bytes(data), manifest)))
        except Exception as e:  # a bad image is an error row, never a failed task
            errors[i] = f"decode: {type(e).__name__}: {e}".replace("\n", " ")
    for start in range(0, len(good), batch_size):
        chunk = good[start : start + batch_size]
        batch = np.stack([p for _, p in chunk]).astype(np.float32).transpose(0, 3, 1, 2)
        batch = (batch - mean) * inv_std
        (out,) = session.run([output_name], {input_name: np.ascontiguousarray(batch)})
        for (i, _), row in zip(chunk, out.reshape(len(chunk), -1)):
            features[i] = row
    return features, errors
