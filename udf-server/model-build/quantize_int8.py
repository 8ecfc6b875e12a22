"""Static INT8 quantization of an orchard FP32 graph with ONNX Runtime's quantization tools.

Activations are calibrated (min/max) on a fixed calibration set that went through orchard's own
preprocessing (calibration-set.ts). Weights are int8 per output channel (per-tensor weights lose
too much in the depthwise convolutions), activations uint8: the U8S8 kernels that use AVX-512 VNNI
/ AVX-VNNI where the CPU has them. The format is QDQ (QuantizeLinear / DequantizeLinear pairs
around each quantized op, which ONNX Runtime fuses into integer kernels when it loads the graph).
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


def quantize(src, dst, input_name, calibration, stem=None):
    """Writes the INT8 version of the graph `src` to `dst`, calibrated (min/max of every activation)
    on `calibration`: an array of the graph's input tensors, first axis = images. `stem`: the
    (scale, zero point) for the first Conv's input instead of calibrated ones; the raw graph takes
    model.onnx's, so both quantize the normalised pixels alike (for (pixel - 127) / 128 that is
    exact: scale 1/128, zero point 127)."""
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
