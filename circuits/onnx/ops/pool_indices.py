"""MaxPool's second output, Indices: per window the flat position of its maximum in the
input tensor (row-major over (N, C, spatial...); with storage_order = 1 the spatial part is
column-major), as onnxruntime and the ONNX reference give it.

The maximum and its position come from one `reduce.argmax_onehot` per window: a proved
one-hot vector o picks the first maximum (the order in which the window is scanned), the
value is sum o_j x_j and the index sum o_j p_j with the constant flat positions p_j (free).
The positions come from the same window walk applied to a constant tensor of positions,
so padding and ceil_mode overhang are left out exactly as they are for the values.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from circuits.gadgets.reduce import argmax_onehot
from circuits.lc import LinearCombination
from circuits.onnx.context import LoweringContext
from circuits.onnx.ops.geometry import pool_windows
from circuits.onnx.quant import bits_for_bound
from circuits.onnx.tensor import QTensor, Value, as_lc


def _positions(shape: tuple[int, ...], storage_order: int) -> np.ndarray:
    """The flat index onnxruntime reports for each element of an input of `shape`."""
    n_c, spatial = int(np.prod(shape[:2])), shape[2:]
    size = int(np.prod(spatial, dtype=np.int64))
    flat = np.arange(size, dtype=np.int64)
    # column-major: the position of (i0, ..., ik) is i0 + d0 (i1 + d1 (...))
    inner = flat.reshape(spatial[::-1]).transpose() if storage_order else flat.reshape(spatial)
    base = (np.arange(n_c, dtype=np.int64) * size).reshape(*shape[:2], *([1] * len(spatial)))
    out: np.ndarray = (base + inner).astype(object)
    return out


def max_pool_with_indices(
    ctx: LoweringContext,
    x: QTensor,
    kernel_shape: Sequence[int],
    storage_order: int,
    **geometry: object,
) -> tuple[QTensor, QTensor]:
    """(Y, Indices) of MaxPool over x; `geometry` holds auto_pad, ceil_mode, dilations,
    pads and strides as MaxPool received them."""
    if storage_order not in (0, 1):
        raise ctx.error(f"storage_order = {storage_order}; expected 0 or 1")
    pos = _positions(x.shape, storage_order)
    span = max(int(np.prod(x.shape)) - 1, 1)
    shape, windows = pool_windows(ctx, x, kernel_shape, **geometry)  # type: ignore[arg-type]
    _, places = pool_windows(ctx, QTensor(pos, 0, span), kernel_shape, **geometry)  # type: ignore[arg-type]
    n, b = bits_for_bound(x.bound), ctx.builder
    values = np.empty(shape, dtype=object)
    indices = np.empty(shape, dtype=object)
    with ctx.gadget("max_with_index"):
        for (at, win), (_, where) in zip(windows, places, strict=True):
            for i, c in np.ndindex(*shape[:2]):
                onehot, v = argmax_onehot(b, [as_lc(u) for u in win[i, c]], n)
                idx = sum(
                    (o * int(p) for o, p in zip(onehot, where[i, c], strict=True)),
                    LinearCombination({}),
                )
                values[(i, c, *at)] = _fold(v)
                indices[(i, c, *at)] = _fold(idx)
    return QTensor(values, x.scale, x.bound), QTensor(indices, 0, span)


def _fold(v: LinearCombination) -> Value:
    return v.constant_value() if v.is_constant() else v
