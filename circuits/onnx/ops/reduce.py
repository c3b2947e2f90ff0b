"""Reductions beyond sums and extremes: Mean, ReduceL1, ReduceL2, ReduceSumSquare,
ReduceProd, ReduceLogSumExp, and TopK with a constant k.

Costs per element of the input (n its width at activation scale):

* Mean: free (a sum times the quantized 1 / count);
* ReduceL1: |x| (n + 2) then a free sum; ReduceSumSquare: one product per element;
  ReduceL2: ReduceSumSquare, then one `isqrt` per output;
* ReduceProd: one product and one rescale per element after the first;
* ReduceLogSumExp: the hinted, proved row maximum m and a certified e^(x - m) per element
  (as Softmax), then ln of the row sum (`log_scaled`) per output;
* TopK: per row of length N and k outputs: k N booleans and products (a one-hot choice per
  output), strictly decreasing keys (k - 1 range checks) and every unchosen key below the
  last chosen (N range checks). Keys x N + (N - 1 - i) make ties pick the lower index, as
  onnxruntime does, and make the chosen indices distinct.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from circuits.field import R, from_field
from circuits.gadgets.bits import assert_unsigned
from circuits.gadgets.piecewise import log_scaled
from circuits.gadgets.select import abs_
from circuits.hints import register_hint
from circuits.lc import LinearCombination
from circuits.onnx.context import LoweringContext
from circuits.onnx.ops.arith import Mul, computed, mul_const
from circuits.onnx.ops.geometry import reduction_axes, reduction_rows
from circuits.onnx.ops.nonlinear import _exp_rows, _exp_scale
from circuits.onnx.ops.pool import reduce_sum
from circuits.onnx.ops.powers import sqrt_tensor, to_activation
from circuits.onnx.quant import bits_for_bound
from circuits.onnx.registry import onnx_op
from circuits.onnx.tensor import Operand, QTensor, Result, Value, as_lc, object_array


def _reduce(
    ctx: LoweringContext, x: QTensor, axes: Operand | Sequence[int], keepdims: int, noop: int
) -> tuple[QTensor, int] | None:
    ax = reduction_axes(ctx, x, axes, noop)
    if ax is None:
        return None
    values, n = reduce_sum(ctx, x, ax, keepdims)
    return QTensor(values, x.scale, ctx.check_bound(x.bound * n)), n


@onnx_op("Mean")
def Mean(ctx: LoweringContext, *data_0: Operand) -> Result:
    from circuits.onnx.ops.arith import Sum

    total = Sum(ctx, *data_0)
    assert isinstance(total, QTensor)
    return mul_const(ctx, total, np.asarray(1.0 / len(data_0)))


def _product(ctx: LoweringContext, a: QTensor, b: QTensor) -> QTensor:
    """a * b elementwise (one multiplication and rescale per element)."""
    out = Mul(ctx, a, b)
    assert isinstance(out, QTensor)
    return out


def _square(ctx: LoweringContext, x: QTensor) -> QTensor:
    return _product(ctx, x, x)


@onnx_op("ReduceSumSquare")
def ReduceSumSquare(
    ctx: LoweringContext,
    data: Operand,
    axes: Operand = None,
    *,
    keepdims: int = 1,
    noop_with_empty_axes: int = 0,
) -> Result:
    sq = _square(ctx, computed(ctx, data, "data"))
    r = _reduce(ctx, sq, axes, keepdims, noop_with_empty_axes)
    return sq if r is None else r[0]


@onnx_op("ReduceL2")
def ReduceL2(
    ctx: LoweringContext,
    data: Operand,
    axes: Operand = None,
    *,
    keepdims: int = 1,
    noop_with_empty_axes: int = 0,
) -> Result:
    x = computed(ctx, data, "data")
    r = _reduce(ctx, _square(ctx, x), axes, keepdims, noop_with_empty_axes)
    if r is None:
        return _abs(ctx, x)
    return sqrt_tensor(ctx, to_activation(ctx, r[0]))


def _abs(ctx: LoweringContext, x: QTensor) -> QTensor:
    n, b = bits_for_bound(x.bound), ctx.builder
    with ctx.gadget("abs"):
        return x.map(
            lambda v: abs(v) if isinstance(v, int) else abs_(b, v, n), scale=x.scale, bound=x.bound
        )


@onnx_op("ReduceL1")
def ReduceL1(
    ctx: LoweringContext,
    data: Operand,
    axes: Operand = None,
    *,
    keepdims: int = 1,
    noop_with_empty_axes: int = 0,
) -> Result:
    a = _abs(ctx, computed(ctx, data, "data"))
    r = _reduce(ctx, a, axes, keepdims, noop_with_empty_axes)
    return a if r is None else r[0]


def _rows(
    ctx: LoweringContext, x: QTensor, axes: Operand | Sequence[int], keepdims: int, noop: int
) -> tuple[np.ndarray, list[int]] | None:
    ax = reduction_axes(ctx, x, axes, noop)
    return None if ax is None else reduction_rows(x, ax, keepdims)


@onnx_op("ReduceProd")
def ReduceProd(
    ctx: LoweringContext,
    data: Operand,
    axes: Operand = None,
    *,
    keepdims: int = 1,
    noop_with_empty_axes: int = 0,
) -> Result:
    x = ctx.activation(computed(ctx, data, "data"))
    got = _rows(ctx, x, axes, keepdims, noop_with_empty_axes)
    if got is None:
        return x
    rows, shape = got
    if rows.shape[1] == 0:  # the product of nothing
        return np.ones(shape, dtype=np.float32)
    cols = [x.with_values(rows[:, j].copy()) for j in range(rows.shape[1])]
    acc = cols[0]
    for c in cols[1:]:
        acc = ctx.activation(_product(ctx, acc, c))
    return acc.reshape(shape)


@onnx_op("ReduceLogSumExp")
def ReduceLogSumExp(
    ctx: LoweringContext,
    data: Operand,
    axes: Operand = None,
    *,
    keepdims: int = 1,
    noop_with_empty_axes: int = 0,
) -> Result:
    """m + ln sum e^(x_i - m) per row, with m the proved row maximum."""
    x = ctx.activation(computed(ctx, data, "data"))
    got = _rows(ctx, x, axes, keepdims, noop_with_empty_axes)
    if got is None:
        return x
    rows, shape = got
    s, n = ctx.config.act_scale, rows.shape[1]
    if n == 1:
        return QTensor(rows.reshape(shape), x.scale, x.bound)
    e = _exp_rows(ctx, x, rows, _exp_scale(ctx, n))
    p = e.plan
    s_min, s_max = p.evaluate(0) + (n - 1) * p.y_min, n * p.y_max
    guard, b = ctx.config.approx_param("guard_bits", 2), ctx.builder
    out: list[Value] = []
    err, bound = 0.0, 0
    with ctx.gadget("log_sum"):
        for row, diffs, exps in zip(rows, e.diffs, e.exps, strict=True):
            lg = log_scaled(
                b, sum(exps, LinearCombination({})), p.out_scale, s_min, s_max, s, guard
            )
            m = as_lc(row[0]) + diffs[0]
            out.append(m + lg.value)
            err, bound = max(err, lg.error), max(bound, lg.bound)
    delta = p.max_error
    total = e.rho / (1 - e.rho) + n * delta / (1 - e.rho - n * delta) + err
    ctx.record_approximation(
        {**p.report(), "function": "logsumexp", "max_abs_error": total, "row_length": n}
    )
    return QTensor(object_array(out, shape), s, ctx.check_bound(x.bound + bound))


# top k ------------------------------------------------------------------------------------
@register_hint("topk_onehot")
def topk_hint(*keys: int, k: int) -> list[int]:
    """k one-hot vectors (row-major) choosing the k largest keys, largest first."""
    vals = [from_field(v) for v in keys]
    order = sorted(range(len(vals)), key=lambda i: -vals[i])[:k]
    return [int(i == j) for j in order for i in range(len(vals))]


def _topk_row(
    ctx: LoweringContext, keys: list[LinearCombination], k: int, width: int
) -> list[tuple[LinearCombination, LinearCombination]]:
    """(key, index) of the k chosen elements, largest key first, proved (see the module
    docstring): the index is the free sum j o_j of the one-hot choice."""
    b, n = ctx.builder, len(keys)
    flat = b.hint("topk_onehot", keys, k * n, k=k)
    chosen: list[LinearCombination] = []
    index: list[LinearCombination] = []
    taken = [LinearCombination({}) for _ in range(n)]
    for j in range(k):
        onehot = flat[j * n : (j + 1) * n]
        for o in onehot:
            b.assert_bool(o)
        b.assert_equal(sum(onehot, LinearCombination({})), 1)
        chosen.append(
            sum((b.mul(o, key) for o, key in zip(onehot, keys, strict=True)), LinearCombination({}))
        )
        index.append(sum((o * i for i, o in enumerate(onehot)), LinearCombination({})))
        taken = [t + o for t, o in zip(taken, onehot, strict=True)]
    for j in range(k - 1):
        assert_unsigned(b, chosen[j] - chosen[j + 1] - 1, width)
    for t, key in zip(taken, keys, strict=True):
        assert_unsigned(b, chosen[-1] - key - 1 + t * (1 << width), width + 1)
    return list(zip(chosen, index, strict=True))


@onnx_op("TopK")
def TopK(
    ctx: LoweringContext,
    X: Operand,
    K: Operand,
    *,
    axis: int = -1,
    largest: int = 1,
    sorted: int = 1,
) -> Result:
    x = computed(ctx, X, "X")
    k = int(np.asarray(ctx.const_input(K, "K")).reshape(-1)[0])
    ax = axis % max(x.ndim, 1)
    moved = np.moveaxis(x.values, ax, -1)
    rows = moved.reshape(-1, moved.shape[-1])
    n = rows.shape[1]
    if not 0 < k <= n:
        raise ctx.error(f"k = {k} for an axis of length {n}")
    sign = 1 if largest else -1
    width = bits_for_bound(2 * (x.bound * n + n)) + 1
    inv_n = pow(n, -1, R)
    vals: list[Value] = []
    idxs: list[Value] = []
    with ctx.gadget("topk"):
        for row in rows:
            keys = [as_lc(v) * (sign * n) + (n - 1 - i) for i, v in enumerate(row)]
            for key, idx in _topk_row(ctx, keys, k, width):
                # key = sign n x_i + n - 1 - i for the chosen i = idx, an identity in the
                # field: x_i follows from key and idx for free
                vals.append((key - (n - 1) + idx) * (sign * inv_n % R))
                idxs.append(idx)
    shape = (*moved.shape[:-1], k)
    values = np.moveaxis(object_array(vals, shape), -1, ax)
    indices = np.moveaxis(object_array(idxs, shape), -1, ax)
    return QTensor(values, x.scale, x.bound), QTensor(indices, 0, n - 1)
