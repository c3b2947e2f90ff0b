"""Resize (nearest, linear, cubic; every coordinate mode, antialias), with constant roi,
scales and sizes.

With those constant, Resize is a fixed linear map of its input. Rather than re-deriving
the ONNX coordinate rules, the map is read off the ONNX reference implementation itself:
the resized axes' basis vectors are stacked along an axis that Resize leaves alone (the
batch axis in practice) and resized in one reference run, whose output columns are the
map's coefficients. Nearest-neighbour coefficients are 0 or 1, so that mode only moves
elements (free, same scale); linear and cubic coefficients are quantized at their
coarsest exact scale (at most ``weight_scale``) and every output is a free linear
combination at ``x.scale`` plus that scale. (Upsample exists only below opset 10, which
the loader upgrades to Resize.)
"""

from __future__ import annotations

from typing import Any

import numpy as np
from onnx import helper

from circuits.onnx.context import LoweringContext
from circuits.onnx.ops.arith import computed, exact_scale
from circuits.onnx.quant import quantize
from circuits.onnx.registry import onnx_op
from circuits.onnx.tensor import Operand, QTensor, Result, linear

#: A Resize whose every axis changes is read off one basis vector at a time: up to this
#: many input elements.
MAX_FULL_BASIS = 4096


def _reference_map(
    ctx: LoweringContext, shape: tuple[int, ...], inputs: list[Any], attrs: Any
) -> tuple[np.ndarray, int, tuple[int, ...]]:
    """(M, lead, output shape): M maps the trailing axes (from `lead` on) of one slice of
    the input to the output's; the leading `lead` axes are not resized."""
    from onnx.reference import ReferenceEvaluator

    optional = ["roi", "scales", "sizes"][: len(inputs)]
    names = ["X"] + [n if v is not None else "" for n, v in zip(optional, inputs, strict=True)]
    node = helper.make_node("Resize", names, ["Y"], **attrs)
    ev = ReferenceEvaluator(node, opsets={"": ctx.opset})
    feeds = {n: v for n, v in zip(optional, inputs, strict=True) if v is not None}
    probe = _run(ev, {"X": np.zeros(shape, dtype=np.float32), **feeds})
    out_shape = probe.shape
    lead = 0
    simple = "axes" not in attrs and attrs.get("coordinate_transformation_mode") != (
        "tf_crop_and_resize"
    )
    while simple and lead < len(shape) and out_shape[lead] == shape[lead] and _unit(inputs, lead):
        lead += 1
    lead = min(lead, len(shape) - 1)
    trail = shape[lead:]
    n = int(np.prod(trail, dtype=np.int64))
    if lead == 0:
        if n > MAX_FULL_BASIS:
            raise ctx.unsupported(f"a resize of every axis of a {n}-element tensor")
        cols = []
        for k in range(n):
            e = np.zeros(n, dtype=np.float32)
            e[k] = 1.0
            cols.append(_run(ev, {"X": e.reshape(shape), **feeds}).reshape(-1))
        return np.stack(cols, axis=1).astype(np.float64), 0, out_shape
    basis = np.eye(n, dtype=np.float32).reshape((n,) + (1,) * (lead - 1) + trail)
    sub = _sub_inputs(inputs, lead, n)
    sub_feeds = {k: v for k, v in zip(optional, sub, strict=True) if v is not None}
    y = _run(ev, {"X": basis, **sub_feeds})
    return y.reshape(n, -1).T.astype(np.float64), lead, out_shape


def _run(ev: Any, feeds: dict[str, Any]) -> np.ndarray:
    out: Any = ev.run(None, feeds)
    return np.asarray(out[0])


def _unit(inputs: list[Any], axis: int) -> bool:
    """Axis `axis` has scale 1 (or no scales given) and an unchanged roi."""
    scales = inputs[1] if len(inputs) > 1 else None
    return scales is None or not np.asarray(scales).size or float(np.asarray(scales)[axis]) == 1


def _sub_inputs(inputs: list[Any], lead: int, n: int) -> list[Any]:
    """roi / scales / sizes for the basis tensor: its first axis holds n basis vectors."""
    out = list(inputs)
    if len(out) > 2 and out[2] is not None and np.asarray(out[2]).size:
        sizes = np.asarray(out[2], dtype=np.int64).copy()
        sizes[0] = n
        sizes[1:lead] = 1
        out[2] = sizes
    return out


@onnx_op("Resize")
def Resize(
    ctx: LoweringContext,
    X: Operand,
    roi: Operand = None,
    scales: Operand = None,
    sizes: Operand = None,
    **attrs: Any,
) -> Result:
    x = computed(ctx, X, "X")
    given = (("roi", roi), ("scales", scales), ("sizes", sizes))
    inputs = [None if v is None else np.asarray(ctx.const_input(v, n)) for n, v in given]
    while inputs and inputs[-1] is None:
        inputs.pop()
    m, lead, out_shape = _reference_map(ctx, x.shape, inputs, attrs)
    s = exact_scale(m, ctx.config.weight_scale)
    mq = quantize(m, s)
    lead_shape = x.shape[:lead]
    rows = x.values.reshape(int(np.prod(lead_shape, dtype=np.int64)), -1)
    n_out = mq.shape[0]
    out = np.empty((rows.shape[0], n_out), dtype=object)
    coeffs = [[(int(c), j) for j, c in enumerate(mq[i]) if c] for i in range(n_out)]
    for r, row in enumerate(rows):
        for i, terms in enumerate(coeffs):
            out[r, i] = linear((c, row[j]) for c, j in terms)
    bound = max((sum(abs(c) for c, _ in t) for t in coeffs), default=0) * x.bound
    return QTensor(out.reshape(out_shape), x.scale + s, ctx.check_bound(bound))
