"""Comparisons, boolean logic and selection: Equal, Greater, GreaterOrEqual, Less,
LessOrEqual, Not, And, Or, Xor, Where.

A boolean tensor is a `QTensor` at scale 0 with bound 1 whose elements are 0 or 1: every
producer here pins that (a comparison bit comes out of a bit decomposition or `is_zero`;
Not, And, Or, Xor of booleans are booleans by arithmetic), and a boolean model input is
asserted boolean by the compiler. Costs per element:

* Equal: 2 constraints (`is_zero` of the difference);
* Less / Greater / LessOrEqual / GreaterOrEqual: n + 2, n the signed width of both
  operands at their common scale (one decomposition of the difference);
* Not: free; And, Or, Xor: 1 product;
* Where: 1 product (`select`), none when the condition or both branches are constant.

Comparisons work at the finer scale of the two operands (a constant is quantized there),
so they see the same order the quantized values have: values closer than one step of that
scale may compare differently from float32.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from circuits.builder import Builder
from circuits.gadgets.compare import is_equal, less_than
from circuits.gadgets.select import select
from circuits.onnx.context import LoweringContext
from circuits.onnx.quant import bits_for_bound
from circuits.onnx.registry import onnx_op
from circuits.onnx.tensor import Operand, QTensor, Result, Value, as_lc, int_array, object_array

Cmp = Callable[[Builder, Value, Value, int], Value]


def operands(ctx: LoweringContext, A: Operand, B: Operand) -> tuple[QTensor, QTensor]:
    """A and B as QTensors at one scale (the finer computed one; a constant quantized
    there, booleans and integers exactly)."""
    if A is None or B is None:
        raise ctx.error("both inputs are required")
    scale = max(t.scale for t in (A, B) if isinstance(t, QTensor))

    def conv(t: QTensor | np.ndarray) -> QTensor:
        if isinstance(t, QTensor):
            return ctx.upscale(t, scale)
        return ctx.const(np.asarray(t, dtype=np.float64), scale)

    return conv(A), conv(B)


def _compare(ctx: LoweringContext, A: Operand, B: Operand, fn: Cmp) -> QTensor:
    a, b = operands(ctx, A, B)
    n = bits_for_bound(max(a.bound, b.bound))
    av, bv = np.broadcast_arrays(a.values, b.values)
    api = ctx.builder
    out = [_fold(fn(api, x, y, n)) for x, y in zip(av.reshape(-1), bv.reshape(-1), strict=True)]
    return QTensor(object_array(out, av.shape), 0, 1)


def _fold(v: Value) -> Value:
    lc = as_lc(v)
    return lc.constant_value() if lc.is_constant() else lc


def _lt(api: Builder, a: Value, b: Value, n: int) -> Value:
    if isinstance(a, int) and isinstance(b, int):
        return int(a < b)
    return less_than(api, a, b, n)


def _eq(api: Builder, a: Value, b: Value, n: int) -> Value:
    if isinstance(a, int) and isinstance(b, int):
        return int(a == b)
    return is_equal(api, a, b)


@onnx_op("Equal")
def Equal(ctx: LoweringContext, A: Operand, B: Operand) -> Result:
    return _compare(ctx, A, B, _eq)


@onnx_op("Less")
def Less(ctx: LoweringContext, A: Operand, B: Operand) -> Result:
    return _compare(ctx, A, B, _lt)


@onnx_op("Greater")
def Greater(ctx: LoweringContext, A: Operand, B: Operand) -> Result:
    return _compare(ctx, B, A, _lt)


@onnx_op("LessOrEqual")
def LessOrEqual(ctx: LoweringContext, A: Operand, B: Operand) -> Result:
    return _negate(_compare(ctx, B, A, _lt))


@onnx_op("GreaterOrEqual")
def GreaterOrEqual(ctx: LoweringContext, A: Operand, B: Operand) -> Result:
    return _negate(_compare(ctx, A, B, _lt))


def _negate(t: QTensor) -> QTensor:
    return QTensor(np.asarray(1 - t.values, dtype=object), 0, 1)


# boolean logic ----------------------------------------------------------------------------
def boolean(ctx: LoweringContext, x: Operand, what: str) -> QTensor:
    """x as a boolean QTensor: a computed boolean (scale 0, bound 1) or a constant of 0/1."""
    if isinstance(x, QTensor):
        if x.scale != 0 or x.bound > 1:
            raise ctx.error(
                f"input {what!r} must be boolean (a comparison or a bool input), but it has "
                f"scale {x.scale} and bound {x.bound}"
            )
        return x
    arr = ctx.const_input(x, what)
    return QTensor(int_array(np.asarray(arr).astype(bool).astype(np.int64)), 0, 1)


def _logic(
    ctx: LoweringContext, A: Operand, B: Operand, f: Callable[[Value, Value], Value]
) -> Result:
    a, b = boolean(ctx, A, "A"), boolean(ctx, B, "B")
    av, bv = np.broadcast_arrays(a.values, b.values)
    out = [f(x, y) for x, y in zip(av.reshape(-1), bv.reshape(-1), strict=True)]
    return QTensor(object_array(out, av.shape), 0, 1)


def _and(api: Builder) -> Callable[[Value, Value], Value]:
    def f(x: Value, y: Value) -> Value:
        if isinstance(x, int) or isinstance(y, int):
            return x * y  # a constant factor: free
        return api.mul(x, y)

    return f


@onnx_op("Not")
def Not(ctx: LoweringContext, X: Operand) -> Result:
    return _negate(boolean(ctx, X, "X"))


@onnx_op("And")
def And(ctx: LoweringContext, A: Operand, B: Operand) -> Result:
    return _logic(ctx, A, B, _and(ctx.builder))


@onnx_op("Or")
def Or(ctx: LoweringContext, A: Operand, B: Operand) -> Result:
    conj = _and(ctx.builder)
    return _logic(ctx, A, B, lambda x, y: _fold(as_lc(x) + y - conj(x, y)))


@onnx_op("Xor")
def Xor(ctx: LoweringContext, A: Operand, B: Operand) -> Result:
    conj = _and(ctx.builder)
    return _logic(ctx, A, B, lambda x, y: _fold(as_lc(x) + y - 2 * as_lc(conj(x, y))))


@onnx_op("Where")
def Where(ctx: LoweringContext, condition: Operand, X: Operand, Y: Operand) -> Result:
    """cond ? X : Y at the finer scale of X and Y; one product per element."""
    c = boolean(ctx, condition, "condition")
    if not isinstance(X, QTensor) and not isinstance(Y, QTensor):
        # both branches constant: quantized at activation scale, chosen by a free blend
        X, Y = ctx.as_qtensor(np.asarray(X, dtype=np.float64)), np.asarray(Y, dtype=np.float64)
    x, y = operands(ctx, X, Y)
    cv, xv, yv = np.broadcast_arrays(c.values, x.values, y.values)
    api = ctx.builder

    def one(k: Value, u: Value, v: Value) -> Value:
        if isinstance(k, int):
            return u if k else v
        if isinstance(u, int) and isinstance(v, int):
            return _fold(as_lc(k) * (u - v) + v)
        return select(api, k, u, v)

    flat = zip(cv.reshape(-1), xv.reshape(-1), yv.reshape(-1), strict=True)
    out = [one(k, u, v) for k, u, v in flat]
    return QTensor(object_array(out, cv.shape), x.scale, max(x.bound, y.bound))
