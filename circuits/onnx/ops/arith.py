"""Elementwise arithmetic: Add, Sub, Mul, Div, Neg, Sum, Relu, and the pass-through ops.

Sums, differences and products with constants are linear combinations: free. A constant
operand is quantized at the other operand's scale for Add/Sub (so no rescale is needed),
and at the coarsest exact scale (at most ``weight_scale``) for Mul/Div, so a product with
2.0 or 0.25 adds no fraction bits. A product of two computed tensors costs one constraint
per element, after both are brought to activation scale.
"""

from __future__ import annotations

import numpy as np
from onnx import TensorProto

from circuits.onnx.context import LoweringContext
from circuits.onnx.quant import quantize
from circuits.onnx.registry import onnx_op
from circuits.onnx.tensor import Const, Operand, QTensor, Result, Value, object_array

_FLOAT_TYPES = (TensorProto.FLOAT, TensorProto.DOUBLE, TensorProto.FLOAT16, TensorProto.BFLOAT16)


def computed(ctx: LoweringContext, x: Operand, what: str) -> QTensor:
    """`x` as a QTensor; a constant here means the walker did not fold (an internal error)."""
    if not isinstance(x, QTensor):
        raise ctx.error(f"input {what!r} must be computed from the model inputs")
    return x


def exact_scale(arr: Const, max_scale: int) -> int:
    """The fewest fraction bits (<= max_scale) that represent every element exactly, or
    max_scale when none does (the constant is then rounded)."""
    a = np.asarray(arr, dtype=np.float64)
    for s in range(max_scale + 1):
        scaled = a * float(1 << s)
        if np.all(scaled == np.round(scaled)):
            return s
    return max_scale


def max_abs(values: np.ndarray) -> int:
    return max((abs(int(v)) for v in values.reshape(-1)), default=0)


def add_const(ctx: LoweringContext, t: QTensor, c: Const, sign: int = 1) -> QTensor:
    """t + sign * c with c quantized at t's scale (free)."""
    q = quantize(c, t.scale)
    values = t.values + q * sign
    return QTensor(np.asarray(values, dtype=object), t.scale, ctx.check_bound(t.bound + max_abs(q)))


def mul_const(ctx: LoweringContext, t: QTensor, c: Const) -> QTensor:
    """t * c with c at its coarsest exact scale (<= weight_scale). Free."""
    s = exact_scale(c, ctx.config.weight_scale)
    q = quantize(c, s)
    values = np.asarray(t.values * q, dtype=object)
    return QTensor(values, t.scale + s, ctx.check_bound(t.bound * max_abs(q)))


def mul_weight(ctx: LoweringContext, t: QTensor, c: Const, slot: str) -> QTensor:
    """t * c: free with c a public constant (`mul_const`); in private-weights mode c is a
    committed tensor at ``weight_scale`` (not its exact scale, which would tell how round
    it is) and every element costs one product."""
    if not ctx.private_mode:
        return mul_const(ctx, t, c)
    w = ctx.weight(c, ctx.config.weight_scale, slot)
    assert w is not None
    return mul_by(ctx, t, w)


def mul_by(ctx: LoweringContext, t: QTensor, w: QTensor) -> QTensor:
    """t * w elementwise (broadcast), neither rescaled: one product per element of wires."""
    tv, wv = np.broadcast_arrays(t.values, w.values)
    b = ctx.builder
    items = [
        x * y if isinstance(x, int) else b.mul(x, y)
        for x, y in zip(tv.reshape(-1), wv.reshape(-1), strict=True)
    ]
    bound = ctx.check_bound(t.bound * w.bound, "a product with a weight")
    return QTensor(object_array(items, tv.shape), t.scale + w.scale, bound)


def add_weight(ctx: LoweringContext, t: QTensor, c: Const, slot: str, sign: int = 1) -> QTensor:
    """t + sign * c; in private-weights mode c is a committed tensor at t's scale (free)."""
    private = ctx.weight(c, t.scale, slot)
    return add_const(ctx, t, c, sign) if private is None else add_tensors(ctx, t, private, sign)


def add_tensors(ctx: LoweringContext, a: QTensor, b: QTensor, sign: int = 1) -> QTensor:
    """a + sign * b at the finer of the two scales. Free."""
    a, b = ctx.align(a, b)
    values = a.values + b.values if sign > 0 else a.values - b.values
    return QTensor(np.asarray(values, dtype=object), a.scale, ctx.check_bound(a.bound + b.bound))


def _add(ctx: LoweringContext, A: Operand, B: Operand, sign: int) -> QTensor:
    if isinstance(A, QTensor) and isinstance(B, QTensor):
        return add_tensors(ctx, A, B, sign)
    if isinstance(A, QTensor):
        return add_weight(ctx, A, ctx.const_input(B, "B"), "B", sign)
    b = computed(ctx, B, "B")
    neg = b if sign > 0 else Neg(ctx, b)
    assert isinstance(neg, QTensor)
    return add_weight(ctx, neg, ctx.const_input(A, "A"), "A")


@onnx_op("Add")
def Add(ctx: LoweringContext, A: Operand, B: Operand) -> Result:
    return _add(ctx, A, B, 1)


@onnx_op("Sub")
def Sub(ctx: LoweringContext, A: Operand, B: Operand) -> Result:
    return _add(ctx, A, B, -1)


@onnx_op("Neg")
def Neg(ctx: LoweringContext, X: Operand) -> Result:
    x = computed(ctx, X, "X")
    return x.with_values(np.asarray(-x.values, dtype=object))


@onnx_op("Sum")
def Sum(ctx: LoweringContext, *data: Operand) -> Result:
    if not data:
        raise ctx.error("Sum needs at least one input")
    acc: Operand = data[0]
    for x in data[1:]:
        acc = _add(ctx, acc, x, 1)
    return computed(ctx, acc, "data_0") if not isinstance(acc, QTensor) else acc


@onnx_op("Mul")
def Mul(ctx: LoweringContext, A: Operand, B: Operand) -> Result:
    if not isinstance(A, QTensor):
        A, B = B, A
    a = computed(ctx, A, "A")
    if not isinstance(B, QTensor):
        return mul_weight(ctx, a, ctx.const_input(B, "B"), "B")
    a, b = ctx.activation(a), ctx.activation(B)
    av, bv = np.broadcast_arrays(a.values, b.values)
    builder = ctx.builder

    def prod(x: Value, y: Value) -> Value:
        return x * y if isinstance(x, int) or isinstance(y, int) else builder.mul(x, y)

    items = [prod(x, y) for x, y in zip(av.reshape(-1), bv.reshape(-1), strict=True)]
    bound = ctx.check_bound(a.bound * b.bound, "a product")
    return QTensor(object_array(items, av.shape), a.scale + b.scale, bound)


@onnx_op("Div")
def Div(ctx: LoweringContext, A: Operand, B: Operand) -> Result:
    """By a constant: a free product with its reciprocal. By a computed tensor: a proved,
    rounded division (`powers.divide_tensors`)."""
    if isinstance(B, QTensor):
        from circuits.onnx.ops.powers import divide_tensors  # powers builds on this module

        a = A if isinstance(A, QTensor) else ctx.as_qtensor(ctx.const_input(A, "A"))
        if B.scale == 0 and (a.scale == 0 or not isinstance(A, QTensor)):
            from circuits.onnx.ops.rounding import int_divide

            a = A if isinstance(A, QTensor) else ctx.const(ctx.const_input(A, "A"), 0)
            return int_divide(ctx, a, B)
        return divide_tensors(ctx, a, B)
    a = computed(ctx, A, "A")
    if B is None:
        raise ctx.error("Div needs a divisor")
    divisor = np.asarray(B, dtype=np.float64)
    if np.any(divisor == 0):
        raise ctx.error("division by a constant that contains zero")
    if np.issubdtype(np.asarray(B).dtype, np.integer) and a.scale == 0:
        from circuits.onnx.ops.rounding import int_divide

        d = ctx.const(np.asarray(B), 0)
        if ctx.private_mode:  # a committed divisor: the division is proved for a wire
            d = ctx.private_ints(d.values, 0, "B")
        return int_divide(ctx, a, d)
    return mul_weight(ctx, a, 1.0 / divisor, "B")


@onnx_op("Relu")
def Relu(ctx: LoweringContext, X: Operand) -> Result:
    """max(x, 0); fused with the rescale when x is finer than activation scale (the sign
    bit of the rescale's decomposition is reused: 1 constraint more than the rescale)."""
    x = computed(ctx, X, "X")
    if x.scale > ctx.config.act_scale:
        return ctx.rescale_relu(x, ctx.config.act_scale)
    return ctx.rescale_relu(x, x.scale)


@onnx_op("Identity")
def Identity(ctx: LoweringContext, input: Operand) -> Result:
    return computed(ctx, input, "input")


@onnx_op("Dropout")
def Dropout(
    ctx: LoweringContext,
    data: Operand,
    ratio: Operand = None,
    training_mode: Operand = None,
    *,
    seed: int = 0,
) -> Result:
    """Inference mode only: the output is the input and the mask is all ones."""
    x = computed(ctx, data, "data")
    if training_mode is not None and bool(
        np.asarray(ctx.const_input(training_mode, "training_mode"))
    ):
        raise ctx.unsupported(
            "training_mode = true (dropout is random; only inference is supported)"
        )
    return x, np.ones(x.shape, dtype=bool)


_INT_TYPES = (
    TensorProto.INT64,
    TensorProto.INT32,
    TensorProto.INT16,
    TensorProto.INT8,
    TensorProto.UINT64,
    TensorProto.UINT32,
    TensorProto.UINT16,
    TensorProto.UINT8,
)


@onnx_op("Cast")
def Cast(ctx: LoweringContext, input: Operand, *, to: int, saturate: int = 1) -> Result:
    """A cast to a floating type keeps the quantized value; to an integer type it rounds
    toward zero (`rounding.truncate`, free for an integer tensor); to bool it tests for
    non-zero. Other targets are refused."""
    x = computed(ctx, input, "input")
    if to in _INT_TYPES:
        from circuits.onnx.ops.rounding import truncate  # rounding builds on this module

        return truncate(ctx, x)
    if to == TensorProto.BOOL:
        from circuits.onnx.ops.rounding import nonzero

        return nonzero(ctx, x)
    if to not in _FLOAT_TYPES:
        name = TensorProto.DataType.Name(to) if to in TensorProto.DataType.values() else str(to)
        raise ctx.unsupported(f"cast of a computed tensor to {name}; only casts to floating types")
    return x
