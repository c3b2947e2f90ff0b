"""Shape operators: they move elements and never emit a constraint.

Flatten, Reshape, Transpose, Squeeze, Unsqueeze, Concat, Slice, Gather, Pad, Shape and
Constant. Shape arguments (a target shape, axes, pads, indices) must be constants; the
loader has already folded any shape arithmetic on constants, and every tensor shape is
static, so `Shape` of a computed tensor is a constant too.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from circuits.onnx.context import LoweringContext
from circuits.onnx.ops.arith import computed
from circuits.onnx.quant import quantize
from circuits.onnx.registry import onnx_op
from circuits.onnx.tensor import Operand, QTensor, Result


def _ints(ctx: LoweringContext, x: Operand | Sequence[int], what: str) -> list[int]:
    if x is None or isinstance(x, QTensor | np.ndarray):
        return [int(v) for v in ctx.const_input(x, what).reshape(-1)]
    return [int(v) for v in x]


def _axis(ctx: LoweringContext, axis: int, rank: int) -> int:
    a = axis + rank if axis < 0 else axis
    if not 0 <= a < rank:
        raise ctx.error(f"axis {axis} out of range for rank {rank}")
    return a


@onnx_op("Flatten")
def Flatten(ctx: LoweringContext, input: Operand, *, axis: int = 1) -> Result:
    x = computed(ctx, input, "input")
    a = axis + x.ndim if axis < 0 else axis
    if not 0 <= a <= x.ndim:
        raise ctx.error(f"axis {axis} out of range for rank {x.ndim}")
    outer = int(np.prod(x.shape[:a], dtype=np.int64))
    return x.reshape((outer, -1) if x.size else (outer, 0))


@onnx_op("Reshape")
def Reshape(ctx: LoweringContext, data: Operand, shape: Operand, *, allowzero: int = 0) -> Result:
    x = computed(ctx, data, "data")
    target = _ints(ctx, shape, "shape")
    dims = [
        x.shape[i] if d == 0 and not allowzero and i < x.ndim else d for i, d in enumerate(target)
    ]
    if dims.count(-1) > 1:
        raise ctx.error(f"shape {target} has more than one -1")
    known = int(np.prod([d for d in dims if d != -1], dtype=np.int64))
    if -1 in dims:
        if known == 0 or x.size % known:
            raise ctx.error(f"cannot reshape {x.shape} to {target}")
        dims[dims.index(-1)] = x.size // known
    if int(np.prod(dims, dtype=np.int64)) != x.size:
        raise ctx.error(f"cannot reshape {x.shape} ({x.size} elements) to {target}")
    return x.reshape(dims)


@onnx_op("Transpose")
def Transpose(ctx: LoweringContext, data: Operand, *, perm: Sequence[int] | None = None) -> Result:
    x = computed(ctx, data, "data")
    p = list(perm) if perm is not None else list(range(x.ndim))[::-1]
    if sorted(p) != list(range(x.ndim)):
        raise ctx.error(f"perm {p} is not a permutation of the {x.ndim} axes")
    return x.transpose(p)


@onnx_op("Squeeze")
def Squeeze(ctx: LoweringContext, data: Operand, axes: Operand | Sequence[int] = None) -> Result:
    x = computed(ctx, data, "data")
    if axes is None:
        ax = [i for i, d in enumerate(x.shape) if d == 1]
    else:
        ax = [_axis(ctx, a, x.ndim) for a in _ints(ctx, axes, "axes")]
    bad = [a for a in ax if x.shape[a] != 1]
    if bad:
        raise ctx.error(f"cannot squeeze axes {bad} of shape {x.shape}: their size is not 1")
    return x.reshape([d for i, d in enumerate(x.shape) if i not in ax])


@onnx_op("Unsqueeze")
def Unsqueeze(ctx: LoweringContext, data: Operand, axes: Operand | Sequence[int] = None) -> Result:
    x = computed(ctx, data, "data")
    if axes is None:
        raise ctx.error("Unsqueeze needs axes")
    rank = x.ndim + len(_ints(ctx, axes, "axes"))
    ax = sorted(_axis(ctx, a, rank) for a in _ints(ctx, axes, "axes"))
    shape = list(x.shape)
    for a in ax:
        shape.insert(a, 1)
    return x.reshape(shape)


@onnx_op("Concat")
def Concat(ctx: LoweringContext, *inputs: Operand, axis: int) -> Result:
    """Computed inputs are aligned to the finest scale; constant inputs are quantized at it."""
    tensors = [t for t in inputs if isinstance(t, QTensor)]
    if not tensors:
        raise ctx.error("Concat needs a computed input")
    scale = max(t.scale for t in tensors)
    parts, bound = [], 0
    for x in inputs:
        if isinstance(x, QTensor):
            t = ctx.upscale(x, scale)
            parts.append(t.values)
            bound = max(bound, t.bound)
        else:
            q = quantize(ctx.const_input(x, "inputs"), scale)
            parts.append(q)
            bound = max(bound, max((abs(int(v)) for v in q.reshape(-1)), default=0))
    a = _axis(ctx, axis, tensors[0].ndim)
    return QTensor(np.concatenate(parts, axis=a), scale, bound)


@onnx_op("Slice")
def Slice(
    ctx: LoweringContext,
    data: Operand,
    starts: Operand | Sequence[int],
    ends: Operand | Sequence[int],
    axes: Operand | Sequence[int] = None,
    steps: Operand | Sequence[int] = None,
) -> Result:
    x = computed(ctx, data, "data")
    st, en = _ints(ctx, starts, "starts"), _ints(ctx, ends, "ends")
    ax = _ints(ctx, axes, "axes") if axes is not None else list(range(len(st)))
    sp = _ints(ctx, steps, "steps") if steps is not None else [1] * len(st)
    if not len(st) == len(en) == len(ax) == len(sp):
        raise ctx.error("starts, ends, axes and steps differ in length")
    index: list[slice] = [slice(None)] * x.ndim
    for s, e, a, step in zip(st, en, ax, sp, strict=True):
        if step == 0:
            raise ctx.error("a slice step is 0")
        index[_axis(ctx, a, x.ndim)] = slice(s, e, step)
    return x.with_values(x.values[tuple(index)])


@onnx_op("Gather")
def Gather(ctx: LoweringContext, data: Operand, indices: Operand, *, axis: int = 0) -> Result:
    x = computed(ctx, data, "data")
    a = _axis(ctx, axis, x.ndim)
    idx = np.asarray(ctx.const_input(indices, "indices"), dtype=np.int64)
    n = x.shape[a]
    if np.any((idx < -n) | (idx >= n)):
        raise ctx.error(f"indices {idx.tolist()} out of range for an axis of size {n}")
    return x.with_values(np.take(x.values, np.where(idx < 0, idx + n, idx), axis=a))


@onnx_op("Pad")
def Pad(
    ctx: LoweringContext,
    data: Operand,
    pads: Operand | Sequence[int] = None,
    constant_value: Operand = None,
    axes: Operand = None,
    *,
    mode: str = "constant",
    value: float = 0.0,
) -> Result:
    """Constant, reflect, edge and wrap padding; negative pads crop. The fill of constant
    padding is quantized at the data scale; the other modes repeat elements (free)."""
    x = computed(ctx, data, "data")
    if mode not in ("constant", "reflect", "edge", "wrap"):
        raise ctx.unsupported(f"mode = {mode!r}; expected constant, reflect, edge or wrap")
    if pads is None:
        raise ctx.error("Pad needs pads")
    p = _ints(ctx, pads, "pads")
    ax = (
        [_axis(ctx, a, x.ndim) for a in _ints(ctx, axes, "axes")]
        if axes is not None
        else list(range(x.ndim))
    )
    if len(p) != 2 * len(ax):
        raise ctx.error(f"pads {p} do not fit {len(ax)} axes")
    fill_f = (
        value
        if constant_value is None
        else float(np.asarray(ctx.const_input(constant_value, "constant_value")).reshape(-1)[0])
    )
    fill = int(quantize(np.asarray(fill_f), x.scale)[()])
    values = x.values
    begins, ends = [0] * x.ndim, [0] * x.ndim
    for i, a in enumerate(ax):
        begins[a], ends[a] = p[i], p[i + len(ax)]
    crop = tuple(
        slice(max(0, -b), values.shape[i] - max(0, -e))
        for i, (b, e) in enumerate(zip(begins, ends, strict=True))
    )
    values = values[crop]
    if mode != "constant":
        widths = [(max(0, b_), max(0, e)) for b_, e in zip(begins, ends, strict=True)]
        return x.with_values(np.pad(values, widths, mode=mode))  # type: ignore[call-overload]
    shape = tuple(
        d + max(0, b) + max(0, e) for d, b, e in zip(values.shape, begins, ends, strict=True)
    )
    out = np.empty(shape, dtype=object)
    out[...] = fill
    out[
        tuple(slice(max(0, b), max(0, b) + d) for d, b in zip(values.shape, begins, strict=True))
    ] = values
    return QTensor(out, x.scale, max(x.bound, abs(fill)))


@onnx_op("Shape")
def Shape(ctx: LoweringContext, data: Operand, *, start: int = 0, end: int | None = None) -> Result:
    x = computed(ctx, data, "data")
    return np.asarray(x.shape[start:end], dtype=np.int64)


@onnx_op("Constant")
def Constant(ctx: LoweringContext, **attrs: object) -> Result:
    """Folded by the walker before any lowering runs; reaching here is an internal error."""
    raise ctx.error("a Constant node reached lowering; constants are folded by the loader")
