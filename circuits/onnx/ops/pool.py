"""Sums and averages: AveragePool, GlobalAveragePool, ReduceSum, ReduceMean.

A sum is a free linear combination. An average divides by a constant count: by 2^e it is
exact and free (the scale grows by e); by any other count it is a multiplication by the
quantized reciprocal round(2^weight_scale / count) (free too; the consumer rescales).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from circuits.onnx.context import LoweringContext
from circuits.onnx.ops.arith import computed
from circuits.onnx.ops.geometry import pool_windows, reduction_axes, reduction_rows
from circuits.onnx.registry import onnx_op
from circuits.onnx.tensor import Operand, QTensor, Result, Value, ValueArray, linear, object_array


def divide_by_counts(
    ctx: LoweringContext, sums: ValueArray, counts: np.ndarray, x: QTensor
) -> QTensor:
    """sums / counts elementwise, where each sum adds at most `count` elements of x."""
    cs = [int(c) for c in counts.reshape(-1)]
    if min(cs) < 1:
        raise ctx.error("an averaging window contains no element of the input")
    flat = list(sums.reshape(-1))
    if all(c & (c - 1) == 0 for c in cs):
        e = max(cs).bit_length() - 1
        items = [v * (1 << (e - (c.bit_length() - 1))) for v, c in zip(flat, cs, strict=True)]
        return QTensor(object_array(items, sums.shape), x.scale + e, ctx.check_bound(x.bound << e))
    ws = ctx.config.weight_scale
    mults = [_round_div(1 << ws, c) for c in cs]
    items = [v * m for v, m in zip(flat, mults, strict=True)]
    bound = max(c * m for c, m in zip(cs, mults, strict=True)) * x.bound
    return QTensor(object_array(items, sums.shape), x.scale + ws, ctx.check_bound(bound))


def _round_div(a: int, b: int) -> int:
    return (2 * a + b) // (2 * b)


def reduce_sum(
    ctx: LoweringContext, x: QTensor, axes: Sequence[int], keepdims: int
) -> tuple[ValueArray, int]:
    """Sum over `axes` (already normalized, sorted) and the number of summed elements."""
    rows, shape = reduction_rows(x, axes, keepdims)
    items: list[Value] = [linear((1, v) for v in row) for row in rows]
    return object_array(items, shape), rows.shape[1]


@onnx_op("ReduceSum")
def ReduceSum(
    ctx: LoweringContext,
    data: Operand,
    axes: Operand = None,
    *,
    keepdims: int = 1,
    noop_with_empty_axes: int = 0,
) -> Result:
    x = computed(ctx, data, "data")
    ax = reduction_axes(ctx, x, axes, noop_with_empty_axes)
    if ax is None:
        return x
    values, n = reduce_sum(ctx, x, ax, keepdims)
    return QTensor(values, x.scale, ctx.check_bound(x.bound * n))


@onnx_op("ReduceMean")
def ReduceMean(
    ctx: LoweringContext,
    data: Operand,
    axes: Operand = None,
    *,
    keepdims: int = 1,
    noop_with_empty_axes: int = 0,
) -> Result:
    x = computed(ctx, data, "data")
    ax = reduction_axes(ctx, x, axes, noop_with_empty_axes)
    if ax is None:
        return x
    values, n = reduce_sum(ctx, x, ax, keepdims)
    return divide_by_counts(ctx, values, np.full(values.shape, n), x)


@onnx_op("GlobalAveragePool")
def GlobalAveragePool(ctx: LoweringContext, X: Operand) -> Result:
    x = computed(ctx, X, "X")
    if x.ndim < 3:
        raise ctx.error(f"GlobalAveragePool needs (N, C, spatial...), got shape {x.shape}")
    values, n = reduce_sum(ctx, x, list(range(2, x.ndim)), 1)
    return divide_by_counts(ctx, values, np.full(values.shape, n), x)


@onnx_op("AveragePool")
def AveragePool(
    ctx: LoweringContext,
    X: Operand,
    *,
    kernel_shape: Sequence[int],
    auto_pad: str = "NOTSET",
    ceil_mode: int = 0,
    count_include_pad: int = 0,
    dilations: Sequence[int] | None = None,
    pads: Sequence[int] | None = None,
    strides: Sequence[int] | None = None,
) -> Result:
    x = computed(ctx, X, "X")
    shape, windows = pool_windows(
        ctx,
        x,
        kernel_shape,
        auto_pad=auto_pad,
        ceil_mode=ceil_mode,
        dilations=dilations,
        pads=pads,
        strides=strides,
        count_pads=bool(count_include_pad),
    )
    sums = np.empty(shape, dtype=object)
    counts = np.empty(shape, dtype=np.int64)
    for pos, win in windows:
        for nb, ch in np.ndindex(*shape[:2]):
            sums[(nb, ch, *pos)] = linear((1, v) for v in win[nb, ch])
            counts[(nb, ch, *pos)] = win.shape[-1]
    return divide_by_counts(ctx, sums, counts, x)
