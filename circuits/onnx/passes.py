"""Graph rewrites applied before lowering.

`fold_batchnorm`: an inference BatchNormalization y = a * x + b (per channel, with
a = gamma / sqrt(var + eps), b = beta - mean * a) right after a Conv or Gemm with constant
weights is merged into that layer: W' = a * W (per output channel), bias' = a * bias + b.
The merged layer costs nothing, like the original; lowering the batch norm on its own
would multiply by a quantized `a` and add ``weight_scale`` fraction bits, i.e. a wider
rescale afterwards. Folding happens in float64 on the constants, never on the ONNX file.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Any

import numpy as np
import onnx
from onnx import helper

from circuits.onnx.loader import OnnxGraph
from circuits.onnx.tensor import Const


def fold_batchnorm(graph: OnnxGraph) -> OnnxGraph:
    """`graph` with every foldable BatchNormalization merged into its producer."""
    consumers = Counter(i for n in graph.nodes for i in n.input if i)
    outputs = {o.name for o in graph.outputs}
    producer = {o: n for n in graph.nodes for o in n.output}
    constants = dict(graph.constants)
    replaced: dict[str, onnx.NodeProto] = {}  # producer output -> merged node
    dropped: set[int] = set()
    for bn in graph.nodes:
        if bn.op_type != "BatchNormalization":
            continue
        p = producer.get(bn.input[0])
        if (
            p is None
            or consumers[bn.input[0]] != 1
            or bn.input[0] in outputs
            or bn.input[0] in replaced
        ):
            continue
        ab = _bn_affine(bn, constants)
        if ab is None:
            continue
        merged = _merge(p, bn, ab, constants)
        if merged is not None:
            replaced[bn.input[0]] = merged
            dropped.add(id(bn))
    if not replaced:
        return graph
    nodes = []
    for n in graph.nodes:
        if id(n) in dropped:
            continue
        nodes.append(replaced.get(n.output[0], n) if n.output else n)
    return dataclasses.replace(graph, nodes=tuple(nodes), constants=constants)


def _bn_affine(bn: onnx.NodeProto, constants: dict[str, Const]) -> tuple[Const, Const] | None:
    attrs = {a.name: helper.get_attribute_value(a) for a in bn.attribute}
    if attrs.get("training_mode", 0) or len([o for o in bn.output if o]) != 1:
        return None
    if len(bn.input) < 5 or any(i not in constants for i in bn.input[1:5]):
        return None
    gamma, beta, mean, var = (np.asarray(constants[i], np.float64) for i in bn.input[1:5])
    a = gamma / np.sqrt(var + float(attrs.get("epsilon", 1e-5)))
    return a, beta - mean * a


def _merge(
    p: onnx.NodeProto, bn: onnx.NodeProto, ab: tuple[Const, Const], constants: dict[str, Const]
) -> onnx.NodeProto | None:
    a, b = ab
    attrs = {x.name: helper.get_attribute_value(x) for x in p.attribute}
    tag = f"{bn.output[0]}::bn_folded"
    if p.op_type == "Conv" and len(p.input) >= 2 and p.input[1] in constants:
        w = np.asarray(constants[p.input[1]], np.float64)
        if a.shape != (w.shape[0],):
            return None
        bias = (
            np.asarray(constants[p.input[2]], np.float64)
            if len(p.input) > 2 and p.input[2]
            else np.zeros(w.shape[0])
        )
        constants[tag + "/W"] = w * a.reshape((-1,) + (1,) * (w.ndim - 1))
        constants[tag + "/B"] = bias * a + b
        return _copy(p, [p.input[0], tag + "/W", tag + "/B"], bn.output[0], attrs)
    if p.op_type == "Gemm" and len(p.input) >= 2 and p.input[1] in constants:
        w = np.asarray(constants[p.input[1]], np.float64)
        trans_b = int(attrs.get("transB", 0))
        n_out = w.shape[0] if trans_b else w.shape[1]
        if w.ndim != 2 or a.shape != (n_out,):
            return None
        constants[tag + "/B"] = w * (a[:, None] if trans_b else a[None, :])
        beta = float(attrs.get("beta", 1.0))
        has_c = len(p.input) > 2 and p.input[2]
        if has_c and p.input[2] not in constants:
            return None
        c = np.asarray(constants[p.input[2]], np.float64) * beta if has_c else np.zeros(n_out)
        constants[tag + "/C"] = (
            np.broadcast_to(c, np.broadcast_shapes(np.shape(c), (n_out,))) * a + b
        )
        attrs["beta"] = 1.0
        return _copy(p, [p.input[0], tag + "/B", tag + "/C"], bn.output[0], attrs)
    return None


def _copy(
    p: onnx.NodeProto, inputs: list[str], output: str, attrs: dict[str, Any]
) -> onnx.NodeProto:
    return helper.make_node(p.op_type, inputs, [output], name=p.name or output, **attrs)
