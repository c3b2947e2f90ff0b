"""Comparisons and piecewise-linear ops: ArgMax, ArgMin, Max, Min, Clip, LeakyRelu, PRelu,
Abs, MaxPool, ReduceMax, ReduceMin.

All of them work at the input's own scale: max, min, clip and abs commute with the
consumer's later rounding, so comparing before rescaling keeps every tie and ordering
onnxruntime sees and saves a rescale per input element. Every comparison is a bit
decomposition (see `circuits.gadgets.compare` / `select` / `reduce`); an index output is
proved (`reduce.argmax`), never just computed.

LeakyRelu / PRelu with a positive slope a multiply by the quantized slope a_q and floor
with an offset 0 <= o < a_q: the sign bit of that single decomposition is exactly [x >= 0],
so one decomposition gives both the sign and the negative branch (k + q_bits + 2
constraints per element).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from circuits.gadgets.bits import from_bits, to_bits, to_signed_bits
from circuits.gadgets.fixed_point import rescale
from circuits.gadgets.piecewise import signed_width
from circuits.gadgets.reduce import argmax, max_many
from circuits.gadgets.select import abs_, clamp, max_, min_, select
from circuits.onnx.context import LoweringContext
from circuits.onnx.ops.arith import computed
from circuits.onnx.ops.geometry import pool_windows, reduction_axes, reduction_rows
from circuits.onnx.ops.nonlinear import magnitude_bits
from circuits.onnx.ops.pool_indices import max_pool_with_indices
from circuits.onnx.quant import bits_for_bound, quantize
from circuits.onnx.registry import onnx_op
from circuits.onnx.tensor import Operand, QTensor, Result, Value, as_lc, map_values, object_array

# `Clip` takes ONNX's `min` / `max` as parameter names, which shadow the builtins there.
_pymax, _pymin = max, min


def _axis(ctx: LoweringContext, axis: int, rank: int) -> int:
    if not -rank <= axis < max(rank, 1):
        raise ctx.error(f"axis {axis} is out of range for rank {rank}")
    return axis % max(rank, 1)


# arg max / arg min ------------------------------------------------------------------------
def _arg(
    ctx: LoweringContext, data: Operand, axis: int, keepdims: int, last: int, sign: int
) -> QTensor:
    x = computed(ctx, data, "data")
    ax = _axis(ctx, axis, x.ndim)
    moved = np.moveaxis(x.values, ax, -1)
    rows = moved.reshape(-1, moved.shape[-1])
    n, b = bits_for_bound(x.bound), ctx.builder
    out: list[Value] = []
    for row in rows:
        vals = [as_lc(v) * sign for v in row]
        idx = argmax(b, vals, n, last=bool(last))
        out.append(idx.constant_value() if idx.is_constant() else idx)
    shape = list(moved.shape[:-1])
    if keepdims:
        shape.insert(ax, 1)
    return QTensor(object_array(out, shape), 0, max(x.shape[ax] - 1, 0))


@onnx_op("ArgMax")
def ArgMax(
    ctx: LoweringContext,
    data: Operand,
    *,
    axis: int = 0,
    keepdims: int = 1,
    select_last_index: int = 0,
) -> Result:
    return _arg(ctx, data, axis, keepdims, select_last_index, 1)


@onnx_op("ArgMin")
def ArgMin(
    ctx: LoweringContext,
    data: Operand,
    *,
    axis: int = 0,
    keepdims: int = 1,
    select_last_index: int = 0,
) -> Result:
    return _arg(ctx, data, axis, keepdims, select_last_index, -1)


# max / min / clip / abs ------------------------------------------------------------------
def _common(ctx: LoweringContext, items: Sequence[Operand]) -> tuple[list[QTensor], int]:
    """The operands at one scale (the finest computed one; constants quantized there)."""
    present = [v for v in items if v is not None]
    scale = max(v.scale for v in present if isinstance(v, QTensor))
    out = [
        ctx.upscale(v, scale)
        if isinstance(v, QTensor)
        else ctx.const(np.asarray(v, dtype=np.float64), scale)
        for v in present
    ]
    return out, scale


def _fold(
    ctx: LoweringContext,
    items: Sequence[Operand],
    pick: Callable[..., Value],
    py: Callable[[int, int], int],
) -> QTensor:
    ts, scale = _common(ctx, items)
    n, b = bits_for_bound(max(t.bound for t in ts)), ctx.builder
    arrays = np.broadcast_arrays(*(t.values for t in ts))
    acc = list(arrays[0].reshape(-1))
    for arr in arrays[1:]:
        acc = [
            py(u, v)
            if isinstance(u, int) and isinstance(v, int)
            else pick(b, as_lc(u), as_lc(v), n)
            for u, v in zip(acc, arr.reshape(-1), strict=True)
        ]
    return QTensor(object_array(acc, arrays[0].shape), scale, max(t.bound for t in ts))


@onnx_op("Max")
def Max(ctx: LoweringContext, *data_0: Operand) -> Result:
    if not data_0:
        raise ctx.error("Max needs at least one input")
    return _fold(ctx, data_0, max_, max)


@onnx_op("Min")
def Min(ctx: LoweringContext, *data_0: Operand) -> Result:
    if not data_0:
        raise ctx.error("Min needs at least one input")
    return _fold(ctx, data_0, min_, min)


def _limit(ctx: LoweringContext, v: Operand | float, scale: int, what: str) -> int | QTensor | None:
    if v is None or isinstance(v, QTensor):
        return v
    arr = np.asarray(v, dtype=np.float64)
    if arr.size != 1:
        raise ctx.error(f"Clip's {what} must be a scalar, got shape {list(arr.shape)}")
    return int(quantize(arr.reshape(()), scale).item())


def _operand(v: Operand | float) -> Operand:
    return v if v is None or isinstance(v, QTensor) else np.asarray(v, dtype=np.float64)


@onnx_op("Clip")
def Clip(
    ctx: LoweringContext, input: Operand, min: Operand | float = None, max: Operand | float = None
) -> Result:
    """min(max(x, lo), hi); constant limits are quantized at x's scale (half a step of
    error at the limits) and dropped when x's static bound never reaches them."""
    x = computed(ctx, input, "input")
    lo, hi = _limit(ctx, min, x.scale, "min"), _limit(ctx, max, x.scale, "max")
    if isinstance(lo, QTensor) or isinstance(hi, QTensor):
        out = _fold(ctx, [x, _operand(min)], max_, _pymax) if min is not None else x
        return _fold(ctx, [out, _operand(max)], min_, _pymin) if max is not None else out
    if lo is not None and hi is not None and lo > hi:
        return QTensor(np.full(x.shape, hi, dtype=object), x.scale, abs(hi))
    lo = None if lo is None or lo <= -x.bound else lo
    hi = None if hi is None or hi >= x.bound else hi
    n = bits_for_bound(_pymax(x.bound, abs(lo or 0), abs(hi or 0)))
    b = ctx.builder

    def one(v: Value) -> Value:
        if isinstance(v, int):
            return _pymin(_pymax(v, -x.bound if lo is None else lo), x.bound if hi is None else hi)
        if lo is not None and hi is not None:
            return clamp(b, v, lo, hi, n)
        if lo is not None:
            return max_(b, v, lo, n)
        return min_(b, v, hi, n) if hi is not None else v

    top = x.bound if hi is None else hi
    bottom = -x.bound if lo is None else lo
    return QTensor(map_values(x.values, one), x.scale, _pymax(abs(top), abs(bottom)))


@onnx_op("Abs")
def Abs(ctx: LoweringContext, X: Operand) -> Result:
    x = computed(ctx, X, "X")
    n, b = bits_for_bound(x.bound), ctx.builder
    return x.with_values(
        map_values(x.values, lambda v: abs(v) if isinstance(v, int) else abs_(b, v, n))
    )


# leaky relu / prelu ------------------------------------------------------------------------
def _leaky(ctx: LoweringContext, x: QTensor, slopes: np.ndarray) -> QTensor:
    """x if x >= 0 else slope x, elementwise, at x's scale (see the module docstring)."""
    alphas = np.broadcast_to(np.asarray(slopes, dtype=np.float64), x.shape).reshape(-1)
    real_bound = math.ldexp(x.bound, -x.scale)
    k = _pymax(ctx.config.act_scale, x.scale) + 1 + magnitude_bits(x)
    qs = [round(math.ldexp(float(a), k)) for a in alphas.tolist()]
    top = _pymax(abs(q) for q in qs) * x.bound
    q_bits = signed_width((-top) >> k, (top + (1 << k)) >> k)
    n, b = bits_for_bound(x.bound), ctx.builder
    out: list[Value] = []
    with ctx.gadget("leaky"):
        for v, aq in zip(x.values.reshape(-1), qs, strict=True):
            off = _pymin(1 << (k - 1), aq - 1) if aq > 0 else 1 << (k - 1)
            if isinstance(v, int):
                out.append(v if v >= 0 else (aq * v + off) >> k)
            elif aq > 0:
                bits = to_bits(b, v * aq + off + (1 << (k + q_bits - 1)), k + q_bits)
                neg = from_bits(bits[k:]) - (1 << (q_bits - 1))
                out.append(select(b, bits[-1], v, neg))
            else:
                sign = to_signed_bits(b, v, n)[-1]
                out.append(select(b, sign, v, rescale(b, v * aq + off, k, q_bits)))
    step = math.ldexp(1.0, -x.scale)
    err = (
        step
        + _pymax(abs(a - math.ldexp(q, -k)) for a, q in zip(alphas.tolist(), qs, strict=True))
        * real_bound
    )
    ctx.record_approximation({"function": "leaky_relu", "max_abs_error": err, "method": "bound"})
    bound = _pymax(x.bound, (top >> k) + 1)
    return QTensor(object_array(out, x.shape), x.scale, ctx.check_bound(bound, "the output"))


@onnx_op("LeakyRelu")
def LeakyRelu(ctx: LoweringContext, X: Operand, *, alpha: float = 0.01) -> Result:
    return _leaky(ctx, computed(ctx, X, "X"), np.asarray(alpha))


@onnx_op("PRelu")
def PRelu(ctx: LoweringContext, X: Operand, slope: Operand) -> Result:
    x = computed(ctx, X, "X")
    if isinstance(slope, QTensor) or slope is None:
        raise ctx.unsupported("a slope computed from the model inputs; only a constant slope")
    s = np.asarray(slope, dtype=np.float64)
    try:
        np.broadcast_to(s, x.shape)
    except ValueError:
        raise ctx.error(
            f"slope of shape {list(s.shape)} does not broadcast to {list(x.shape)}"
        ) from None
    return _prelu_private(ctx, x, s) if ctx.private_mode else _leaky(ctx, x, s)


def _prelu_private(ctx: LoweringContext, x: QTensor, slope: np.ndarray) -> QTensor:
    """PRelu with a committed slope (private weights): x 2^w if x >= 0 else slope x, at
    x.scale + weight_scale (exact; the consumer rescales). Per element: the sign of x
    (n + 1), the product with the slope wire and the selection (one each)."""
    ws = ctx.config.weight_scale
    pw = ctx.weight(slope, ws, "slope")
    assert pw is not None
    xv, sv = np.broadcast_arrays(x.values, pw.values)
    n, b = bits_for_bound(x.bound), ctx.builder
    out: list[Value] = []
    with ctx.gadget("prelu"):
        for v, a in zip(xv.reshape(-1), sv.reshape(-1), strict=True):
            neg = v * a if isinstance(v, int) else b.mul(v, a)
            pos = as_lc(v) * (1 << ws) if not isinstance(v, int) else v << ws
            if isinstance(v, int):
                out.append(pos if v >= 0 else neg)
            else:
                out.append(select(b, to_signed_bits(b, v, n)[-1], pos, neg))
    bound = _pymax(x.bound << ws, x.bound * pw.bound)
    return QTensor(object_array(out, xv.shape), x.scale + ws, ctx.check_bound(bound))


# pooling and reductions ------------------------------------------------------------------
@onnx_op("MaxPool")
def MaxPool(
    ctx: LoweringContext,
    X: Operand,
    *,
    kernel_shape: Sequence[int],
    auto_pad: str = "NOTSET",
    ceil_mode: int = 0,
    dilations: Sequence[int] | None = None,
    pads: Sequence[int] | None = None,
    storage_order: int = 0,
    strides: Sequence[int] | None = None,
) -> Result:
    """The maximum of each window; padding never wins (it is left out of the window).
    The Indices output, when the model reads it, is proved by `pool_indices`."""
    x = computed(ctx, X, "X")
    if len(ctx.outputs) > 1 and ctx.outputs[1]:
        return max_pool_with_indices(
            ctx,
            x,
            kernel_shape,
            storage_order,
            auto_pad=auto_pad,
            ceil_mode=ceil_mode,
            dilations=dilations,
            pads=pads,
            strides=strides,
        )
    shape, windows = pool_windows(
        ctx,
        x,
        kernel_shape,
        auto_pad=auto_pad,
        ceil_mode=ceil_mode,
        dilations=dilations,
        pads=pads,
        strides=strides,
    )
    n, b = bits_for_bound(x.bound), ctx.builder
    out = np.empty(shape, dtype=object)
    for pos, win in windows:
        for i, c in np.ndindex(*shape[:2]):
            out[(i, c, *pos)] = max_many(b, list(win[i, c]), n)
    return QTensor(out, x.scale, x.bound)


def _reduce(
    ctx: LoweringContext,
    data: Operand,
    axes: Operand | Sequence[int],
    keepdims: int,
    noop: int,
    sign: int,
) -> Result:
    x = computed(ctx, data, "data")
    ax = reduction_axes(ctx, x, axes, noop)
    if ax is None:
        return x
    rows, shape = reduction_rows(x, ax, keepdims)
    n, b = bits_for_bound(x.bound), ctx.builder
    out: list[Value] = []
    for row in rows:
        m = max_many(b, [as_lc(v) * sign if not isinstance(v, int) else v * sign for v in row], n)
        out.append(m * sign)
    return QTensor(object_array(out, shape), x.scale, x.bound)


@onnx_op("ReduceMax")
def ReduceMax(
    ctx: LoweringContext,
    data: Operand,
    axes: Operand | Sequence[int] = None,
    *,
    keepdims: int = 1,
    noop_with_empty_axes: int = 0,
) -> Result:
    return _reduce(ctx, data, axes, keepdims, noop_with_empty_axes, 1)


@onnx_op("ReduceMin")
def ReduceMin(
    ctx: LoweringContext,
    data: Operand,
    axes: Operand | Sequence[int] = None,
    *,
    keepdims: int = 1,
    noop_with_empty_axes: int = 0,
) -> Result:
    return _reduce(ctx, data, axes, keepdims, noop_with_empty_axes, -1)
