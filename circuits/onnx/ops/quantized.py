"""Operators of models already quantized with onnxruntime's quantizer: QuantizeLinear,
DequantizeLinear, MatMulInteger, QLinearMatMul, QLinearConv (constant scales and zero
points, per tensor or per axis).

An 8-bit tensor is a `QTensor` holding the integers themselves (scale 0). Costs:

* DequantizeLinear: (x - zero_point) * scale, free (a product with a constant);
* MatMulInteger: MatMul of (A - a_zp) and (B - b_zp): free with a constant B, one product
  per multiply-add otherwise; the integer result is exact;
* QuantizeLinear and the requantization ending QLinearMatMul / QLinearConv:
  round(x / y_scale) + y_zp (x / y_scale a free product with the quantized reciprocal,
  the rounding one `rescale` of about scale + 10 bits), then saturation to the integer
  type (two comparisons of about 10 bits each, skipped when the bound already fits).

Rounding is half up where onnxruntime rounds half to even: the two differ only for a value
exactly halfway between two integers, by one step of the quantized type.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from onnx import TensorProto, helper

from circuits.gadgets.select import clamp
from circuits.onnx.context import LoweringContext
from circuits.onnx.ops.arith import add_const, computed, mul_const
from circuits.onnx.ops.linear import Conv, matmul
from circuits.onnx.ops.rounding import floor_values
from circuits.onnx.quant import bits_for_bound, quantize
from circuits.onnx.registry import onnx_op
from circuits.onnx.tensor import Const, Operand, QTensor, Result, Value

_RANGES = {
    TensorProto.UINT8: (0, 255),
    TensorProto.INT8: (-128, 127),
    TensorProto.UINT16: (0, 65535),
    TensorProto.INT16: (-32768, 32767),
    TensorProto.INT32: (-(2**31), 2**31 - 1),
}
_NP_TO_ONNX = {
    np.dtype(np.uint8): TensorProto.UINT8,
    np.dtype(np.int8): TensorProto.INT8,
    np.dtype(np.uint16): TensorProto.UINT16,
    np.dtype(np.int16): TensorProto.INT16,
    np.dtype(np.int32): TensorProto.INT32,
}


def _per_axis(c: Const, rank: int, axis: int) -> Const:
    """A scale or zero point shaped to broadcast along `axis` (a scalar stays one)."""
    a = np.asarray(c)
    if a.ndim == 0 or a.size == 1:
        return a.reshape(())
    shape = [1] * rank
    shape[axis % rank] = a.size
    return a.reshape(shape)


def _as_int(ctx: LoweringContext, x: Operand, what: str) -> QTensor:
    """A tensor of integers: computed at scale 0, or a constant integer array."""
    if isinstance(x, QTensor):
        return x
    arr = np.asarray(ctx.const_input(x, what))
    return ctx.const(arr.astype(np.float64), 0)


def saturate(ctx: LoweringContext, t: QTensor, lo: int, hi: int) -> QTensor:
    """Elementwise min(max(t, lo), hi) for integers t (scale 0)."""
    if -t.bound >= lo and t.bound <= hi:
        return t
    n = max(bits_for_bound(t.bound), bits_for_bound(max(abs(lo), abs(hi))))
    b = ctx.builder

    def one(v: Value) -> Value:
        return min(max(v, lo), hi) if isinstance(v, int) else clamp(b, v, lo, hi, n)

    with ctx.gadget("saturate"):
        return t.map(one, scale=0, bound=max(abs(lo), abs(hi)))


def requantize(
    ctx: LoweringContext, t: QTensor, y_scale: Const, y_zp: Const | None, axis: int = 1
) -> QTensor:
    """saturate(round(t / y_scale) + y_zp) as integers, for a real-valued t."""
    zp = np.asarray(y_zp) if y_zp is not None else np.zeros((), dtype=np.uint8)
    lo, hi = _RANGES.get(_NP_TO_ONNX.get(zp.dtype, TensorProto.UINT8), (0, 255))
    scaled = _mul_precise(ctx, t, 1.0 / np.asarray(_per_axis(y_scale, t.ndim, axis), np.float64))
    q = floor_values(ctx, scaled, 1 << (scaled.scale - 1) if scaled.scale else 0)
    q = add_const(ctx, q, np.asarray(_per_axis(zp, t.ndim, axis), dtype=np.float64))
    return saturate(ctx, q, lo, hi)


#: Significant bits kept of a requantization multiplier (a_scale b_scale / y_scale is often
#: far below 1, where `weight_scale` fraction bits would keep only a few).
MULTIPLIER_BITS = 30


def _mul_precise(ctx: LoweringContext, t: QTensor, m: Const) -> QTensor:
    """t * m with m quantized to `MULTIPLIER_BITS` significant bits (free)."""
    if np.all(np.asarray(m) == 1):
        return t
    top = float(np.max(np.abs(m), initial=0.0))
    k = max(0, MULTIPLIER_BITS - (math.frexp(top)[1] if top else 0))
    q = quantize(m, k)
    bound = max((abs(int(v)) for v in q.reshape(-1)), default=0) * t.bound
    return QTensor(np.asarray(t.values * q, dtype=object), t.scale + k, ctx.check_bound(bound))


@onnx_op("QuantizeLinear")
def QuantizeLinear(
    ctx: LoweringContext,
    x: Operand,
    y_scale: Operand,
    y_zero_point: Operand = None,
    *,
    axis: int = 1,
    saturate: int = 1,
    block_size: int = 0,
    output_dtype: int = 0,
    precision: int = 0,
) -> Result:
    if block_size:
        raise ctx.unsupported("blocked quantization (block_size > 0)")
    t = computed(ctx, x, "x")
    zp = None if y_zero_point is None else ctx.const_input(y_zero_point, "y_zero_point")
    if zp is None and output_dtype:
        zp = np.zeros((), dtype=_onnx_np(ctx, output_dtype))
    return requantize(ctx, t, ctx.const_input(y_scale, "y_scale"), zp, axis)


def _onnx_np(ctx: LoweringContext, dtype: int) -> np.dtype[Any]:
    if dtype not in _RANGES:
        raise ctx.unsupported(f"output type {TensorProto.DataType.Name(dtype)}")
    return np.dtype(helper.tensor_dtype_to_np_dtype(dtype))


@onnx_op("DequantizeLinear")
def DequantizeLinear(
    ctx: LoweringContext,
    x: Operand,
    x_scale: Operand,
    x_zero_point: Operand = None,
    *,
    axis: int = 1,
    block_size: int = 0,
    output_dtype: int = 0,
) -> Result:
    if block_size:
        raise ctx.unsupported("blocked quantization (block_size > 0)")
    t = computed(ctx, x, "x")
    if x_zero_point is not None:
        zp = _per_axis(ctx.const_input(x_zero_point, "x_zero_point"), t.ndim, axis)
        t = add_const(ctx, t, -np.asarray(zp, dtype=np.float64))
    scale = _per_axis(ctx.const_input(x_scale, "x_scale"), t.ndim, axis)
    return mul_const(ctx, t, np.asarray(scale, dtype=np.float64))


def _centered(ctx: LoweringContext, x: Operand, zp: Operand, what: str) -> QTensor | Const:
    """x - zero_point: free; a constant stays a constant array."""
    if not isinstance(x, QTensor):
        arr = np.asarray(ctx.const_input(x, what), dtype=np.float64)
        return arr if zp is None else arr - np.asarray(ctx.const_input(zp, f"{what}_zero_point"))
    if zp is None:
        return x
    z = np.asarray(ctx.const_input(zp, f"{what}_zero_point"), dtype=np.float64)
    if z.ndim == 1 and z.size > 1 and x.ndim >= 2:
        z = z.reshape(-1, 1) if what == "a" else z
    return add_const(ctx, x, -z)


@onnx_op("MatMulInteger")
def MatMulInteger(
    ctx: LoweringContext,
    A: Operand,
    B: Operand,
    a_zero_point: Operand = None,
    b_zero_point: Operand = None,
) -> Result:
    a = _centered(ctx, A, a_zero_point, "a")
    b = _centered(ctx, B, b_zero_point, "b")
    return matmul(ctx, a, b)


@onnx_op("QLinearMatMul")
def QLinearMatMul(
    ctx: LoweringContext,
    a: Operand,
    a_scale: Operand,
    a_zero_point: Operand,
    b: Operand,
    b_scale: Operand,
    b_zero_point: Operand,
    y_scale: Operand,
    y_zero_point: Operand,
) -> Result:
    acc = matmul(ctx, _centered(ctx, a, a_zero_point, "a"), _centered(ctx, b, b_zero_point, "b"))
    sa = np.asarray(ctx.const_input(a_scale, "a_scale"), dtype=np.float64)
    sb = np.asarray(ctx.const_input(b_scale, "b_scale"), dtype=np.float64)
    ys = np.asarray(ctx.const_input(y_scale, "y_scale"), dtype=np.float64)
    m = (sa.reshape(()) * sb if sa.size == 1 else sa.reshape(-1, 1) * sb) / ys
    zp = ctx.const_input(y_zero_point, "y_zero_point")
    return requantize(ctx, _mul_precise(ctx, acc, m), np.ones(()), zp, axis=-1)


@onnx_op("QLinearConv")
def QLinearConv(
    ctx: LoweringContext,
    x: Operand,
    x_scale: Operand,
    x_zero_point: Operand,
    w: Operand,
    w_scale: Operand,
    w_zero_point: Operand,
    y_scale: Operand,
    y_zero_point: Operand,
    B: Operand = None,
    *,
    auto_pad: str = "NOTSET",
    dilations: Sequence[int] | None = None,
    group: int = 1,
    kernel_shape: Sequence[int] | None = None,
    pads: Sequence[int] | None = None,
    strides: Sequence[int] | None = None,
) -> Result:
    """Dequantize input and weights (free), convolve (free), requantize."""
    xd = DequantizeLinear(ctx, x, x_scale, x_zero_point)
    assert isinstance(xd, QTensor)
    wq = np.asarray(ctx.const_input(w, "w"), dtype=np.float64)
    wz = np.asarray(ctx.const_input(w_zero_point, "w_zero_point"), dtype=np.float64)
    ws = np.asarray(ctx.const_input(w_scale, "w_scale"), dtype=np.float64)
    shape = (-1,) + (1,) * (wq.ndim - 1)
    wd = (wq - wz.reshape(shape if wz.size > 1 else ())) * ws.reshape(shape if ws.size > 1 else ())
    bias = None
    if B is not None:
        sx = float(np.asarray(ctx.const_input(x_scale, "x_scale")).reshape(-1)[0])
        bias = np.asarray(ctx.const_input(B, "B"), dtype=np.float64) * sx * ws.reshape(-1)
    y = Conv(
        ctx, xd, wd, bias, auto_pad=auto_pad, dilations=dilations, group=group,
        kernel_shape=kernel_shape, pads=pads, strides=strides,
    )  # fmt: skip
    assert isinstance(y, QTensor)
    zp = ctx.const_input(y_zero_point, "y_zero_point")
    return requantize(ctx, y, ctx.const_input(y_scale, "y_scale"), zp, axis=1)
