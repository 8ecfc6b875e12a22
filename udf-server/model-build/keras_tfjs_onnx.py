"""Converts a TensorFlow.js layers model (Keras functional topology in model.json + weights.bin)
into an ONNX graph with onnx's helper API, for the layer kinds of Keras' MobileNetV2 family:
InputLayer, ZeroPadding2D, Conv2D, DepthwiseConv2D, BatchNormalization, ReLU, Add,
AveragePooling2D, GlobalAveragePooling2D, Flatten, Dense, Dropout (identity at inference).

Keras is channels-last; the ONNX graph is NCHW (kernels are transposed at conversion). Weights
quantized by the TF.js converter (uint8/uint16 with min + scale) are dequantized.

Outputs: `features` = the output of the layer named by `features_layer` (for MobileNetV2: the
pooled, flattened 1280-d head), `logits` = the last Dense layer before its activation.
"""

import json
import math

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
_DTYPES = {"float32": np.float32, "int32": np.int32, "uint8": np.uint8, "uint16": np.uint16}


def read_weights(model_json, weights_bin):
    """Returns {name: float32 array} from the weightsManifest and the concatenated shard bytes."""
    out, offset = {}, 0
    for group in model_json["weightsManifest"]:
        for w in group["weights"]:
            shape = w["shape"]
            count = int(np.prod(shape)) if shape else 1
            q = w.get("quantization")
            dtype = np.dtype(_DTYPES[q["dtype"] if q else w["dtype"]])
            raw = np.frombuffer(weights_bin, dtype=dtype, count=count, offset=offset)
            offset += count * dtype.itemsize
            value = raw.astype(np.float32) * q["scale"] + q["min"] if q else raw.astype(np.float32)
            out[w["name"]] = value.reshape(shape).astype(np.float32)
    if offset != len(weights_bin):
        raise ValueError(f"weights.bin has {len(weights_bin)} bytes, the manifest describes {offset}")
    return out


class _Builder:
    def __init__(self, weights):
        self.w, self.nodes, self.inits, self.n = weights, [], [], 0

    def const(self, base, array):
        self.n += 1
        name = f"{base}_{self.n}"
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def node(self, op, inputs, name, **attrs):
        self.nodes.append(helper.make_node(op, inputs, [name], name=name, **attrs))
        return name

    def weight(self, layer, key):
        return self.w[f"{layer}/{key}"]


def _same_pads(size, k, s):
    out = math.ceil(size / s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2, out


def build(model_json, weights_bin, *, size=224, features_layer="flatten_1"):
    topo = model_json["modelTopology"]
    cfg = (topo.get("model_config") or topo)["config"]
    b = _Builder(read_weights(model_json, weights_bin))
    tensors, shapes = {}, {}  # layer name -> ONNX tensor name, (channels, height, width)
    graph_input = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3, size, size])
    last_dense = None

    for layer in cfg["layers"]:
        kind, c, name = layer["class_name"], layer["config"], layer["name"]
        inbound = [n[0] for n in layer["inbound_nodes"][0]] if layer["inbound_nodes"] else []
        x = tensors[inbound[0]] if inbound else None
        ch, h, w = shapes[inbound[0]] if inbound else (3, size, size)
        pre = None
        if kind == "InputLayer":
            out, shape = "input", (3, size, size)
        elif kind == "ZeroPadding2D":
            (t, bo), (le, r) = c["padding"]
            pads = b.const("pads", np.array([0, 0, t, le, 0, 0, bo, r], dtype=np.int64))
            out, shape = b.node("Pad", [x, pads], name), (ch, h + t + bo, w + le + r)
        elif kind in ("Conv2D", "DepthwiseConv2D"):
            kh, kw = c["kernel_size"]
            sh, sw = c["strides"]
            if c.get("dilation_rate", [1, 1]) != [1, 1]:
                raise ValueError(f"{name}: dilated convolutions are not supported")
            if kind == "Conv2D":
                kernel = b.weight(name, "kernel").transpose(3, 2, 0, 1)
                group, filters = 1, c["filters"]
            else:
                dk = b.weight(name, "depthwise_kernel")
                mult = dk.shape[3]
                kernel = dk.transpose(2, 3, 0, 1).reshape(ch * mult, 1, kh, kw)
                group, filters = ch, ch * mult
            if c["padding"] == "same":
                t, bo, oh = _same_pads(h, kh, sh)
                le, r, ow = _same_pads(w, kw, sw)
            else:
                t = bo = le = r = 0
                oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
            inputs = [x, b.const(f"{name}.w", kernel.astype(np.float32))]
            if c.get("use_bias", False):
                inputs.append(b.const(f"{name}.b", b.weight(name, "bias")))
            out = b.node(
                "Conv", inputs, name, kernel_shape=[kh, kw], strides=[sh, sw], pads=[t, le, bo, r], group=group
            )
            shape = (filters, oh, ow)
            out = _activation(b, out, c.get("activation", "linear"), name)
        elif kind == "BatchNormalization":
            gamma = b.weight(name, "gamma") if c.get("scale", True) else np.ones(ch, np.float32)
            beta = b.weight(name, "beta") if c.get("center", True) else np.zeros(ch, np.float32)
            args = [gamma, beta, b.weight(name, "moving_mean"), b.weight(name, "moving_variance")]
            inputs = [x] + [b.const(f"{name}.{i}", a) for i, a in enumerate(args)]
            out, shape = b.node("BatchNormalization", inputs, name, epsilon=float(c["epsilon"])), (ch, h, w)
        elif kind == "ReLU":
            if c.get("negative_slope", 0) != 0 or c.get("threshold", 0) != 0:
                raise ValueError(f"{name}: leaky/thresholded ReLU is not supported")
            if c.get("max_value") is None:
                out = b.node("Relu", [x], name)
            else:
                lo = b.const("zero", np.array(0.0, np.float32))
                hi = b.const("max", np.array(float(c["max_value"]), np.float32))
                out = b.node("Clip", [x, lo, hi], name)
            shape = (ch, h, w)
        elif kind == "Add":
            out = tensors[inbound[0]]
            for i, other in enumerate(inbound[1:]):
                out = b.node("Add", [out, tensors[other]], f"{name}_{i}")
            shape = (ch, h, w)
        elif kind == "AveragePooling2D":
            (kh, kw), (sh, sw) = c["pool_size"], c["strides"]
            if c["padding"] != "valid":
                raise ValueError(f"{name}: only valid average pooling is supported")
            out = b.node("AveragePool", [x], name, kernel_shape=[kh, kw], strides=[sh, sw])
            shape = (ch, (h - kh) // sh + 1, (w - kw) // sw + 1)
        elif kind == "GlobalAveragePooling2D":
            pooled = b.node("GlobalAveragePool", [x], f"{name}_pool")
            out, shape = b.node("Flatten", [pooled], name, axis=1), (ch, 1, 1)
        elif kind == "Flatten":
            if (h, w) != (1, 1):
                raise ValueError(f"{name}: flattening a {h}x{w} map would need channels-last order")
            out, shape = b.node("Flatten", [x], name, axis=1), (ch, 1, 1)
        elif kind == "Dropout":
            out, shape = x, (ch, h, w)
        elif kind == "Dense":
            kernel, units = b.weight(name, "kernel"), c["units"]
            inputs = [x, b.const(f"{name}.w", kernel)]
            inputs.append(b.const(f"{name}.b", b.weight(name, "bias") if c.get("use_bias", True) else np.zeros(units, np.float32)))
            pre = b.node("Gemm", inputs, name)
            out, shape = _activation(b, pre, c.get("activation", "linear"), name), (units, 1, 1)
            last_dense = (pre, units)
        else:
            raise ValueError(f"{name}: layer type {kind} is not supported")
        tensors[name], shapes[name] = out, shape

    if features_layer not in tensors:
        raise ValueError(f"no layer named {features_layer}")
    feature_dim = shapes[features_layer][0]
    b.nodes.append(helper.make_node("Identity", [tensors[features_layer]], ["features"]))
    outputs = [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", feature_dim])]
    classes = None
    if last_dense is not None:
        b.nodes.append(helper.make_node("Identity", [last_dense[0]], ["logits"]))
        classes = last_dense[1]
        outputs.append(helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", classes]))
    graph = helper.make_graph(b.nodes, cfg.get("name", "keras_model"), [graph_input], outputs, initializer=b.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="orchard")
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    return model, feature_dim, classes


def _activation(b, x, activation, name):
    if activation in ("linear", None):
        return x
    if activation == "relu":
        return b.node("Relu", [x], f"{name}_relu")
    if activation == "softmax":
        return b.node("Softmax", [x], f"{name}_softmax", axis=1)
    raise ValueError(f"{name}: activation {activation} is not supported")


def load(model_json_path, weights_bin_path):
    with open(model_json_path) as f:
        model_json = json.load(f)
    with open(weights_bin_path, "rb") as f:
        return model_json, f.read()
