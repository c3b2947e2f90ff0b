"""Operators that move, repeat or accumulate elements: Expand, Tile, Split, DepthToSpace,
SpaceToDepth, GatherElements, ScatterElements, ScatterND, CumSum, ConstantOfShape, Range.

With constant shapes, repeats, indices and axes (the only kind a circuit can have: its
wiring is fixed when it is built) every output element is an input element or a free sum
of them, so none of them emits a constraint, except the scatter reductions mul (a product
and a rescale per update), max and min (one `select.max_` / `min_` per update). Indices
computed from the model inputs would need a proved selection per element; they are
refused, naming the input.

ConstantOfShape and Range have constant inputs in every exported model and are folded by
the graph walker; a computed shape or bound would make the output's shape depend on the
witness, which a circuit cannot express, and is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from circuits.gadgets.select import max_, min_
from circuits.onnx.context import LoweringContext
from circuits.onnx.ops.arith import computed
from circuits.onnx.ops.logic import operands
from circuits.onnx.quant import bits_for_bound
from circuits.onnx.registry import onnx_op
from circuits.onnx.tensor import (
    Operand,
    QTensor,
    Result,
    Value,
    as_lc,
    linear,
    object_array,
)


def _ints(ctx: LoweringContext, x: Operand, what: str) -> list[int]:
    return [int(v) for v in np.asarray(ctx.const_input(x, what)).reshape(-1)]


def _axis(ctx: LoweringContext, axis: int, rank: int) -> int:
    if not -rank <= axis < max(rank, 1):
        raise ctx.error(f"axis {axis} is out of range for rank {rank}")
    return axis % max(rank, 1)


def _indices(ctx: LoweringContext, x: Operand, what: str) -> np.ndarray:
    if isinstance(x, QTensor):
        raise ctx.unsupported(
            f"input {what!r} is computed from the model inputs; only constant indices"
        )
    return np.asarray(ctx.const_input(x, what), dtype=np.int64)


@onnx_op("Expand")
def Expand(ctx: LoweringContext, input: Operand, shape: Operand) -> Result:
    x = computed(ctx, input, "input")
    target = np.broadcast_shapes(x.shape, tuple(_ints(ctx, shape, "shape")))
    return x.with_values(np.broadcast_to(x.values, target).copy())


@onnx_op("Tile")
def Tile(ctx: LoweringContext, input: Operand, repeats: Operand) -> Result:
    x = computed(ctx, input, "input")
    reps = _ints(ctx, repeats, "repeats")
    if len(reps) != x.ndim or min(reps, default=0) < 0:
        raise ctx.error(f"repeats {reps} do not fit rank {x.ndim}")
    return x.with_values(np.tile(x.values, reps))


@onnx_op("Split")
def Split(
    ctx: LoweringContext,
    input: Operand,
    split: Operand | Sequence[int] = None,
    *,
    axis: int = 0,
    num_outputs: int | None = None,
) -> Result:
    """Parts along `axis`: sizes from `split` (an input from opset 13, an attribute
    before), else `num_outputs` parts (the last one smaller), else one per node output."""
    x = computed(ctx, input, "input")
    a = _axis(ctx, axis, x.ndim)
    n = x.shape[a]
    if split is not None:
        given = split if isinstance(split, QTensor | np.ndarray) else np.asarray(split)
        sizes = _ints(ctx, given, "split")
    else:
        parts = num_outputs or len(ctx.outputs)
        step = -(-n // parts)
        sizes = [min(step, n - i * step) for i in range(parts)]
    if sum(sizes) != n or min(sizes, default=0) < 0:
        raise ctx.error(f"split sizes {sizes} do not add up to the axis length {n}")
    cuts = np.cumsum(sizes)[:-1].tolist()
    return tuple(x.with_values(v) for v in np.split(x.values, cuts, axis=a))


@onnx_op("DepthToSpace")
def DepthToSpace(
    ctx: LoweringContext, input: Operand, *, blocksize: int, mode: str = "DCR"
) -> Result:
    x = computed(ctx, input, "input")
    n, c, h, w = x.shape
    b = blocksize
    if mode == "DCR":
        v = x.values.reshape(n, b, b, c // (b * b), h, w).transpose(0, 3, 4, 1, 5, 2)
    elif mode == "CRD":
        v = x.values.reshape(n, c // (b * b), b, b, h, w).transpose(0, 1, 4, 2, 5, 3)
    else:
        raise ctx.unsupported(f"mode = {mode!r}; expected 'DCR' or 'CRD'")
    return x.with_values(v.reshape(n, c // (b * b), h * b, w * b))


@onnx_op("SpaceToDepth")
def SpaceToDepth(
    ctx: LoweringContext, input: Operand, *, blocksize: int, mode: str = "DCR"
) -> Result:
    x = computed(ctx, input, "input")
    n, c, h, w = x.shape
    b = blocksize
    if mode not in ("DCR", "CRD"):
        raise ctx.unsupported(f"mode = {mode!r}; expected 'DCR' or 'CRD'")
    perm = (0, 3, 5, 1, 2, 4) if mode == "DCR" else (0, 1, 3, 5, 2, 4)
    v = x.values.reshape(n, c, h // b, b, w // b, b).transpose(*perm)
    return x.with_values(v.reshape(n, c * b * b, h // b, w // b))


@onnx_op("GatherElements")
def GatherElements(
    ctx: LoweringContext, data: Operand, indices: Operand, *, axis: int = 0
) -> Result:
    x = computed(ctx, data, "data")
    a = _axis(ctx, axis, x.ndim)
    idx = _indices(ctx, indices, "indices")
    n = x.shape[a]
    if np.any((idx < -n) | (idx >= n)):
        raise ctx.error(f"indices out of range for an axis of size {n}")
    return x.with_values(np.take_along_axis(x.values, np.where(idx < 0, idx + n, idx), axis=a))


def _scatter_base(
    ctx: LoweringContext, data: Operand, updates: Operand, reduction: str
) -> tuple[np.ndarray, np.ndarray, int, int]:
    """data and updates as value arrays at one scale, with that scale and a bound. A
    product needs both at the activation scale (it is rescaled back there)."""
    if reduction not in ("none", "add", "mul", "max", "min"):
        raise ctx.unsupported(f"reduction = {reduction!r}; expected none, add, mul, max or min")
    d, u = operands(ctx, data, updates)
    if reduction == "mul":
        d, u = ctx.activation(d), ctx.activation(u)
    return d.values.copy(), u.values, d.scale, max(d.bound, u.bound)


class _Merge:
    """Folds one update into an element per the reduction, keeping the result's bound.

    none / add are free (a wire or a sum); max / min are `select.max_` / `min_` at the
    common scale (n + 3 constraints); mul is one product rescaled to the activation scale
    (1 + k + q_bits + 2 constraints). Updates to one element are applied in index order,
    as the ONNX reference does."""

    def __init__(self, ctx: LoweringContext, reduction: str, scale: int, bound: int) -> None:
        self.ctx, self.reduction, self.scale, self.bound = ctx, reduction, scale, bound
        self.n = bits_for_bound(bound)

    def __call__(self, old: Any, new: Any) -> Value:
        r, b = self.reduction, self.ctx.builder
        if r == "none":
            return new if isinstance(new, int) else as_lc(new)
        if r == "add":
            return linear([(1, old), (1, new)])
        if isinstance(old, int) and isinstance(new, int):
            if r != "mul":
                return max(old, new) if r == "max" else min(old, new)
        elif r in ("max", "min"):
            pick = max_ if r == "max" else min_
            with self.ctx.gadget(f"scatter_{r}"):
                return pick(b, as_lc(old), as_lc(new), self.n)
        return self._mul(old, new)

    def _mul(self, old: Value, new: Value) -> Value:
        prod = (
            old * new
            if isinstance(old, int) or isinstance(new, int)
            else self.ctx.builder.mul(old, new)
        )
        bound = self.ctx.check_bound(self.bound * self.bound, "a product")
        t = self.ctx.rescale(QTensor(object_array([prod], (1,)), 2 * self.scale, bound), self.scale)
        self.bound = max(self.bound, t.bound)
        self.n = bits_for_bound(self.bound)
        return t.values.reshape(-1)[0]  # type: ignore[no-any-return]


def _result(
    ctx: LoweringContext, out: np.ndarray, merge: _Merge, counts: np.ndarray, bound: int
) -> QTensor:
    if merge.reduction == "add":
        bound = bound * (int(counts.max(initial=0)) + 1)
    else:
        bound = max(bound, merge.bound)
    return QTensor(out, merge.scale, ctx.check_bound(bound))


@onnx_op("ScatterElements")
def ScatterElements(
    ctx: LoweringContext,
    data: Operand,
    indices: Operand,
    updates: Operand,
    *,
    axis: int = 0,
    reduction: str = "none",
) -> Result:
    out, upd, scale, bound = _scatter_base(ctx, data, updates, reduction)
    merge = _Merge(ctx, reduction, scale, bound)
    idx = _indices(ctx, indices, "indices")
    a = _axis(ctx, axis, out.ndim)
    n = out.shape[a]
    counts = np.zeros(out.shape, dtype=np.int64)
    for pos in np.ndindex(*idx.shape):
        i = int(idx[pos])
        if not -n <= i < n:
            raise ctx.error(f"index {i} out of range for an axis of size {n}")
        target = list(pos)
        target[a] = i % n
        t = tuple(target)
        out[t] = merge(out[t], upd[pos])
        counts[t] += 1
    return _result(ctx, out, merge, counts, bound)


@onnx_op("ScatterND")
def ScatterND(
    ctx: LoweringContext,
    data: Operand,
    indices: Operand,
    updates: Operand,
    *,
    reduction: str = "none",
) -> Result:
    out, upd, scale, bound = _scatter_base(ctx, data, updates, reduction)
    merge = _Merge(ctx, reduction, scale, bound)
    idx = _indices(ctx, indices, "indices")
    k = idx.shape[-1]
    counts = np.zeros(out.shape[:k], dtype=np.int64)
    for pos in np.ndindex(*idx.shape[:-1]):
        where = tuple(int(i) % out.shape[j] for j, i in enumerate(idx[pos]))
        block = out[where]
        if isinstance(block, np.ndarray):
            new = upd[pos]
            merged = [
                merge(o, u_)
                for o, u_ in zip(block.reshape(-1), np.asarray(new).reshape(-1), strict=True)
            ]
            out[where] = object_array(merged, block.shape)
        else:
            out[where] = merge(block, upd[pos])
        counts[where] += 1
    return _result(ctx, out, merge, counts, bound)


@onnx_op("CumSum")
def CumSum(
    ctx: LoweringContext, x: Operand, axis: Operand, *, exclusive: int = 0, reverse: int = 0
) -> Result:
    t = computed(ctx, x, "x")
    a = _axis(ctx, _ints(ctx, axis, "axis")[0], t.ndim)
    moved = np.moveaxis(t.values, a, -1)
    rows = moved.reshape(-1, moved.shape[-1])
    n = rows.shape[-1]
    out = np.empty(rows.shape, dtype=object)
    for r, row in enumerate(rows):
        order = list(range(n))[::-1] if reverse else list(range(n))
        acc: list[Value] = []
        for j in order:
            if exclusive:
                out[r, j] = linear((1, v) for v in acc)
            acc.append(row[j])
            if not exclusive:
                out[r, j] = linear((1, v) for v in acc)
    res = np.moveaxis(out.reshape(moved.shape), -1, a)
    return QTensor(res, t.scale, ctx.check_bound(t.bound * max(n, 1)))


@onnx_op("ConstantOfShape")
def ConstantOfShape(ctx: LoweringContext, input: Operand, *, value: object = None) -> Result:
    raise ctx.unsupported("a shape computed from the model inputs; the shape must be constant")


@onnx_op("Range")
def Range(ctx: LoweringContext, start: Operand, limit: Operand, delta: Operand) -> Result:
    raise ctx.unsupported(
        "start, limit or delta computed from the model inputs: the output length would "
        "depend on the inputs; they must be constant"
    )
