"""LSTM / GRU / RNN graphs written with onnx.helper, laid out as torch.onnx.export writes
them (weights as initializers, Y squeezed of its direction axis for one direction)."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}


def recurrent_model(
    kind: str,
    seq: int,
    inputs: int,
    hidden: int,
    *,
    direction: str = "forward",
    seed: int = 0,
    initial: bool = False,
    peepholes: bool = False,
    layout: int = 0,
    **attrs: object,
) -> onnx.ModelProto:
    rng = np.random.default_rng(seed)
    dirs = 2 if direction == "bidirectional" else 1
    k = GATES[kind]
    scale = 1 / np.sqrt(hidden)
    inits = {
        "W": rng.uniform(-scale, scale, (dirs, k * hidden, inputs)),
        "R": rng.uniform(-scale, scale, (dirs, k * hidden, hidden)),
        "B": rng.uniform(-scale, scale, (dirs, 2 * k * hidden)),
    }
    names = ["X", "W", "R", "B", ""]
    if initial:
        inits["h0"] = rng.uniform(-0.5, 0.5, (dirs, 1, hidden))
        names.append("h0")
        if kind == "LSTM":
            inits["c0"] = rng.uniform(-0.5, 0.5, (dirs, 1, hidden))
            names.append("c0")
    if peepholes:
        names += [""] * (7 - len(names)) + ["P"]
        inits["P"] = rng.uniform(-0.5, 0.5, (dirs, 3 * hidden))
    outs = ["Y", "Y_h", "Y_c"] if kind == "LSTM" else ["Y", "Y_h"]
    node = helper.make_node(
        kind, names, outs, name=f"my_{kind.lower()}", hidden_size=hidden, direction=direction,
        layout=layout, **attrs,
    )  # fmt: skip
    x_shape = [1, seq, inputs] if layout else [seq, 1, inputs]
    y_shape = [1, seq, dirs, hidden] if layout else [seq, dirs, 1, hidden]
    h_shape = [1, dirs, hidden] if layout else [dirs, 1, hidden]
    f32 = TensorProto.FLOAT
    graph = helper.make_graph(
        [node], "rnn", [helper.make_tensor_value_info("X", f32, x_shape)],
        [helper.make_tensor_value_info("Y", f32, y_shape)]
        + [helper.make_tensor_value_info(o, f32, h_shape) for o in outs[1:]],
        initializer=[numpy_helper.from_array(v.astype(np.float32), n) for n, v in inits.items()],
    )  # fmt: skip
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
