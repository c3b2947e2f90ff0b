"""The unrolling shared by `recurrent.LSTM`, `GRU` and `RNN`: weights read, directions and
time steps walked, outputs assembled, the cost per time step recorded."""

from __future__ import annotations

from typing import Any

import numpy as np

from circuits.onnx.context import LoweringContext
from circuits.onnx.ops import recurrent_bound
from circuits.onnx.ops.recurrent import (
    Cell,
    Layer,
    _activation,
    directions,
    gru_step,
    lstm_step,
    rnn_step,
)
from circuits.onnx.tensor import Operand, QTensor

GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}
DEFAULT_ACTS = {"LSTM": ["Sigmoid", "Tanh", "Tanh"], "GRU": ["Sigmoid", "Tanh"], "RNN": ["Tanh"]}


def _weights(
    ctx: LoweringContext, kind: str, W: Operand, R: Operand, B: Operand, P: Operand, dirs: int
) -> tuple[Any, Any, Any, Any]:
    w = np.asarray(ctx.const_input(W, "W"), dtype=np.float64)
    r = np.asarray(ctx.const_input(R, "R"), dtype=np.float64)
    hidden, k = r.shape[-1], GATES[kind]
    if w.shape[0] != dirs or w.shape[1] != k * hidden or r.shape[:2] != (dirs, k * hidden):
        raise ctx.error(f"weights W {list(w.shape)} and R {list(r.shape)} do not fit {kind}")
    b = (
        np.zeros((dirs, 2 * k * hidden))
        if B is None
        else np.asarray(ctx.const_input(B, "B"), dtype=np.float64)
    )
    p = None if P is None else np.asarray(ctx.const_input(P, "P"), dtype=np.float64)
    return w, r, b, p


def run(
    ctx: LoweringContext, kind: str, X: Operand, W: Operand, R: Operand, B: Operand,
    lens: Operand, h0: Operand, c0: Operand, P: Operand, acts: list[str], direction: str,
    hidden_size: int | None, layout: int, lbr: int,
) -> tuple[QTensor, ...]:  # fmt: skip
    """Y, Y_h (and Y_c for LSTM) of the layer."""
    layer = Layer(ctx, X, layout, hidden_size)
    layer.check_lens(lens)
    revs = directions(ctx, direction)
    w, r, b, p = _weights(ctx, kind, W, R, B, P, len(revs))
    hidden = r.shape[-1]
    if hidden_size is not None and hidden_size != hidden:
        raise ctx.error(f"attribute hidden_size = {hidden_size}, the weights say {hidden}")
    per = len(DEFAULT_ACTS[kind])
    names = acts or DEFAULT_ACTS[kind] * len(revs)
    if len(names) != per * len(revs):
        raise ctx.error(f"attribute activations has {len(names)} names, expected {per * len(revs)}")
    before, first = ctx.builder.n_constraints, len(ctx.state.approximations)
    ys, hs, cs = [], [], []
    for d, rev in enumerate(revs):
        fns = [_activation(ctx, n) for n in names[d * per : (d + 1) * per]]
        cell = Cell(ctx, w[d], r[d], b[d], fns, f"[{d}]")
        h = layer.state0(h0, d, hidden, f"initial_h[{d}]")
        c = layer.state0(c0, d, hidden, f"initial_c[{d}]")
        out: list[QTensor] = [h] * layer.seq
        for t in layer.steps(d, rev):
            x_t = layer.step_input(t)
            if kind == "LSTM":
                h, c = lstm_step(cell, x_t, h, c, None if p is None else p[d])
            elif kind == "GRU":
                h = gru_step(cell, x_t, h, lbr)
            else:
                h = rnn_step(cell, x_t, h)
            out[t] = h
        ys.append(out)
        hs.append(h)
        cs.append(c)
    steps = layer.seq * len(revs)
    cost = ctx.builder.n_constraints - before
    err = recurrent_bound.record(ctx, kind, layer.x, (w, r, b, p), names, revs, (h0, c0), lbr,
                                 ctx.state.approximations[first:])  # fmt: skip
    ctx.record_approximation(
        {"function": "recurrent", "method": "bound propagated through the steps",
         "max_abs_error": err, "cell": kind, "steps": steps, "constraints": cost,
         "constraints_per_step": cost / max(steps, 1)}
    )  # fmt: skip
    return layer.outputs(
        [[ys[d][t] for t in range(layer.seq)] for d in range(len(revs))],
        [hs, cs] if kind == "LSTM" else [hs],
    )
