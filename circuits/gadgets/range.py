"""Range checks: prove that a wire holds a small unsigned or signed integer.

Both checks are a single bit decomposition, so they cost n + 1 constraints. The width is
capped at 252 bits so that the offsets other gadgets add (x + 2^(n-1), a - b + 2^n) stay
far below r / 2 and no sum can wrap around the field.
"""

from __future__ import annotations

from circuits.builder import Builder
from circuits.gadgets.bits import MAX_RANGE_BITS, as_lc, require_int, to_bits, to_signed_bits
from circuits.lc import Operand


def assert_unsigned(api: Builder, x: Operand, n: int) -> None:
    """Constrain 0 <= x < 2^n, 1 <= n <= 252.

    Constraints: n + 1 (a `to_bits` of width n); none for a constant x, which must fit
    (BuildError otherwise). Soundness: x equals a sum of n boolean digits, an integer in
    [0, 2^n) that is below r, so x's canonical value is in that range.
    """
    n = require_int("assert_unsigned", "n", n, 1, MAX_RANGE_BITS)
    x = as_lc("assert_unsigned", x)
    with api.gadget("assert_unsigned"):
        to_bits(api, x, n)


def assert_signed(api: Builder, x: Operand, n: int) -> None:
    """Constrain -2^(n-1) <= x < 2^(n-1) for a signed x encoded as x mod r, 1 <= n <= 252.

    Constraints: n + 1. Soundness: x + 2^(n-1) is proved to be an n-bit unsigned integer v,
    so x encodes v - 2^(n-1), which lies in the signed range (see `to_signed_bits`).
    """
    n = require_int("assert_signed", "n", n, 1, MAX_RANGE_BITS)
    x = as_lc("assert_signed", x)
    with api.gadget("assert_signed"):
        to_signed_bits(api, x, n)
