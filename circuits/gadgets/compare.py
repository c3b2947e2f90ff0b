"""Equality and ordering of field elements read as signed integers.

Comparisons never trust their inputs to be in range: `less_than` decomposes the difference
a - b + 2^n itself, so the answer is pinned by constraints whatever the prover supplies.
The result is a wire that is 0 or 1 by construction (a constrained bit or 1 minus one),
fit to drive `select` without a further booleanity check.
"""

from __future__ import annotations

from circuits.builder import Builder
from circuits.gadgets.bits import MAX_RANGE_BITS, as_lc, require_int, to_bits
from circuits.lc import LinearCombination, Operand


def is_zero(api: Builder, x: Operand) -> LinearCombination:
    """1 if x = 0 else 0.

    Constraints: 2 (none for a constant x). The "is_zero" hint returns (out, inv) and
    the gadget constrains x * inv = 1 - out and x * out = 0. Soundness: if x != 0 the second
    forces out = 0 (and the first then needs inv = 1/x); if x = 0 the first reads
    0 = 1 - out, so out = 1. Either way out is the right bit and the prover has no choice.
    """
    x = as_lc("is_zero", x)
    if x.is_constant():
        return LinearCombination.constant(0 if x.constant_value() else 1)
    with api.gadget("is_zero"):
        out, inv = api.hint("is_zero", [x], 2)
        api.assert_mul(x, inv, 1 - out)
        api.assert_mul(x, out, 0)
    return out


def is_equal(api: Builder, a: Operand, b: Operand) -> LinearCombination:
    """1 if a = b else 0: `is_zero(a - b)`, 2 constraints (none if a - b is constant)."""
    d = as_lc("is_equal", a) - as_lc("is_equal", b)
    with api.gadget("is_equal"):
        return is_zero(api, d)


def less_than(api: Builder, a: Operand, b: Operand, n: int) -> LinearCombination:
    """1 if a < b else 0, for signed a, b in [-2^(n-1), 2^(n-1)); 1 <= n <= 252.

    Constraints: n + 2 (the n + 1 bits of a - b + 2^n and their recomposition); none when
    a - b is a constant. The result is 1 - bit_n, a boolean.

    Soundness: the decomposition proves a - b + 2^n = v (mod r) with 0 <= v < 2^(n+1), i.e.
    a - b encodes d = v - 2^n in [-2^n, 2^n), and bit_n = 1 exactly when d >= 0. For inputs
    in the signed n-bit range, d is the true difference, so the result is a < b, and the
    witness is unique. The gadget does not need a and b range-checked: for any inputs of
    magnitude at most 2^252 the system is satisfiable only if -2^n <= a - b < 2^n, and the
    result is then still the true a < b (the difference cannot wrap modulo r).
    """
    n = require_int("less_than", "n", n, 1, MAX_RANGE_BITS)
    d = as_lc("less_than", a) - as_lc("less_than", b)
    with api.gadget("less_than"):
        bits = to_bits(api, d + (1 << n), n + 1)
    return 1 - bits[n]


def less_or_equal(api: Builder, a: Operand, b: Operand, n: int) -> LinearCombination:
    """1 if a <= b else 0: 1 - less_than(b, a). Same preconditions and soundness as
    `less_than`; n + 2 constraints."""
    n = require_int("less_or_equal", "n", n, 1, MAX_RANGE_BITS)
    with api.gadget("less_or_equal"):
        return 1 - less_than(api, b, a, n)


def assert_less_than(api: Builder, a: Operand, b: Operand, n: int) -> None:
    """Constrain a < b for signed a, b in [-2^(n-1), 2^(n-1)); 1 <= n <= 252.

    Constraints: n + 1 (b - a - 1 is an n-bit unsigned integer). Soundness: the check proves
    b - a = 1 + u with 0 <= u < 2^n. For inputs of magnitude at most 2^252 that is the
    integer identity b - a in [1, 2^n], which implies a < b; conversely every in-range pair
    with a < b has b - a - 1 in [0, 2^n - 1) and passes.
    """
    n = require_int("assert_less_than", "n", n, 1, MAX_RANGE_BITS)
    d = as_lc("assert_less_than", b) - as_lc("assert_less_than", a) - 1
    with api.gadget("assert_less_than"):
        to_bits(api, d, n)


def assert_less_or_equal(api: Builder, a: Operand, b: Operand, n: int) -> None:
    """Constrain a <= b for signed n-bit a, b: b - a is an n-bit unsigned integer (n + 1
    constraints; soundness as `assert_less_than`, with b - a in [0, 2^n))."""
    n = require_int("assert_less_or_equal", "n", n, 1, MAX_RANGE_BITS)
    d = as_lc("assert_less_or_equal", b) - as_lc("assert_less_or_equal", a)
    with api.gadget("assert_less_or_equal"):
        to_bits(api, d, n)
