"""Recurrent layers: LSTM, GRU and RNN, unrolled over the static sequence length.

Weights are constants, so every gate's pre-activation X_t W^T + H_(t-1) R^T + b is a free
linear combination at the accumulator scale; each activation is a certified piecewise
approximation (`nonlinear.elementwise`: Sigmoid, Tanh) or exact (Relu), recorded for the
error report per gate and step; each elementwise product of two computed tensors
(f * C, i * g, o * h(C), r * H, z * H) costs one constraint per element after both are
at activation scale, and the cell and hidden states are rescaled once per step (cached),
which also range-checks them. The cost per time step is recorded for the error report
(``function: "recurrent"``) and so shown by `zkoracle info`.

Supported: directions forward, reverse and bidirectional; initial states given (constant)
or zero; ``sequence_lens`` absent or a constant equal to the sequence length (a shorter
or computed one is refused: the circuit's shape is fixed); ``layout`` 0 and 1; GRU
``linear_before_reset``; LSTM peepholes. Refused with the attribute named: ``clip``,
``input_forget``, activations other than Sigmoid, Tanh and Relu.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from circuits.onnx.context import LoweringContext
from circuits.onnx.ops.arith import Mul, add_const, add_tensors, computed, mul_by, mul_const
from circuits.onnx.ops.linear import matmul
from circuits.onnx.ops.nonlinear import elementwise
from circuits.onnx.ops.recurrent_private import private_cell
from circuits.onnx.quant import quantize
from circuits.onnx.registry import onnx_op
from circuits.onnx.tensor import Operand, QTensor, Result

Act = Callable[[QTensor], QTensor]
_CERTIFIED = {"Sigmoid": "sigmoid", "Tanh": "tanh"}


def _activation(ctx: LoweringContext, name: str) -> Act:
    if name in _CERTIFIED:
        return lambda t: elementwise(ctx, t, _CERTIFIED[name])
    if name == "Relu":
        return lambda t: ctx.rescale_relu(t, ctx.config.act_scale)
    raise ctx.unsupported(
        f"attribute activations: {name!r} has no certified approximation; supported: "
        "Sigmoid, Tanh, Relu"
    )


def settle(ctx: LoweringContext, t: QTensor) -> QTensor:
    """A new state: t at activation scale, range-checked to ``act_bits`` and given that
    width's bound. Every step then sees the same static bounds, so the gates of every step
    reuse one cached approximation plan (and the bounds cannot creep up step by step)."""
    s, w = ctx.config.act_scale, ctx.config.act_bits
    out = ctx.rescale(t, s, bits=w) if t.scale > s else ctx.upscale(t, s)
    if out.bound > 1 << (w - 1):
        raise ctx.error(f"a state's bound 2^{out.bound.bit_length()} exceeds act_bits = {w}")
    return QTensor(out.values, s, 1 << (w - 1))


def _mul(ctx: LoweringContext, a: QTensor, b: QTensor) -> QTensor:
    out = Mul(ctx, a, b)
    assert isinstance(out, QTensor)
    return out


class Cell:
    """What a direction of a layer needs: its weights, biases and activations."""

    def __init__(
        self, ctx: LoweringContext, w: Any, r: Any, b: Any, acts: list[Act], tag: str = ""
    ) -> None:
        self.ctx, self.w, self.r, self.b, self.acts = ctx, w, r, b, acts
        self.hidden = r.shape[-1]
        #: the last step's pre-activations of all gates (x and h kept alive for their ids)
        self._full: dict[tuple[int, int, bool], tuple[QTensor, QTensor, QTensor]] = {}
        #: private weights: W^T, R^T, Wb, Rb committed once and used at every step
        self.tag = tag
        self.private = private_cell(ctx, w, r, b, tag) if ctx.private_mode else None
        self._peep: QTensor | None = None

    def peep(self, state: QTensor, p: Any, k: int) -> QTensor | None:
        """The peephole term p_k * state (free; one product per element when private)."""
        n, ctx = self.hidden, self.ctx
        if self.private is None:
            pk = p[k * n : (k + 1) * n]
            return mul_const(ctx, ctx.activation(state), pk) if np.any(pk) else None
        if self._peep is None:
            ws = ctx.config.weight_scale
            self._peep = ctx.private_ints(quantize(p, ws), ws, f"P{self.tag}")
        pw = self._peep
        return mul_by(ctx, ctx.activation(state), QTensor(pw.values[k * n : (k + 1) * n],
                                                          pw.scale, pw.bound))  # fmt: skip

    def pre(self, x: QTensor, h: QTensor, gate: int, with_r: bool = True) -> QTensor:
        """x W_g^T + h R_g^T + Wb_g + Rb_g (free), or without the recurrent term. All gates
        are formed together (free) so that they share one static bound, hence one cached
        approximation plan per activation."""
        key = (id(x), id(h), with_r)
        if key not in self._full and self.private is not None:
            out = self.private.pre(x, h, with_r)
            self._full = {key: (x, h, out)}
        if key not in self._full:
            k = self.w.shape[0] // self.hidden
            out = matmul(self.ctx, x, self.w.T)
            if with_r:
                out = add_tensors(self.ctx, out, matmul(self.ctx, h, self.r.T))
            bias = self.b[: k * self.hidden] + (self.b[k * self.hidden :] if with_r else 0.0)
            self._full = {key: (x, h, add_const(self.ctx, out, bias.reshape(1, -1)))}
        full = self._full[key][2]
        sl = slice(gate * self.hidden, (gate + 1) * self.hidden)
        return QTensor(full.values[:, sl], full.scale, full.bound)

    def rec(self, h: QTensor, gate: int) -> QTensor:
        """h R_g^T + Rb_g (free), for GRU's linear_before_reset."""
        sl = slice(gate * self.hidden, (gate + 1) * self.hidden)
        if self.private is not None:
            return self.private.rec(h, sl)
        k = self.w.shape[0] // self.hidden
        out = matmul(self.ctx, h, self.r[sl].T)
        return add_const(self.ctx, out, self.b[k * self.hidden :][sl].reshape(1, -1))


# one step of each cell ---------------------------------------------------------------------
def lstm_step(cell: Cell, x: QTensor, h: QTensor, c: QTensor, p: Any) -> tuple[QTensor, QTensor]:
    ctx, (f, g, hh) = cell.ctx, cell.acts

    def peep(t: QTensor, k: int, state: QTensor) -> QTensor:
        term = None if p is None else cell.peep(state, p, k)
        return t if term is None else add_tensors(ctx, t, term)

    i_t = f(peep(cell.pre(x, h, 0), 0, c))
    f_t = f(peep(cell.pre(x, h, 2), 2, c))
    g_t = g(cell.pre(x, h, 3))
    c_new = settle(ctx, add_tensors(ctx, _mul(ctx, f_t, c), _mul(ctx, i_t, g_t)))
    o_t = f(peep(cell.pre(x, h, 1), 1, c_new))
    h_new = settle(ctx, _mul(ctx, o_t, hh(c_new)))
    return h_new, c_new


def gru_step(cell: Cell, x: QTensor, h: QTensor, lbr: int) -> QTensor:
    ctx, (f, g) = cell.ctx, cell.acts
    z = f(cell.pre(x, h, 0))
    r = f(cell.pre(x, h, 1))
    if lbr:
        cand = add_tensors(ctx, cell.pre(x, h, 2, with_r=False), _mul(ctx, r, cell.rec(h, 2)))
    else:
        rh = ctx.activation(_mul(ctx, r, h))
        cand = add_tensors(ctx, cell.pre(x, h, 2, with_r=False), cell.rec(rh, 2))
    hc = g(cand)
    # (1 - z) * hc + z * h = hc + z * (h - hc): one product per element
    return settle(ctx, add_tensors(ctx, hc, _mul(ctx, z, add_tensors(ctx, h, hc, -1))))


def rnn_step(cell: Cell, x: QTensor, h: QTensor) -> QTensor:
    return settle(cell.ctx, cell.acts[0](cell.pre(x, h, 0)))


# the layer ---------------------------------------------------------------------------------
class Layer:
    """The shared frame of the three operators: inputs checked, directions unrolled."""

    def __init__(self, ctx: LoweringContext, X: Operand, layout: int, hidden_size: int | None):
        x = computed(ctx, X, "X")
        if x.ndim != 3:
            raise ctx.error(f"input X must have rank 3, got shape {list(x.shape)}")
        self.ctx = ctx
        self.x = x.transpose((1, 0, 2)) if layout else x  # [seq, batch, input]
        self.layout = layout
        self.seq, self.batch = self.x.shape[0], self.x.shape[1]
        self.hidden_size = hidden_size

    def check_lens(self, sequence_lens: Operand) -> None:
        if sequence_lens is None:
            return
        if isinstance(sequence_lens, QTensor):
            raise self.ctx.unsupported(
                "input sequence_lens is computed from the model inputs (a dynamic sequence "
                "length); re-export with a fixed sequence length and no sequence_lens"
            )
        lens = np.asarray(sequence_lens).reshape(-1)
        if np.any(lens != self.seq):
            raise self.ctx.unsupported(
                f"input sequence_lens = {lens.tolist()} is shorter than the sequence "
                f"({self.seq} steps); pad or trim the inputs to one length and drop sequence_lens"
            )

    def state0(self, init: Operand, d: int, hidden: int, slot: str = "initial") -> QTensor:
        """The initial state of direction d (zero when absent), settled like every state; a
        constant one is committed as `slot` with private weights."""
        s = self.ctx.config.act_scale
        if init is None:
            t = self.ctx.const(np.zeros((self.batch, hidden)), s)
        elif isinstance(init, QTensor):
            t = QTensor(init.values[d], init.scale, init.bound)
        else:
            arr = np.asarray(init, dtype=np.float64)[d]
            t = self.ctx.weight(arr, s, slot) or self.ctx.const(arr, s)
        return settle(self.ctx, t)

    def steps(self, d: int, reverse: bool) -> list[int]:
        return list(range(self.seq))[::-1] if reverse else list(range(self.seq))

    def step_input(self, t: int) -> QTensor:
        return QTensor(self.x.values[t], self.x.scale, self.x.bound)

    def outputs(self, ys: list[list[QTensor]], finals: list[list[QTensor]]) -> tuple[QTensor, ...]:
        """Y [seq, dirs, batch, hidden] (or layout 1's [batch, seq, dirs, hidden]) and the
        final states [dirs, batch, hidden] (layout 1: [batch, dirs, hidden])."""
        y = np.stack([np.stack([h.values for h in per_dir]) for per_dir in ys], axis=1)
        tensors = [QTensor(y, ys[0][0].scale, max(h.bound for r in ys for h in r))]
        for group in finals:
            v = np.stack([h.values for h in group])
            tensors.append(QTensor(v, group[0].scale, max(h.bound for h in group)))
        if self.layout:
            tensors[0] = tensors[0].transpose((2, 0, 1, 3))
            tensors[1:] = [t.transpose((1, 0, 2)) for t in tensors[1:]]
        return tuple(tensors)


def directions(ctx: LoweringContext, direction: str) -> list[bool]:
    """One `reverse` flag per direction."""
    table = {"forward": [False], "reverse": [True], "bidirectional": [False, True]}
    if direction not in table:
        raise ctx.error(f"attribute direction = {direction!r} is not one of {sorted(table)}")
    return table[direction]


def common_checks(ctx: LoweringContext, clip: float | None, alpha: Sequence[float] | None) -> None:
    if clip is not None:
        raise ctx.unsupported("attribute clip (cell clipping); re-export without clip")
    if alpha:
        raise ctx.unsupported("attributes activation_alpha / activation_beta")


@onnx_op("RNN")
def RNN(
    ctx: LoweringContext, X: Operand, W: Operand, R: Operand, B: Operand = None,
    sequence_lens: Operand = None, initial_h: Operand = None, *,
    activation_alpha: Sequence[float] | None = None, activation_beta: Sequence[float] | None = None,
    activations: Sequence[str] | None = None, clip: float | None = None,
    direction: str = "forward", hidden_size: int | None = None, layout: int = 0,
) -> Result:  # fmt: skip
    from circuits.onnx.ops.recurrent_run import run

    common_checks(ctx, clip, activation_alpha or activation_beta)
    return run(ctx, "RNN", X, W, R, B, sequence_lens, initial_h, None, None,
               list(activations or []), direction, hidden_size, layout, 0)  # fmt: skip


@onnx_op("GRU")
def GRU(
    ctx: LoweringContext, X: Operand, W: Operand, R: Operand, B: Operand = None,
    sequence_lens: Operand = None, initial_h: Operand = None, *,
    activation_alpha: Sequence[float] | None = None, activation_beta: Sequence[float] | None = None,
    activations: Sequence[str] | None = None, clip: float | None = None,
    direction: str = "forward", hidden_size: int | None = None, layout: int = 0,
    linear_before_reset: int = 0,
) -> Result:  # fmt: skip
    from circuits.onnx.ops.recurrent_run import run

    common_checks(ctx, clip, activation_alpha or activation_beta)
    acts = list(activations or [])
    return run(ctx, "GRU", X, W, R, B, sequence_lens, initial_h, None, None,
               acts, direction, hidden_size, layout, linear_before_reset)  # fmt: skip


@onnx_op("LSTM")
def LSTM(
    ctx: LoweringContext, X: Operand, W: Operand, R: Operand, B: Operand = None,
    sequence_lens: Operand = None, initial_h: Operand = None, initial_c: Operand = None,
    P: Operand = None, *,
    activation_alpha: Sequence[float] | None = None, activation_beta: Sequence[float] | None = None,
    activations: Sequence[str] | None = None, clip: float | None = None,
    direction: str = "forward", hidden_size: int | None = None, input_forget: int = 0,
    layout: int = 0,
) -> Result:  # fmt: skip
    from circuits.onnx.ops.recurrent_run import run

    common_checks(ctx, clip, activation_alpha or activation_beta)
    if input_forget:
        raise ctx.unsupported("attribute input_forget = 1 (coupled input and forget gates)")
    return run(ctx, "LSTM", X, W, R, B, sequence_lens, initial_h, initial_c, P,
               list(activations or []), direction, hidden_size, layout, 0)  # fmt: skip
