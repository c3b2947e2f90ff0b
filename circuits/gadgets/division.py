"""Division by computed values and integer square roots, each proved by a remainder check.

* `div_signed`: round(a / b) (half up) for a signed a and a positive computed b: the
  quotient shifted by K = 2^(q_bits-1) is `reduce.div_round` of a + K b, so a signed
  quotient costs nothing more than an unsigned one.
* `div_any_sign`: round(a / b) for a b of either sign (b = 0 has no witness): the sign
  bit of b from one decomposition, then `div_signed` of the sign-corrected operands.
* `div_round_even`: round(a / b) with ties to even (as onnxruntime's quantizers round): the
  half-up quotient, less one exactly when the remainder shows a tie and that quotient is odd.
* `isqrt`: y = floor(sqrt(x)) for 0 <= x < 2^n, proved by y^2 <= x < (y + 1)^2.

The hints only propose; every value is pinned by the constraints listed with each gadget.
"""

from __future__ import annotations

import math

from circuits.builder import Builder
from circuits.errors import BuildError
from circuits.field import R, from_field
from circuits.gadgets.bits import MAX_RANGE_BITS, as_lc, assert_unsigned, require_int, to_bits
from circuits.gadgets.compare import is_zero, less_than
from circuits.gadgets.reduce import div_round
from circuits.hints import register_hint
from circuits.lc import LinearCombination, Operand


@register_hint("isqrt_floor")
def isqrt_hint(x: int) -> list[int]:
    """floor(sqrt(x)) for x read as a signed integer (0 for a negative x: no witness then)."""
    v = from_field(x)
    return [math.isqrt(v) % R if v >= 0 else 0]


def div_signed(api: Builder, a: Operand, b: Operand, b_bits: int, q_bits: int) -> LinearCombination:
    """round(a / b) (half up) for 1 <= b < 2^b_bits and a signed quotient in
    [-2^(q_bits-1), 2^(q_bits-1)).

    Constraints: as `reduce.div_round` (1 + 2 (b_bits + 2) + q_bits + 1). Soundness: with
    K = 2^(q_bits-1), round((a + K b) / b) = round(a / b) + K exactly (K b / b = K is an
    integer), and `div_round` proves the left side lies in [0, 2^q_bits) and is the
    rounded quotient; subtracting K is free and exact."""
    q_bits = require_int("div_signed", "q_bits", q_bits, 2, MAX_RANGE_BITS)
    k = 1 << (q_bits - 1)
    a_lc, b_lc = as_lc("div_signed", a), as_lc("div_signed", b)
    with api.gadget("div_signed"):
        return div_round(api, a_lc + b_lc * k, b_lc, b_bits, q_bits) - k


def div_any_sign(
    api: Builder, a: Operand, b: Operand, b_bits: int, q_bits: int
) -> LinearCombination:
    """round(a / b) for a signed b with 1 <= |b| < 2^(b_bits-1) (a b of 0 has no witness);
    halves round up (toward +inf) for b > 0 and toward -inf for b < 0.

    Constraints: b_bits + 2 (t = [b < 0]), 2 products (t b and t a) and `div_signed`'s.
    Soundness: t is a constrained bit (`less_than`); |b| = b - 2 t b and the numerator
    a - 2 t a = sign(b) a are then exact, and round(sign(b) a / |b|) = round(a / b) up to
    the direction of ties."""
    a_lc, b_lc = as_lc("div_any_sign", a), as_lc("div_any_sign", b)
    with api.gadget("div_any_sign"):
        t = less_than(api, b_lc, 0, b_bits)
        mag = b_lc - api.mul(t, b_lc) * 2
        num = a_lc - api.mul(t, a_lc) * 2
        return div_signed(api, num, mag, b_bits, q_bits)


def div_round_even(
    api: Builder, a: Operand, b: Operand, b_bits: int, q_bits: int
) -> LinearCombination:
    """round(a / b) with ties to even, for 1 <= b < 2^b_bits and a signed quotient in
    [-2^(q_bits-1), 2^(q_bits-1) - 1).

    Constraints: 1 (q b) + 2 (b_bits + 2) (the remainder's two range checks) + q_bits + 1
    (q's bits) + 2 (`is_zero` of the remainder) + 1 (tie times parity). Soundness: with
    K = 2^(q_bits-1) (even, so shifting keeps parity), q = round_half_up((a + K b) / b) is
    pinned exactly as in `reduce.div_round` by 2(a + K b) + b = 2 b q + r, 0 <= r < 2b and
    0 <= q < 2^q_bits; a tie a / b = m + 1/2 is exactly r = 0 (then q = m + 1), so
    q - [r = 0] q_0 - K, with q_0 the proved low bit of q, is the even neighbour on a tie
    and the half-up quotient otherwise; a b of 0 has no witness."""
    q_bits = require_int("div_round_even", "q_bits", q_bits, 2, MAX_RANGE_BITS)
    if b_bits + q_bits + 2 > 250:
        raise BuildError(f"div_round_even: b_bits {b_bits} + q_bits {q_bits} too wide")
    k = 1 << (q_bits - 1)
    a_lc, b_lc = as_lc("div_round_even", a), as_lc("div_round_even", b)
    num = a_lc + b_lc * k
    with api.gadget("div_round_even"):
        (q,) = api.hint("div_round_var", [num, b_lc], 1)
        r = num * 2 + b_lc - api.mul(q, b_lc) * 2
        assert_unsigned(api, r, b_bits + 1)
        assert_unsigned(api, b_lc * 2 - 1 - r, b_bits + 1)
        bits = to_bits(api, q, q_bits)
        tie = is_zero(api, r)
        return q - api.mul(tie, bits[0]) - k


def isqrt(api: Builder, x: Operand, n: int) -> LinearCombination:
    """floor(sqrt(x)) for 0 <= x < 2^n, 2 <= n <= 250.

    Constraints: (n + 1) // 2 + 2 (y's range), 1 (y^2), n + 1 (x - y^2 in [0, 2^n)) and
    n + 2 ((y + 1)^2 - 1 - x in [0, 2^(n+1))); none for a constant x. Soundness: y is
    range-checked below 2^((n+1)//2 + 1), so y^2 and every difference are far below r / 2
    and the two range checks are integer inequalities y^2 <= x <= y^2 + 2y, i.e.
    y^2 <= x < (y + 1)^2, which only floor(sqrt(x)) satisfies; a negative x has no
    witness."""
    n = require_int("isqrt", "n", n, 2, 250)
    x_lc = as_lc("isqrt", x)
    if x_lc.is_constant():
        v = from_field(x_lc.constant_value())
        if v < 0:
            raise BuildError(f"isqrt of the negative constant {v}")
        return LinearCombination.constant(math.isqrt(v))
    y_bits = (n + 1) // 2 + 1
    with api.gadget("isqrt"):
        (y,) = api.hint("isqrt_floor", [x_lc], 1)
        assert_unsigned(api, y, y_bits)
        sq = api.mul(y, y)
        assert_unsigned(api, x_lc - sq, n)
        assert_unsigned(api, sq + y * 2 - x_lc, n + 1)
    return y
