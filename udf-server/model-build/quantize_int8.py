"""Static INT8 quantization of an orchard FP32 graph with ONNX Runtime's quantization tools.

Activations are calibrated (min/max) on a fixed calibration set that went through orchard's own
preprocessing (calibration-set.ts). Weights are quantized per output channel (per-tensor weights
lose too much in the depthwise convolutions). Activations are uint8 and weights int8 (U8S8), the
pairing ONNX Runtime's VNNI kernels (vpdpbusd) compute exactly: about 2x FP32 per core on AVX-512
VNNI. x86 CPUs without VNNI run U8S8 through vpmaddubsw, whose int16 sums of two products saturate
(AVX2-only EPYC: cosine to FP32 0.81, top-1 = FP32's on 9 of 14 reference photos), and no other
pairing is faster than FP32 there (uint8 weights: 0.23-0.85x), so the manifest says the graphs need
VNNI on x86 (`x86RequiresVnni`) and the sidecar refuses them on a CPU without it (bench/README.md).
The format is QDQ (QuantizeLinear / DequantizeLinear pairs around each quantized op, which ONNX
Runtime fuses into integer kernels when it loads the graph).
The raw graph's front is then rewritten to hand the stem its uint8 pixels (_uint8_front).
"""

import logging
import os

import numpy as np
import onnx
from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static


class _Batches(CalibrationDataReader):
    """Feeds the calibration tensors to the calibrator one image at a time."""

    def __init__(self, input_name, tensors):
        self.input_name = input_name
        self.tensors = tensors
        self.i = 0

    def get_next(self):
        if self.i >= len(self.tensors):
            return None
        self.i += 1
        return {self.input_name: np.ascontiguousarray(self.tensors[self.i - 1 : self.i])}

    def rewind(self):
        self.i = 0


# After the last convolution: pooling (the features output stays float, not 256 levels) and the
# classifier head (one small matrix per image; the logits stay close to FP32).
_FLOAT_TAIL = ("GlobalAveragePool", "Flatten", "Gemm")


def _float_nodes(model):
    """Names every node (unnamed ones get their op and first output) and returns the names of those
    kept in float, and the input of the first Conv: everything before it (a raw graph's in-graph
    resize, crop and normalisation) and the tail (_FLOAT_TAIL)."""
    keep, stem_input = [], None
    for node in model.graph.node:
        if not node.name:
            node.name = f"{node.op_type}:{node.output[0]}"
        if stem_input is None and node.op_type == "Conv":
            stem_input = node.input[0]
        if stem_input is None or node.op_type in _FLOAT_TAIL:
            keep.append(node.name)
    return keep, stem_input


def stem_input_quantization(path):
    """The (scale, zero point) a quantized graph gives its first Conv's input."""
    model = onnx.load(path)
    init = {i.name: onnx.numpy_helper.to_array(i) for i in model.graph.initializer}
    conv = next(n for n in model.graph.node if n.op_type == "Conv")
    dq = next(n for n in model.graph.node if n.op_type == "DequantizeLinear" and n.output[0] == conv.input[0])
    return init[dq.input[1]], init[dq.input[2]]


def _producer(nodes, tensor, op_type):
    node = next((n for n in nodes if tensor in n.output), None)
    if node is None or node.op_type != op_type:
        raise ValueError(f"raw graph front: {tensor} is not the output of a {op_type}")
    return node


def _uint8_front(model):
    """Rewrites a quantized raw graph's float front (efficientnet_lite_onnx._raw_front, then the
    normalisation and the stem's QuantizeLinear):
        input -> Cast -> Transpose -> Resize -> Slice -> Sub(mean) -> Mul(1/std) -> Q(s, z) -> DQ(s, z) -> Conv
    into
        input -> Transpose (uint8) -> Cast -> Resize -> Slice -> Q(1, 0) -> DQ(s, z) -> Conv
    when the normalisation is the stem's input quantization (mean == z, 1/std == s: for 127 / 128,
    QuantizeLinear((p - 127) / 128) is round(p), the resized pixel as a byte). The stem then reads
    the pixels with its own (s, z); Sub, Mul and their float passes go, and the NHWC -> NCHW
    Transpose moves onto the uint8 input (a quarter of the bytes). Only ties differ from the old
    front: half-even rounding of p instead of p - 127. The Resize stays float: ONNX Runtime's
    uint8 cubic Resize is not the float one rounded (up to 8 levels off on the sample photos, 5-12%
    of the pixels) and is slower than the float kernel besides.
    Returns False, graph untouched, where the normalisation is not the stem's quantization."""
    g = model.graph
    nodes = list(g.node)
    init = {i.name: i for i in g.initializer}
    value = {name: onnx.numpy_helper.to_array(i) for name, i in init.items()}
    conv = next(n for n in nodes if n.op_type == "Conv")
    dq = _producer(nodes, conv.input[0], "DequantizeLinear")
    q = _producer(nodes, dq.input[0], "QuantizeLinear")
    mul = _producer(nodes, q.input[0], "Mul")
    sub = _producer(nodes, mul.input[0], "Sub")
    crop = _producer(nodes, sub.input[0], "Slice")
    resize = _producer(nodes, crop.input[0], "Resize")
    transpose = _producer(nodes, resize.input[0], "Transpose")
    cast = _producer(nodes, transpose.input[0], "Cast")
    scale, zero = value[q.input[1]], value[q.input[2]]
    if not (np.all(value[sub.input[1]] == zero) and np.all(value[mul.input[1]] == scale)):
        return False
    # Cast and Transpose swap places; the Cast keeps writing the tensor Resize reads.
    transpose.input[0], transpose.output[0] = cast.input[0], "nchw_pixels"
    cast.input[0], cast.output[0] = "nchw_pixels", resize.input[0]
    g.initializer.extend([
        onnx.numpy_helper.from_array(np.array(1.0, dtype=np.float32), "pixel_scale"),
        onnx.numpy_helper.from_array(np.array(0, dtype=np.uint8), "pixel_zero_point"),
    ])
    q.input[:] = [crop.output[0], "pixel_scale", "pixel_zero_point"]
    q.output[0] = dq.input[0] = "pixels"
    order = [n for n in nodes if n not in (sub, mul, cast)]
    order.insert(order.index(transpose) + 1, cast)
    del g.node[:]
    g.node.extend(order)
    used = {t for n in g.node for t in n.input}
    kept = [i for i in g.initializer if i.name in used]
    del g.initializer[:]
    g.initializer.extend(kept)
    # quantize_static's shape inference typed the front's tensors; some changed type or shape.
    front = {t for n in order[: order.index(conv)] for t in n.output}
    vi = [v for v in g.value_info if v.name not in front]
    del g.value_info[:]
    g.value_info.extend(vi)
    onnx.checker.check_model(model, full_check=True)
    return True


def quantize(src, dst, input_name, calibration, stem=None):
    """Writes the INT8 version of the graph `src` to `dst`, calibrated (min/max of every activation)
    on `calibration`: an array of the graph's input tensors, first axis = images. `stem`: the
    (scale, zero point) for the first Conv's input instead of calibrated ones; the raw graph takes
    model.onnx's, so both quantize the normalised pixels alike (for (pixel - 127) / 128 that is
    exact: scale 1/128, zero point 127), and its front then passes the stem the uint8 pixels
    (_uint8_front)."""
    model = onnx.load(src)
    keep, stem_input = _float_nodes(model)
    overrides = {} if stem is None else {stem_input: [{"scale": stem[0], "zero_point": stem[1]}]}
    named = dst + ".named.onnx"
    onnx.save(model, named)
    # The tools log a warning per layer (pre-processing advice, bias scales); the result is checked by orchard's tests.
    logging.getLogger().setLevel(logging.ERROR)
    try:
        quantize_static(
            named,
            dst,
            _Batches(input_name, calibration),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax,
            nodes_to_exclude=keep,
            extra_options={"TensorQuantOverrides": overrides},
        )
    finally:
        os.remove(named)
    if stem is not None:
        model = onnx.load(dst)
        if _uint8_front(model):
            onnx.save(model, dst)
