"""Tensor contractions beyond MatMul: Einsum and ConvTranspose.

Einsum runs numpy's own einsum over the circuit values (numpy supports object arrays), so
every equation form numpy accepts is lowered with numpy's index semantics. Products with
a constant operand are free; a product of two computed elements is one constraint (both
operands are brought to activation scale first), exactly as MatMul. The result stays at
the sum of the operands' scales; its bound is the einsum of the operands' bounds.

ConvTranspose with constant weights scatters every input element through the kernel:
each output is a free linear combination (like Conv), at ``x.scale + weight_scale``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from circuits.builder import Builder
from circuits.onnx.context import LoweringContext
from circuits.onnx.ops.arith import computed, exact_scale
from circuits.onnx.quant import quantize
from circuits.onnx.registry import onnx_op
from circuits.onnx.tensor import Operand, QTensor, Result, Value, as_lc, linear, map_values


@dataclass(frozen=True)
class _Term:
    """A circuit value whose product with another computed value is a constrained `mul`,
    so numpy's object einsum builds the circuit."""

    v: Value
    b: Builder

    def __mul__(self, o: Any) -> _Term:
        other = o.v if isinstance(o, _Term) else o
        if isinstance(self.v, int) or isinstance(other, int):
            return _Term(
                self.v * other if isinstance(self.v, int) else as_lc(self.v) * other, self.b
            )
        return _Term(self.b.mul(self.v, other), self.b)

    __rmul__ = __mul__

    def __add__(self, o: Any) -> _Term:
        other = o.v if isinstance(o, _Term) else o
        return _Term(linear([(1, self.v), (1, other)]), self.b)

    __radd__ = __add__


def _wrap(values: np.ndarray, b: Builder) -> np.ndarray:
    out = np.empty(values.shape, dtype=object)
    for idx in np.ndindex(*values.shape):
        v: Any = values[idx]
        out[idx] = _Term(v, b)
    return out


@onnx_op("Einsum")
def Einsum(ctx: LoweringContext, *Inputs: Operand, equation: str) -> Result:
    computed_n = sum(isinstance(t, QTensor) for t in Inputs)
    if computed_n == 0:
        raise ctx.error("Einsum needs a computed input")
    b = ctx.builder
    arrays, bounds, scale = [], [], 0
    for t in Inputs:
        if isinstance(t, QTensor):
            q = ctx.activation(t) if computed_n > 1 else t
            arrays.append(_wrap(q.values, b))
            bounds.append(np.full(q.shape, q.bound, dtype=object))
            scale += q.scale
        elif ctx.private_mode:  # a committed operand: its products are constraints
            c = np.asarray(ctx.const_input(t, "Inputs"), dtype=np.float64)
            pw = ctx.weight(c, ctx.config.weight_scale, "Inputs")
            assert pw is not None
            arrays.append(_wrap(pw.values, b))
            bounds.append(np.full(pw.shape, pw.bound, dtype=object))
            scale += pw.scale
        else:
            c = np.asarray(ctx.const_input(t, "Inputs"), dtype=np.float64)
            s = exact_scale(c, ctx.config.weight_scale)
            qc = quantize(c, s)
            arrays.append(qc)
            bounds.append(np.abs(qc))
            scale += s
    eq = equation.replace(" ", "")
    try:
        out = np.einsum(eq, *arrays, dtype=object)
        bound = np.einsum(eq, *bounds, dtype=object)
    except ValueError as e:
        raise ctx.error(f"equation {equation!r}: {e}") from e
    out = np.asarray(out, dtype=object)
    values = map_values(out, lambda t: t.v if isinstance(t, _Term) else t)
    top = max((abs(int(v)) for v in np.asarray(bound).reshape(-1)), default=0)
    return QTensor(values, scale, ctx.check_bound(top))


@onnx_op("ConvTranspose")
def ConvTranspose(
    ctx: LoweringContext,
    X: Operand,
    W: Operand,
    B: Operand = None,
    *,
    auto_pad: str = "NOTSET",
    dilations: Sequence[int] | None = None,
    group: int = 1,
    kernel_shape: Sequence[int] | None = None,
    output_padding: Sequence[int] | None = None,
    output_shape: Sequence[int] | None = None,
    pads: Sequence[int] | None = None,
    strides: Sequence[int] | None = None,
) -> Result:
    """y[n, m, o] = sum w[c, m', k] x[n, c, i] over o = i s + k d - pad_begin."""
    x = ctx.activation(computed(ctx, X, "X"))
    w = np.asarray(ctx.const_input(W, "W"), dtype=np.float64)
    sp = x.shape[2:]
    nd = len(sp)
    kernel = tuple(kernel_shape) if kernel_shape else tuple(w.shape[2:])
    st = tuple(strides or (1,) * nd)
    dl = tuple(dilations or (1,) * nd)
    op = tuple(output_padding or (0,) * nd)
    begins, out_sp = _transpose_geometry(ctx, sp, kernel, st, dl, op, pads, output_shape, auto_pad)
    c_in, m_g = w.shape[0], w.shape[1]
    c_g = c_in // group
    ws = ctx.config.weight_scale
    scale = x.scale + ws
    if ctx.private_mode:
        return _transpose_private(ctx, x, w, B, kernel, st, dl, begins, out_sp, group)
    wq = quantize(w, ws)
    n_b = x.shape[0]
    acc: dict[tuple[int, ...], list[tuple[int, Value]]] = {}
    for c in range(c_in):
        g = c // c_g
        for ki in np.ndindex(*kernel):
            for ml in range(m_g):
                k = int(wq[(c, ml, *ki)])
                if not k:
                    continue
                m = g * m_g + ml
                for i in np.ndindex(*sp):
                    o = tuple(i[a] * st[a] + ki[a] * dl[a] - begins[a] for a in range(nd))
                    if all(0 <= o[a] < out_sp[a] for a in range(nd)):
                        for nb in range(n_b):
                            acc.setdefault((nb, m, *o), []).append((k, x.values[(nb, c, *i)]))
    bias = quantize(np.asarray(ctx.const_input(B, "B")), scale) if B is not None else None
    out = np.empty((n_b, m_g * group, *out_sp), dtype=object)
    bound = 0
    for idx in np.ndindex(*out.shape):
        terms = acc.get(idx, [])
        b0 = int(bias[idx[1]]) if bias is not None else 0
        out[idx] = linear(terms, b0)
        bound = max(bound, sum(abs(k) for k, _ in terms) * x.bound + abs(b0))
    return QTensor(out, scale, ctx.check_bound(bound))


def _transpose_geometry(
    ctx: LoweringContext,
    sp: Sequence[int],
    kernel: Sequence[int],
    st: Sequence[int],
    dl: Sequence[int],
    op: Sequence[int],
    pads: Sequence[int] | None,
    output_shape: Sequence[int] | None,
    auto_pad: str,
) -> tuple[list[int], list[int]]:
    """(pad begins, output spatial shape) by the ONNX ConvTranspose rules."""
    nd = len(sp)
    full = [st[a] * (sp[a] - 1) + op[a] + (kernel[a] - 1) * dl[a] + 1 for a in range(nd)]
    if output_shape is not None:
        target = list(output_shape)[-nd:]
        total = [full[a] - target[a] for a in range(nd)]
        upper = auto_pad == "SAME_UPPER"
        return [t // 2 if upper else t - t // 2 for t in total], target
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        target = [sp[a] * st[a] for a in range(nd)]
        total = [full[a] - target[a] for a in range(nd)]
        upper = auto_pad == "SAME_UPPER"
        return [t // 2 if upper else t - t // 2 for t in total], target
    p = list(pads) if pads and auto_pad == "NOTSET" else [0] * (2 * nd)
    if len(p) != 2 * nd:
        raise ctx.error(f"pads {p} do not fit {nd} spatial axes")
    return p[:nd], [full[a] - p[a] - p[a + nd] for a in range(nd)]


def _transpose_private(
    ctx: LoweringContext, x: QTensor, w: np.ndarray, B: Operand, kernel: Sequence[int],
    st: Sequence[int], dl: Sequence[int], begins: Sequence[int], out_sp: Sequence[int],
    group: int,
) -> QTensor:  # fmt: skip
    """ConvTranspose with committed weights and bias: one product per tap and input."""
    ws, b = ctx.config.weight_scale, ctx.builder
    scale = x.scale + ws
    pw = ctx.weight(w, ws, "W")
    assert pw is not None
    pb = None if B is None else ctx.weight(np.asarray(ctx.const_input(B, "B")), scale, "B")
    sp, nd = x.shape[2:], len(x.shape) - 2
    c_in, m_g = w.shape[0], w.shape[1]
    c_g, n_b = c_in // group, x.shape[0]
    acc: dict[tuple[int, ...], list[Value]] = {}
    for c in range(c_in):
        for ki in np.ndindex(*kernel):
            for ml in range(m_g):
                m = (c // c_g) * m_g + ml
                k = pw.values[(c, ml, *ki)]
                for i in np.ndindex(*sp):
                    o = tuple(i[a] * st[a] + ki[a] * dl[a] - begins[a] for a in range(nd))
                    if all(0 <= o[a] < out_sp[a] for a in range(nd)):
                        for nb in range(n_b):
                            v = x.values[(nb, c, *i)]
                            acc.setdefault((nb, m, *o), []).append(
                                k * v if isinstance(v, int) else b.mul(k, v)
                            )
    out = np.empty((n_b, m_g * group, *out_sp), dtype=object)
    most = max((len(t) for t in acc.values()), default=0)
    biases: list[Value] = list(pb.values.reshape(-1)) if pb is not None else []
    for idx in np.ndindex(*out.shape):
        terms: list[Value] = list(acc.get(idx, []))
        out[idx] = linear((1, p) for p in terms + biases[idx[1] : idx[1] + 1])
    bound = most * pw.bound * x.bound + (pb.bound if pb is not None else 0)
    return QTensor(out, scale, ctx.check_bound(bound))
