"""Linear layers: Gemm, MatMul, Conv, BatchNormalization.

With constant weights every output is a linear combination of the inputs: the layer
costs no constraint. Weights are quantized at ``weight_scale`` and biases at the
accumulator scale (input scale + weight scale), so the output is exact at that scale; the
consumer (a ReLU, the next layer, the graph output) rescales it. The static bound of an
output is sum_k |w_k| * bound(x) + |b|, the largest over output channels.

A product of two computed tensors (a MatMul whose both operands depend on the inputs)
costs one constraint per multiplication.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from circuits.onnx.context import LoweringContext
from circuits.onnx.ops.arith import (
    add_const,
    add_tensors,
    add_weight,
    computed,
    mul_const,
    mul_weight,
)
from circuits.onnx.ops.geometry import Window, pad_spatial, window
from circuits.onnx.quant import quantize
from circuits.onnx.registry import onnx_op
from circuits.onnx.tensor import (
    Const,
    Operand,
    QTensor,
    Result,
    Value,
    ValueArray,
    linear,
    object_array,
)


def _matmul_values(
    ctx: LoweringContext, x: QTensor, xv: ValueArray, w: QTensor, wv: ValueArray
) -> tuple[ValueArray, int]:
    """(n, k) @ (k, m) over object arrays and the bound of the result. With w constant the
    outputs are free linear combinations; otherwise each product costs one constraint."""
    n, k = xv.shape
    m = wv.shape[1]
    out: list[Value] = []
    if w.is_constant():
        cols = [[(int(wv[i, j]), i) for i in range(k) if wv[i, j]] for j in range(m)]
        for r in range(n):
            row = xv[r]
            out.extend(linear((c, row[i]) for c, i in col) for col in cols)
        bound = max((sum(abs(c) for c, _ in col) for col in cols), default=0) * x.bound
        return object_array(out, (n, m)), bound
    b = ctx.builder
    for r in range(n):
        for j in range(m):
            pairs = zip(xv[r], wv[:, j], strict=True)
            prods = [
                p * q if isinstance(p, int) or isinstance(q, int) else b.mul(p, q) for p, q in pairs
            ]
            out.append(linear((1, p) for p in prods))
    return object_array(out, (n, m)), k * x.bound * w.bound


def _weight(ctx: LoweringContext, c: Const, scale: int, slot: str) -> QTensor:
    """A constant operand: witness wires in private-weights mode, else plain ints."""
    private = ctx.weight(c, scale, slot)
    return private if private is not None else ctx.as_qtensor(c, scale)


def matmul_weight(ctx: LoweringContext, x: QTensor, w: QTensor) -> QTensor:
    """x (2-D, brought to activation scale) @ w, a weight tensor made once and used many
    times (a recurrent layer's W or R at every time step; committed wires or ints)."""
    xa = ctx.activation(x)
    vals, bound = _matmul_values(ctx, xa, xa.values, w, w.values)
    return QTensor(vals, xa.scale + w.scale, ctx.check_bound(bound))


def matmul(
    ctx: LoweringContext, a: QTensor | Const, b: QTensor | Const, slot: str | None = None
) -> QTensor:
    """numpy-style matmul (1-D operands, broadcast batch dimensions) of a and b, one of
    which at least is computed. A constant operand is quantized at ``weight_scale``; a
    computed one is brought to activation scale first (a rescale only if it is finer, e.g.
    the output of a previous linear layer), so the product is at most act + weight scale.
    `slot` names a committed constant operand (default "A" or "B")."""
    ws = ctx.config.weight_scale
    qa = ctx.activation(a) if isinstance(a, QTensor) else _weight(ctx, a, ws, slot or "A")
    qb = ctx.activation(b) if isinstance(b, QTensor) else _weight(ctx, b, ws, slot or "B")
    av, bv = qa.values, qb.values
    squeeze_a, squeeze_b = av.ndim == 1, bv.ndim == 1
    av = av.reshape(1, -1) if squeeze_a else av
    bv = bv.reshape(-1, 1) if squeeze_b else bv
    if av.shape[-1] != bv.shape[-2]:
        raise ctx.error(f"MatMul of shapes {qa.shape} and {qb.shape}: inner dimensions differ")
    batch = np.broadcast_shapes(av.shape[:-2], bv.shape[:-2])
    av = np.broadcast_to(av, batch + av.shape[-2:])
    bv = np.broadcast_to(bv, batch + bv.shape[-2:])
    a_const = not isinstance(a, QTensor)
    out = np.empty((*batch, av.shape[-2], bv.shape[-1]), dtype=object)
    bound = 0
    for idx in np.ndindex(*batch):
        if a_const:  # constant on the left: (B^T A^T)^T, so the constant is the right operand
            vals, bd = _matmul_values(ctx, qb, bv[idx].T, qa, av[idx].T)
            vals = vals.T
        else:
            vals, bd = _matmul_values(ctx, qa, av[idx], qb, bv[idx])
        out[idx] = vals
        bound = max(bound, bd)
    if squeeze_a:
        out = out.reshape(out.shape[:-2] + out.shape[-1:])
    if squeeze_b:
        out = out.reshape(out.shape[:-1])
    return QTensor(out, qa.scale + qb.scale, ctx.check_bound(bound))


@onnx_op("MatMul")
def MatMul(ctx: LoweringContext, A: Operand, B: Operand) -> Result:
    if A is None or B is None:
        raise ctx.error("MatMul needs two inputs")
    return matmul(ctx, A, B)


@onnx_op("Gemm")
def Gemm(
    ctx: LoweringContext,
    A: Operand,
    B: Operand,
    C: Operand = None,
    *,
    alpha: float = 1.0,
    beta: float = 1.0,
    transA: int = 0,
    transB: int = 0,
) -> Result:
    """alpha * A' B' + beta * C, alpha and beta folded into the constant operand."""
    if A is None or B is None:
        raise ctx.error("Gemm needs inputs A and B")
    a = A.transpose() if isinstance(A, QTensor) and transA else (np.asarray(A).T if transA else A)
    b = B.transpose() if isinstance(B, QTensor) and transB else (np.asarray(B).T if transB else B)
    if alpha != 1.0:
        if not isinstance(b, QTensor):
            b = np.asarray(b, dtype=np.float64) * alpha
        elif not isinstance(a, QTensor):
            a = np.asarray(a, dtype=np.float64) * alpha
        else:
            b = mul_const(ctx, b, np.asarray(alpha))
    y = matmul(ctx, a, b)
    if C is None or beta == 0.0:
        return y
    if isinstance(C, QTensor):
        c = C if beta == 1.0 else mul_const(ctx, C, np.asarray(beta))
        return add_tensors(ctx, y, c)
    c_arr = np.asarray(C, dtype=np.float64) * beta
    private = ctx.weight(c_arr, y.scale, "C")
    return add_const(ctx, y, c_arr) if private is None else add_tensors(ctx, y, private)


@onnx_op("Conv")
def Conv(
    ctx: LoweringContext,
    X: Operand,
    W: Operand,
    B: Operand = None,
    *,
    auto_pad: str = "NOTSET",
    dilations: Sequence[int] | None = None,
    group: int = 1,
    kernel_shape: Sequence[int] | None = None,
    pads: Sequence[int] | None = None,
    strides: Sequence[int] | None = None,
) -> Result:
    """N-D convolution with constant weights: each output is a free linear combination."""
    x = ctx.activation(computed(ctx, X, "X"))
    w = ctx.const_input(W, "W")
    if x.ndim < 3 or w.ndim != x.ndim:
        raise ctx.error(f"Conv of input shape {x.shape} with weights {w.shape}")
    c_in = x.shape[1]
    m_out, c_g = w.shape[:2]
    if group < 1 or c_in != c_g * group or m_out % group:
        raise ctx.error(f"{c_in} input channels, weights {w.shape} and group = {group} do not fit")
    kernel = tuple(kernel_shape) if kernel_shape else tuple(w.shape[2:])
    geo = window(
        ctx, x.shape[2:], kernel, auto_pad=auto_pad, strides=strides, dilations=dilations, pads=pads
    )
    ws = ctx.config.weight_scale
    scale = x.scale + ws
    b_arr = ctx.const_input(B, "B") if B is not None else None
    pw, pb = ctx.weight(w, ws, "W"), None if b_arr is None else ctx.weight(b_arr, scale, "B")
    if pw is not None:  # private weights: every tap is a product of two wires
        bias = pb.values if pb is not None else None
        out, bound = _convolve(
            ctx, x, pw.values, bias, geo, group, (pw.bound, pb.bound if pb else 0)
        )
    else:
        bias = quantize(b_arr, scale) if b_arr is not None else None
        out, bound = _convolve(ctx, x, quantize(w, ws), bias, geo, group)
    return QTensor(out, scale, ctx.check_bound(bound))


def _convolve(
    ctx: LoweringContext,
    x: QTensor,
    wq: ValueArray,
    bias: ValueArray | None,
    geo: Window,
    group: int,
    private_bounds: tuple[int, int] | None = None,
) -> tuple[ValueArray, int]:
    """The convolution's outputs as linear combinations, and their static bound. With
    `private_bounds` (weight bound, bias bound) the weights and bias are wires: each tap
    costs one multiplication and the bound uses the wires' range, not their values."""
    if private_bounds is not None:
        return _convolve_private(ctx, x, wq, bias, geo, group, private_bounds)
    padded = pad_spatial(x.values, geo)
    n_b = x.shape[0]
    m_out, c_g = wq.shape[:2]
    m_g = m_out // group
    out = np.empty((n_b, m_out, *geo.out_shape), dtype=object)
    bound = 0
    for m in range(m_out):
        c0 = (m // m_g) * c_g  # first input channel of m's group
        taps = [
            (int(wq[(m, c, *ki)]), c0 + c, off)
            for c in range(c_g)
            for ki, off in zip(np.ndindex(*geo.kernel), geo.offsets(), strict=True)
            if wq[(m, c, *ki)]
        ]
        b_m = int(bias[m]) if bias is not None else 0
        bound = max(bound, sum(abs(t[0]) for t in taps) * x.bound + abs(b_m))
        for pos in geo.positions():
            org = geo.origin(pos)
            for nb in range(n_b):
                plane = padded[nb]
                terms = (
                    (k, plane[(c, *(o + d for o, d in zip(org, off, strict=True)))])
                    for k, c, off in taps
                )
                out[(nb, m, *pos)] = linear(terms, b_m)
    return out, bound


@onnx_op("BatchNormalization")
def BatchNormalization(
    ctx: LoweringContext,
    X: Operand,
    scale: Operand,
    B: Operand,
    input_mean: Operand,
    input_var: Operand,
    *,
    epsilon: float = 1e-5,
    momentum: float = 0.9,
    training_mode: int = 0,
    spatial: int = 1,
) -> Result:
    """Inference batch norm as x * a + b per channel (free). When it follows a Conv or
    Gemm with constant weights, the loader folds it into that layer instead. With private
    weights the folded a and b are committed (as ``scale`` and ``B``): one product per
    element."""
    x = computed(ctx, X, "X")
    if training_mode:
        raise ctx.unsupported("training_mode = 1; only inference is supported")
    gamma, beta = ctx.const_input(scale, "scale"), ctx.const_input(B, "B")
    mean, var = ctx.const_input(input_mean, "input_mean"), ctx.const_input(input_var, "input_var")
    a = np.asarray(gamma, np.float64) / np.sqrt(np.asarray(var, np.float64) + epsilon)
    b = np.asarray(beta, np.float64) - np.asarray(mean, np.float64) * a
    shape = (1, -1) + (1,) * (x.ndim - 2) if x.ndim >= 2 else (-1,)
    y = mul_weight(ctx, x, a.reshape(shape), "scale")
    return add_weight(ctx, y, b.reshape(shape), "B")


def _convolve_private(
    ctx: LoweringContext,
    x: QTensor,
    wv: ValueArray,
    bias: ValueArray | None,
    geo: Window,
    group: int,
    bounds: tuple[int, int],
) -> tuple[ValueArray, int]:
    """`_convolve` with weight and bias wires: one constraint per tap and output."""
    padded = pad_spatial(x.values, geo)
    b = ctx.builder
    m_out, c_g = wv.shape[:2]
    m_g = m_out // group
    out = np.empty((x.shape[0], m_out, *geo.out_shape), dtype=object)
    n_taps = c_g * int(np.prod(geo.kernel, dtype=np.int64))
    for m in range(m_out):
        c0 = (m // m_g) * c_g
        taps = [
            (wv[(m, c, *ki)], c0 + c, off)
            for c in range(c_g)
            for ki, off in zip(np.ndindex(*geo.kernel), geo.offsets(), strict=True)
        ]
        b_m: Value = bias[m] if bias is not None else 0
        for pos in geo.positions():
            org = geo.origin(pos)
            for nb in range(x.shape[0]):
                plane = padded[nb]
                prods = []
                for k, c, off in taps:
                    v = plane[(c, *(o + d for o, d in zip(org, off, strict=True)))]
                    prods.append(k * v if isinstance(v, int) else b.mul(k, v))
                out[(nb, m, *pos)] = linear([(1, p) for p in prods] + [(1, b_m)])
    return out, n_taps * bounds[0] * x.bound + bounds[1]
