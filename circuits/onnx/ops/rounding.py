"""Rounding to integers and the sign: Floor, Ceil, Round, Sign.

Each returns exact integers at scale 0, so consumers see no rounding error of their own.
For x at scale s (x stands for x / 2^s) and q_bits the signed width of the result:

* Floor: `fixed_point.rescale(x, s)`: s + q_bits + 1 constraints per element;
* Ceil: -floor(-x), the same cost;
* Round (half to even, as ONNX): q = floor((x + 2^(s-1)) / 2^s) and its parity from a
  second rescale by 2^(s+1); a tie (x + 2^(s-1) a multiple of 2^s: `is_zero` of the
  remainder) with odd q steps down by one (one product). About 2 (s + q_bits) + 5;
* Sign: [x < 0] from one decomposition and [x = 0] from `is_zero`: n + 4 (n the input's
  width), output 1 - 2 [x < 0] - [x = 0].

An input already at scale 0 (an integer tensor) passes through Floor, Ceil and Round free.
"""

from __future__ import annotations

import numpy as np

from circuits.builder import Builder
from circuits.field import R, from_field
from circuits.gadgets.bits import assert_signed, assert_unsigned
from circuits.gadgets.compare import is_zero, less_than
from circuits.gadgets.fixed_point import rescale
from circuits.hints import register_hint
from circuits.lc import LinearCombination
from circuits.onnx.context import LoweringContext
from circuits.onnx.ops.arith import computed
from circuits.onnx.quant import bits_for_bound
from circuits.onnx.registry import onnx_op
from circuits.onnx.tensor import Operand, QTensor, Result, Value, as_lc, object_array


def floor_values(ctx: LoweringContext, x: QTensor, offset: int = 0, extra: int = 0) -> QTensor:
    """floor((x + offset) / 2^(s + extra)) at scale 0 (s = x.scale)."""
    k = x.scale + extra
    bound = ((x.bound + abs(offset)) >> k) + 1
    q_bits = bits_for_bound(bound)
    b = ctx.builder

    def one(v: Value) -> Value:
        if isinstance(v, int):
            return (v + offset) >> k
        return rescale(b, v + offset, k, q_bits)

    with ctx.gadget("floor"):
        return x.map(one, scale=0, bound=bound)


@onnx_op("Floor")
def Floor(ctx: LoweringContext, X: Operand) -> Result:
    x = computed(ctx, X, "X")
    return x if x.scale == 0 else floor_values(ctx, x)


@onnx_op("Ceil")
def Ceil(ctx: LoweringContext, X: Operand) -> Result:
    x = computed(ctx, X, "X")
    if x.scale == 0:
        return x
    neg = floor_values(ctx, x.with_values(np.asarray(-x.values, dtype=object)))
    return neg.with_values(np.asarray(-neg.values, dtype=object))


@onnx_op("Round")
def Round(ctx: LoweringContext, X: Operand) -> Result:
    """Round half to even (numpy's and ONNX's rule)."""
    x = computed(ctx, X, "X")
    s = x.scale
    if s == 0:
        return x
    half = 1 << (s - 1)
    q = floor_values(ctx, x, half)
    q2 = floor_values(ctx, x, half, extra=1)
    b = ctx.builder
    out: list[Value] = []
    for v, a, a2 in zip(x.flat(), q.flat(), q2.flat(), strict=True):
        if isinstance(v, int):
            out.append(int(np.round(v / (1 << s))))
            continue
        rem = as_lc(v) + half - as_lc(a) * (1 << s)
        odd = as_lc(a) - as_lc(a2) * 2  # 0 or 1: the low bit of a, exactly
        with ctx.gadget("ties_to_even"):
            out.append(as_lc(a) - b.mul(is_zero(b, rem), odd))
    return QTensor(object_array(out, x.shape), 0, q.bound)


@onnx_op("Sign")
def Sign(ctx: LoweringContext, input: Operand) -> Result:
    x = computed(ctx, input, "input")
    n = bits_for_bound(x.bound)
    b = ctx.builder

    def one(v: Value) -> Value:
        if isinstance(v, int):
            return (v > 0) - (v < 0)
        return 1 - 2 * less_than(b, v, 0, n) - is_zero(b, v)

    with ctx.gadget("sign"):
        return x.map(one, scale=0, bound=1)


def truncate(ctx: LoweringContext, x: QTensor) -> QTensor:
    """x rounded toward zero (a cast to an integer type) at scale 0: floor(x), plus one
    where x is negative and not an integer ([x < 0] from one decomposition, [fraction
    = 0] from `is_zero`, one product)."""
    if x.scale == 0:
        return x
    f = floor_values(ctx, x)
    n, b = bits_for_bound(x.bound), ctx.builder
    out: list[Value] = []
    with ctx.gadget("truncate"):
        for v, q in zip(x.flat(), f.flat(), strict=True):
            if isinstance(v, int):
                out.append(int(v / (1 << x.scale)))
                continue
            neg = less_than(b, v, 0, n)
            exact = is_zero(b, as_lc(v) - as_lc(q) * (1 << x.scale))
            out.append(as_lc(q) + b.mul(neg, 1 - exact))
    return QTensor(object_array(out, x.shape), 0, f.bound)


def nonzero(ctx: LoweringContext, x: QTensor) -> QTensor:
    """[x != 0] (a cast to bool): 1 - `is_zero`, 2 constraints per element."""
    b = ctx.builder

    def one(v: Value) -> Value:
        return int(v != 0) if isinstance(v, int) else 1 - is_zero(b, v)

    with ctx.gadget("nonzero"):
        return x.map(one, scale=0, bound=1)


def int_divide(ctx: LoweringContext, a: QTensor, d: QTensor) -> QTensor:
    """a / d for integer tensors (scale 0), truncated toward zero as ONNX's integer Div.

    Per element, with t = [d < 0] (a decomposition; free for a constant d), |d| and
    a' = sign(d) a (one product each for a computed d): the hinted floor q = floor(a' / |d|)
    is pinned by 0 <= a' - |d| q < |d| (two range checks); then q + [a' < 0] [remainder
    != 0] rounds toward zero (`less_than`, `is_zero`, one product)."""
    n = bits_for_bound(max(a.bound, d.bound)) + 1
    av, dv = np.broadcast_arrays(a.values, d.values)
    b = ctx.builder
    out: list[Value] = []
    with ctx.gadget("int_divide"):
        for u, v in zip(av.reshape(-1), dv.reshape(-1), strict=True):
            if isinstance(v, int) and v == 0:
                raise ctx.error("integer division by a constant zero")
            if isinstance(u, int) and isinstance(v, int):
                out.append(int(u / v))
                continue
            out.append(_trunc_div(b, as_lc(u), v, n))
    return QTensor(object_array(out, av.shape), 0, a.bound)


def _trunc_div(b: Builder, u: LinearCombination, v: Value, n: int) -> LinearCombination:
    mag: Value
    if isinstance(v, int):
        mag, num = abs(v), u * (1 if v > 0 else -1)
    else:
        t = less_than(b, v, 0, n)
        mag = as_lc(v) - b.mul(t, v) * 2
        num = u - b.mul(t, u) * 2
    (q,) = b.hint("floor_div_var", [num, mag], 1)
    r = num - (b.mul(q, mag) if not isinstance(mag, int) else q * mag)
    assert_unsigned(b, r, n)
    assert_unsigned(b, mag - 1 - r, n)
    assert_signed(b, q, n + 1)
    neg = less_than(b, num, 0, n + 1)
    return q + b.mul(neg, 1 - is_zero(b, r))


@register_hint("floor_div_var")
def floor_div_hint(a: int, d: int) -> list[int]:
    """floor(a / d) for signed a and d > 0 (0 otherwise: no witness then)."""
    den = from_field(d)
    return [(from_field(a) // den) % R if den > 0 else 0]
