"""Normalizer's MAX and L2 norms (L1 is in `ml_linear`), as onnxruntime computes them.

* MAX: each row divided by its largest value (not its largest magnitude: the spec's
  X / max(X), so a row whose maximum is negative changes sign); a row whose maximum is 0 is
  left unchanged. The maximum is `reduce.max_many`; one sign bit of it per row; per element
  a constrained rounded division by the maximum's magnitude (by 1 when it is 0, with the
  numerator switched to the element itself, so the division always has a witness).
* L2: x_i / sqrt(S), S = sum x_j^2, with no square root in the circuit: the hinted
  magnitude q of each output is proved by comparing squares,
  (2q - 1)^2 S <= x_i^2 4^(s+1) < (2q + 1)^2 S (the left side waived for q = 0), so
  q = round(|x_i| 2^s / sqrt(S)) exactly; the sign is x_i's (one signed decomposition).
  A row of zeros (S = 0) gives zeros, as in onnxruntime: S is replaced by 1 there, which
  makes every q 0.

Both are exact up to one rounding, half a step at activation scale. Both are exact for
the quantized input: MAX divides by the maximum, so a small maximum magnifies the
input's own quantization error (as in floating point, where it magnifies rounding).
"""

from __future__ import annotations

import math

from circuits.field import R, from_field
from circuits.gadgets.bits import assert_unsigned, to_signed_bits
from circuits.gadgets.compare import is_zero, less_than
from circuits.gadgets.division import div_signed
from circuits.gadgets.reduce import max_many
from circuits.hints import register_hint
from circuits.lc import LinearCombination
from circuits.onnx.context import LoweringContext
from circuits.onnx.quant import bits_for_bound
from circuits.onnx.tensor import QTensor, Value, as_lc, object_array


@register_hint("l2_magnitude")
def l2_magnitude_hint(x2: int, total: int, *, shift: int) -> list[int]:
    """The largest q with (2q - 1)^2 total <= x2 2^shift (x2 >= 0, total >= 1)."""
    a, s = from_field(x2) << shift, from_field(total)
    if a < 0 or s < 1:
        raise ValueError(f"l2 normalize: bad square {a} or sum {s}")
    return [((math.isqrt(a // s) + 1) // 2) % R]


def normalize_max(ctx: LoweringContext, x: QTensor) -> QTensor:
    """MAX norm of the rows of x (shape (N, C)), x at activation scale."""
    s, b = x.scale, ctx.builder
    n = bits_for_bound(x.bound)
    q_bits = n + s + 2
    out: list[Value] = []
    with ctx.gadget("max_normalize"):
        for row in x.values:
            xs = [as_lc(v) for v in row]
            m = as_lc(max_many(b, xs, n))
            zero = is_zero(b, m)
            divisor = m + zero  # 1 when the maximum is 0
            neg = less_than(b, divisor, 0, n + 1)
            mag = divisor - b.mul(neg, divisor) * 2
            for v in xs:
                # x 2^s, or x itself when the maximum is 0 (then the division is by 1)
                num = v * (1 << s) - b.mul(zero, v) * ((1 << s) - 1)
                num = num - b.mul(neg, num) * 2
                out.append(div_signed(b, num, mag, n + 1, q_bits))
    ctx.record_approximation(
        {"function": "max_normalize", "max_abs_error": math.ldexp(1.0, -s - 1), "method": "bound"}
    )
    bound = ctx.check_bound(x.bound << s, "the output")
    return QTensor(object_array(out, x.shape), s, bound)


def normalize_l2(ctx: LoweringContext, x: QTensor) -> QTensor:
    """L2 norm of the rows of x (shape (N, C)), x at activation scale."""
    s, b = x.scale, ctx.builder
    n = bits_for_bound(x.bound)
    shift = 2 * s + 2
    wide = (x.shape[1] * x.bound * x.bound << (shift + 2)).bit_length() + 1
    out: list[Value] = []
    with ctx.gadget("l2_normalize"):
        for row in x.values:
            xs = [as_lc(v) for v in row]
            squares = [b.mul(v, v) for v in xs]
            total = sum(squares, LinearCombination({}))
            total = total + is_zero(b, total)  # 1 for a row of zeros
            for v, x2 in zip(xs, squares, strict=True):
                sign = to_signed_bits(b, v, n)[n - 1]  # 1 iff x >= 0
                (q,) = b.hint("l2_magnitude", [x2, total], 1, shift=shift)
                assert_unsigned(b, q, s + 1)
                q4 = b.mul(q, q) * 4
                target = x2 * (1 << shift)
                waive = b.mul(is_zero(b, q), total)  # q = 0 has no lower bound
                assert_unsigned(b, target - b.mul(q4 - q * 4 + 1, total) + waive, wide)
                assert_unsigned(b, b.mul(q4 + q * 4 + 1, total) - target - 1, wide)
                out.append(b.mul(sign, q) * 2 - q)
    ctx.record_approximation(
        {"function": "l2_normalize", "max_abs_error": math.ldexp(1.0, -s - 1), "method": "bound"}
    )
    return QTensor(object_array(out, x.shape), s, 1 << s)
