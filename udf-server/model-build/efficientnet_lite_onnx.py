"""Converts an EfficientNet-Lite state dict (the `_conv_stem` / `_blocks.N._expand_conv` key
naming of the PyTorch EfficientNet ports) into an ONNX graph built with onnx's helper API.

The architecture is read from the weights: each block's expansion (expand conv present or not),
depthwise kernel size and channels come from the tensor shapes; stages are runs of blocks with the
same output width. Strides are not stored in a state dict: EfficientNet-Lite's seven stages have
strides 1, 2, 2, 2, 1, 2, 1 (stem stride 2), as in every EfficientNet. BatchNorm is folded into
the preceding convolution; activations are ReLU6 (Clip 0..6); no squeeze-excitation (Lite).
Padding is TensorFlow's SAME (the weights were trained in TF): for a stride-2 convolution the
extra row/column goes at the bottom/right, which ONNX expresses with explicit asymmetric pads.

Outputs: `features` (global-average-pooled output of the 1x1 head convolution, after ReLU6: the
penultimate layer) and `logits` (the ImageNet classifier on top of it).
"""

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

STAGE_STRIDES = (1, 2, 2, 2, 1, 2, 1)
OPSET = 17
# Resize's `antialias` (the raw-input graph's in-graph downscaling) needs opset 18.
RAW_OPSET = 18


class _Graph:
    def __init__(self, size, eps):
        self.nodes, self.inits, self.size, self.eps, self.n = [], [], size, eps, 0

    def name(self, base):
        self.n += 1
        return f"{base}_{self.n}"

    def const(self, base, array):
        name = self.name(base)
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def conv_bn(self, x, sd, conv, bn, stride, groups, act, spatial):
        """Conv (no bias) + folded BatchNorm (+ ReLU6). Returns (output, output spatial size)."""
        w = sd[f"{conv}.weight"].astype(np.float64)
        scale = sd[f"{bn}.weight"] / np.sqrt(sd[f"{bn}.running_var"].astype(np.float64) + self.eps)
        wf = (w * scale[:, None, None, None]).astype(np.float32)
        bf = (sd[f"{bn}.bias"] - sd[f"{bn}.running_mean"] * scale).astype(np.float32)
        k = w.shape[2]
        out = -(-spatial // stride)
        pad = max((out - 1) * stride + k - spatial, 0)
        lo, hi = pad // 2, pad - pad // 2
        y = self.name(conv.replace(".", "_"))
        self.nodes.append(
            helper.make_node(
                "Conv",
                [x, self.const(f"{conv}.w", wf), self.const(f"{conv}.b", bf)],
                [y],
                kernel_shape=[k, k],
                strides=[stride, stride],
                pads=[lo, lo, hi, hi],
                group=groups,
            )
        )
        if act:
            y = self.relu6(y)
        return y, out

    def relu6(self, x):
        y = self.name("relu6")
        lo = self.const("zero", np.array(0.0, dtype=np.float32))
        hi = self.const("six", np.array(6.0, dtype=np.float32))
        self.nodes.append(helper.make_node("Clip", [x, lo, hi], [y]))
        return y


def _blocks(sd):
    i, blocks = 0, []
    while f"_blocks.{i}._project_conv.weight" in sd:
        p = f"_blocks.{i}"
        dw = sd[f"{p}._depthwise_conv.weight"]
        proj = sd[f"{p}._project_conv.weight"]
        expand = f"{p}._expand_conv.weight" in sd
        cin = sd[f"{p}._expand_conv.weight"].shape[1] if expand else dw.shape[0]
        blocks.append({"prefix": p, "expand": expand, "kernel": dw.shape[2], "cin": cin, "cout": proj.shape[0]})
        i += 1
    if not blocks:
        raise ValueError("no `_blocks.N` tensors: not an EfficientNet-Lite state dict of the expected naming")
    stage, prev = -1, None
    for b in blocks:
        if b["cout"] != prev:
            stage += 1
            b["stride"] = STAGE_STRIDES[stage] if stage < len(STAGE_STRIDES) else 1
        else:
            b["stride"] = 1
        prev = b["cout"]
    if stage + 1 != len(STAGE_STRIDES):
        raise ValueError(f"found {stage + 1} stages, EfficientNet-Lite has {len(STAGE_STRIDES)}")
    return blocks


def _raw_front(g, size, crop_fraction):
    """Dynamic-size uint8 NHWC input -> float NCHW `size` x `size`, resized and centre-cropped the way
    the featurizer's sharp path does it: scale so the shorter side becomes round(size / crop_fraction)
    (each side at least `size`), bicubic (Keys, a = -0.5) with antialiasing, then the centred
    `size` x `size` window. Bicubic rather than bilinear: closer to sharp's Lanczos-3 (feature cosine
    vs the sharp path ~0.995 instead of ~0.98 on photos) at ~1% of the throughput."""
    graph_input = helper.make_tensor_value_info("input", TensorProto.UINT8, ["batch", "height", "width", 3])
    f = g.name("as_float")
    g.nodes.append(helper.make_node("Cast", ["input"], [f], to=TensorProto.FLOAT))
    nchw = g.name("nchw_raw")
    g.nodes.append(helper.make_node("Transpose", [f], [nchw], perm=[0, 3, 1, 2]))

    def node(op, inputs, **attrs):
        out = g.name(op.lower())
        g.nodes.append(helper.make_node(op, inputs, [out], **attrs))
        return out

    shape = node("Shape", ["input"])
    batch = node("Shape", ["input"], start=0, end=1)
    hw = node("Gather", [shape, g.const("hw_idx", np.array([1, 2], dtype=np.int64))], axis=0)
    hwf = node("Cast", [hw], to=TensorProto.FLOAT)
    target = g.const("target", np.array([size / crop_fraction, size / crop_fraction], dtype=np.float32))
    ratio = node("Div", [target, hwf])
    scale = node("ReduceMax", [ratio], keepdims=1)
    scaled = node("Round", [node("Mul", [hwf, scale])])
    out_hw = g.const("out_hw", np.array([size, size], dtype=np.float32))
    scaled_hw = node("Cast", [node("Max", [scaled, out_hw])], to=TensorProto.INT64)
    sizes = node("Concat", [batch, g.const("three", np.array([3], dtype=np.int64)), scaled_hw], axis=0)
    resized = node(
        "Resize", [nchw, "", "", sizes], mode="cubic", antialias=1, coordinate_transformation_mode="half_pixel", cubic_coeff_a=-0.5
    )
    size_i = g.const("size_i", np.array([size, size], dtype=np.int64))
    start = node("Div", [node("Sub", [scaled_hw, size_i]), g.const("two", np.array([2, 2], dtype=np.int64))])
    end = node("Add", [start, size_i])
    return graph_input, node("Slice", [resized, start, end, g.const("axes_hw", np.array([2, 3], dtype=np.int64))])


def build(sd, *, mean, std, size=224, eps=1e-3, input_format="float32-nchw", resize_from=None, crop_fraction=1.0):
    """Builds the ONNX model. `input_format` float32-nchw takes normalised pixels; uint8-nhwc takes
    raw RGB bytes and normalises inside the graph with `mean`/`std`; uint8-nhwc-any takes raw RGB
    bytes of any size (`[batch, height, width, 3]`) and also does the centre-crop resize in the
    graph (the featurizer's raw path, `model-raw.onnx`). With `resize_from` (uint8 only)
    the graph takes `resize_from` x `resize_from` images and does the centre-crop resize itself
    (bilinear), for measuring resize-in-graph against resize in sharp."""
    g = _Graph(size, eps)
    opset = OPSET
    if input_format == "uint8-nhwc-any":
        opset = RAW_OPSET
        graph_input, cropped = _raw_front(g, size, crop_fraction)
        c = g.name("centred")
        g.nodes.append(helper.make_node("Sub", [cropped, g.const("mean", np.array(mean, dtype=np.float32).reshape(1, 3, 1, 1))], [c]))
        x = g.name("scaled")
        inv = g.const("inv_std", (1.0 / np.array(std, dtype=np.float64)).astype(np.float32).reshape(1, 3, 1, 1))
        g.nodes.append(helper.make_node("Mul", [c, inv], [x]))
    elif resize_from is not None:
        if input_format != "uint8-nhwc":
            raise ValueError("resize_from needs uint8-nhwc input")
        graph_input = helper.make_tensor_value_info("input", TensorProto.UINT8, ["batch", resize_from, resize_from, 3])
        f = g.name("as_float")
        g.nodes.append(helper.make_node("Cast", ["input"], [f], to=TensorProto.FLOAT))
        nchw = g.name("nchw_raw")
        g.nodes.append(helper.make_node("Transpose", [f], [nchw], perm=[0, 3, 1, 2]))
        scaled = round(size / crop_fraction)
        resized = g.name("resized")
        shape = g.name("shape")
        g.nodes.append(helper.make_node("Shape", [nchw], [shape], start=0, end=1))
        full = g.name("full_sizes")
        g.nodes.append(helper.make_node("Concat", [shape, g.const("chw", np.array([3, scaled, scaled], dtype=np.int64))], [full], axis=0))
        g.nodes.append(helper.make_node("Resize", [nchw, "", "", full], [resized], mode="linear"))
        off = (scaled - size) // 2
        cropped = g.name("cropped")
        g.nodes.append(helper.make_node(
            "Slice",
            [resized, g.const("starts", np.array([off, off], dtype=np.int64)),
             g.const("ends", np.array([off + size, off + size], dtype=np.int64)),
             g.const("axes", np.array([2, 3], dtype=np.int64))],
            [cropped],
        ))
        c = g.name("centred")
        g.nodes.append(helper.make_node("Sub", [cropped, g.const("mean", np.array(mean, dtype=np.float32).reshape(1, 3, 1, 1))], [c]))
        x = g.name("scaled")
        inv = g.const("inv_std", (1.0 / np.array(std, dtype=np.float64)).astype(np.float32).reshape(1, 3, 1, 1))
        g.nodes.append(helper.make_node("Mul", [c, inv], [x]))
    elif input_format == "float32-nchw":
        graph_input = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3, size, size])
        x = "input"
    elif input_format == "uint8-nhwc":
        graph_input = helper.make_tensor_value_info("input", TensorProto.UINT8, ["batch", size, size, 3])
        f = g.name("as_float")
        g.nodes.append(helper.make_node("Cast", ["input"], [f], to=TensorProto.FLOAT))
        c = g.name("centred")
        g.nodes.append(helper.make_node("Sub", [f, g.const("mean", np.array(mean, dtype=np.float32))], [c]))
        s = g.name("scaled")
        inv = g.const("inv_std", (1.0 / np.array(std, dtype=np.float64)).astype(np.float32))
        g.nodes.append(helper.make_node("Mul", [c, inv], [s]))
        x = g.name("nchw")
        g.nodes.append(helper.make_node("Transpose", [s], [x], perm=[0, 3, 1, 2]))
    else:
        raise ValueError(f"unknown input format {input_format}")

    x, hw = g.conv_bn(x, sd, "_conv_stem", "_bn0", 2, 1, True, size)
    for b in _blocks(sd):
        p, inp = b["prefix"], x
        if b["expand"]:
            x, hw_in = g.conv_bn(x, sd, f"{p}._expand_conv", f"{p}._bn0", 1, 1, True, hw)
        channels = sd[f"{p}._depthwise_conv.weight"].shape[0]
        x, hw_out = g.conv_bn(x, sd, f"{p}._depthwise_conv", f"{p}._bn1", b["stride"], channels, True, hw)
        x, _ = g.conv_bn(x, sd, f"{p}._project_conv", f"{p}._bn2", 1, 1, False, hw_out)
        if b["stride"] == 1 and b["cin"] == b["cout"]:
            y = g.name("residual")
            g.nodes.append(helper.make_node("Add", [x, inp], [y]))
            x = y
        hw = hw_out
    x, hw = g.conv_bn(x, sd, "_conv_head", "_bn1", 1, 1, True, hw)
    pooled = g.name("pooled")
    g.nodes.append(helper.make_node("GlobalAveragePool", [x], [pooled]))
    g.nodes.append(helper.make_node("Flatten", [pooled], ["features"], axis=1))
    fc_w, fc_b = sd["_fc.weight"], sd["_fc.bias"]
    g.nodes.append(
        helper.make_node(
            "Gemm", ["features", g.const("fc.w", fc_w.astype(np.float32)), g.const("fc.b", fc_b.astype(np.float32))],
            ["logits"], transB=1,
        )
    )
    feature_dim, classes = fc_w.shape[1], fc_w.shape[0]
    graph = helper.make_graph(
        g.nodes,
        "efficientnet_lite",
        [graph_input],
        [
            helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", feature_dim]),
            helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", classes]),
        ],
        initializer=g.inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="orchard")
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    return model, feature_dim, classes
