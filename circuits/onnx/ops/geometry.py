"""Window and reduction geometry shared by Conv, the pooling operators and the reductions.

ONNX describes a window operator over the spatial axes (all axes after N and C) with
``kernel_shape``, ``strides``, ``dilations``, ``pads`` (all begins, then all ends) and
``auto_pad``; this module turns those into explicit pads, the output shape and, per output
position, the input positions of its window.

A reduction (ReduceSum, ReduceMax, ReduceProd, ...) is the degenerate window: every
element of the reduced ``axes`` at once. `reduction_axes` reads its ``axes`` input or
attribute and ``noop_with_empty_axes``; `reduction_rows` lays the input out as one row per
output element, with the output's shape under ``keepdims``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from circuits.onnx.context import LoweringContext
from circuits.onnx.tensor import QTensor, Value, ValueArray


@dataclass(frozen=True)
class Window:
    """Geometry of a window op over ``len(kernel)`` spatial axes (input already padded)."""

    kernel: tuple[int, ...]
    strides: tuple[int, ...]
    dilations: tuple[int, ...]
    begins: tuple[int, ...]
    ends: tuple[int, ...]
    out_shape: tuple[int, ...]

    def positions(self) -> Iterator[tuple[int, ...]]:
        """Output positions in C order."""
        return itertools.product(*(range(n) for n in self.out_shape))

    def offsets(self) -> list[tuple[int, ...]]:
        """Kernel offsets (dilation applied) in C order of the kernel positions."""
        ranges = (range(0, k * d, d) for k, d in zip(self.kernel, self.dilations, strict=True))
        return list(itertools.product(*ranges))

    def origin(self, pos: Sequence[int]) -> tuple[int, ...]:
        """Padded-input coordinates of the first element of the window at `pos`."""
        return tuple(p * s for p, s in zip(pos, self.strides, strict=True))


def window(
    ctx: LoweringContext,
    spatial: Sequence[int],
    kernel: Sequence[int],
    *,
    auto_pad: str = "NOTSET",
    strides: Sequence[int] | None = None,
    dilations: Sequence[int] | None = None,
    pads: Sequence[int] | None = None,
    ceil_mode: int = 0,
) -> Window:
    """Resolve the window attributes for an input with the given spatial shape."""
    n = len(spatial)
    if len(kernel) != n:
        raise ctx.error(f"kernel of rank {len(kernel)} for {n} spatial axes")
    st = tuple(strides) if strides else (1,) * n
    dl = tuple(dilations) if dilations else (1,) * n
    if len(st) != n or len(dl) != n or min(st + dl) < 1:
        raise ctx.error(f"strides {list(st)} / dilations {list(dl)} do not fit {n} spatial axes")
    eff = [(k - 1) * d + 1 for k, d in zip(kernel, dl, strict=True)]
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        begins, ends = [], []
        for size, e, s in zip(spatial, eff, st, strict=True):
            total = max(0, (-(-size // s) - 1) * s + e - size)
            small = total // 2
            begins.append(small if auto_pad == "SAME_UPPER" else total - small)
            ends.append(total - begins[-1])
    elif auto_pad in ("NOTSET", "VALID"):
        p = list(pads) if pads and auto_pad == "NOTSET" else [0] * (2 * n)
        if len(p) != 2 * n or min(p) < 0:
            raise ctx.error(f"pads {p} do not fit {n} spatial axes")
        begins, ends = p[:n], p[n:]
    else:
        raise ctx.unsupported(f"auto_pad = {auto_pad!r}")
    out = []
    for size, e, s, b, en in zip(spatial, eff, st, begins, ends, strict=True):
        span = size + b + en - e
        if span < 0:
            raise ctx.error(f"the window ({e}) is larger than the padded input ({size + b + en})")
        n_out = (-(-span // s) if ceil_mode else span // s) + 1
        if ceil_mode and (n_out - 1) * s >= size + b:
            n_out -= 1  # a last window starting in the end padding is dropped (as onnxruntime)
        out.append(n_out)
    return Window(tuple(kernel), st, dl, tuple(begins), tuple(ends), tuple(out))


def pad_spatial(
    values: ValueArray, w: Window, fill: Value = 0, *, extra_end: bool = True
) -> ValueArray:
    """`values` (N, C, *spatial) padded with `fill` by the window's pads. With `extra_end`,
    also enough trailing fill that every window of `w.out_shape` lies inside (ceil_mode)."""
    n_sp = len(w.kernel)
    spatial = values.shape[2:]
    ends = list(w.ends)
    if extra_end:
        for i in range(n_sp):
            need = (w.out_shape[i] - 1) * w.strides[i] + (w.kernel[i] - 1) * w.dilations[i] + 1
            ends[i] = max(ends[i], need - spatial[i] - w.begins[i])
    shape = values.shape[:2] + tuple(
        s + b + e for s, b, e in zip(spatial, w.begins, ends, strict=True)
    )
    out = np.empty(shape, dtype=object)
    out[...] = fill
    inner = (slice(b, b + s) for b, s in zip(w.begins, spatial, strict=True))
    index = (slice(None), slice(None), *inner)
    out[index] = values
    return out


def pool_windows(
    ctx: LoweringContext,
    x: QTensor,
    kernel_shape: Sequence[int],
    *,
    auto_pad: str = "NOTSET",
    ceil_mode: int = 0,
    dilations: Sequence[int] | None = None,
    pads: Sequence[int] | None = None,
    strides: Sequence[int] | None = None,
    count_pads: bool = False,
) -> tuple[tuple[int, ...], Iterator[tuple[tuple[int, ...], ValueArray]]]:
    """The output shape (N, C, *out) of a pooling op over `x`, and per output position the
    values its window covers, as an (N, C, k) array: the elements of `x`, and with
    `count_pads` the explicit zero pads too (never the overhang a ceil_mode window adds).
    A window that would cover nothing raises."""
    if x.ndim < 3:
        raise ctx.error(f"{ctx.op_type} needs (N, C, spatial...), got shape {list(x.shape)}")
    spatial = x.shape[2:]
    geo = window(
        ctx,
        spatial,
        kernel_shape,
        auto_pad=auto_pad,
        strides=strides,
        dilations=dilations,
        pads=pads,
        ceil_mode=ceil_mode,
    )
    padded = pad_spatial(x.values, geo)
    lo = [0] * len(spatial) if count_pads else list(geo.begins)
    hi = [
        b + s + (e if count_pads else 0)
        for b, s, e in zip(geo.begins, spatial, geo.ends, strict=True)
    ]
    offsets = geo.offsets()

    def windows() -> Iterator[tuple[tuple[int, ...], ValueArray]]:
        for pos in geo.positions():
            org = geo.origin(pos)
            idx = [tuple(o + d for o, d in zip(org, off, strict=True)) for off in offsets]
            idx = [p for p in idx if all(lo[i] <= p[i] < hi[i] for i in range(len(p)))]
            if not idx:
                raise ctx.error(f"the window at output position {list(pos)} covers only padding")
            keys: list[tuple[Any, ...]] = [(slice(None), slice(None), *p) for p in idx]
            cols = [padded[k] for k in keys]
            yield pos, np.stack(cols, axis=-1)

    return (*x.shape[:2], *geo.out_shape), windows()


def reduction_axes(ctx: LoweringContext, x: QTensor, axes: object, noop: int) -> list[int] | None:
    """The reduced axes, sorted and non-negative; None when the op is the identity (no
    axes with ``noop_with_empty_axes``). No axes otherwise means every axis."""
    if axes is None or (not isinstance(axes, QTensor) and np.asarray(axes).size == 0):
        return None if noop else list(range(x.ndim))
    raw = (
        ctx.const_input(axes, "axes")
        if isinstance(axes, QTensor | np.ndarray)
        else np.asarray(axes)
    )
    out = sorted({int(a) + x.ndim if int(a) < 0 else int(a) for a in raw.reshape(-1)})
    if any(not 0 <= a < x.ndim for a in out):
        raise ctx.error(f"axes {raw.tolist()} out of range for rank {x.ndim}")
    return out


def reduction_rows(x: QTensor, axes: Sequence[int], keepdims: int) -> tuple[ValueArray, list[int]]:
    """(rows, shape): x's values as one row per output element, each row the elements
    reduced into it (rows of length 0 for an empty axis), and the output shape."""
    keep = [i for i in range(x.ndim) if i not in axes]
    n = int(np.prod([x.shape[i] for i in axes], dtype=np.int64))
    lead = int(np.prod([x.shape[i] for i in keep], dtype=np.int64))
    rows = x.values.transpose(keep + list(axes)).reshape(lead, n)  # explicit: n may be 0
    shape = (
        [1 if i in axes else x.shape[i] for i in range(x.ndim)]
        if keepdims
        else [x.shape[i] for i in keep]
    )
    return rows, shape
