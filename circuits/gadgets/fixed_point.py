"""Fixed-point arithmetic: rescaling products back to the working scale, ReLU, division.

A product of two values at scale 2^k sits at scale 2^(2k) and must be divided by 2^k. The
division is floor division of a signed value, and both its parts are checked in
constraints: the remainder lies in [0, 2^k) and the quotient in the signed q_bits range.
Checking the remainder only while computing the witness would let a prover choose
q' = q - t with remainder rem + t 2^k (the recomposition still holds in the field) and
shift any output at will; here both parts are bits of one decomposition, so that choice
does not exist.
"""

from __future__ import annotations

from circuits.builder import Builder
from circuits.errors import BuildError
from circuits.field import from_field
from circuits.gadgets.bits import (
    MAX_RANGE_BITS,
    as_lc,
    assert_signed,
    assert_unsigned,
    from_bits,
    require_int,
    require_width,
    to_bits,
)
from circuits.lc import LinearCombination, Operand


def _split(
    api: Builder, gadget: str, x: Operand, k: int, q_bits: int
) -> tuple[LinearCombination, LinearCombination]:
    """(q, s): q = floor(x / 2^k) range checked to q_bits signed bits, s = [q >= 0]."""
    k = require_int(gadget, "k", k, 0, MAX_RANGE_BITS - 1)
    q_bits = require_int(gadget, "q_bits", q_bits, 1, MAX_RANGE_BITS)
    require_width(gadget, "k + q_bits", k + q_bits)
    width = k + q_bits
    bits = to_bits(api, as_lc(gadget, x) + (1 << (width - 1)), width)
    q = from_bits(bits[k:]) - (1 << (q_bits - 1))
    return q, bits[width - 1]


def rescale(api: Builder, x: Operand, k: int, q_bits: int) -> LinearCombination:
    """q = floor(x / 2^k) for a signed x, with q in [-2^(q_bits-1), 2^(q_bits-1)).

    Preconditions: k >= 0, q_bits >= 1, k + q_bits <= 252.
    Constraints: exactly k + q_bits + 1: x + 2^(k+q_bits-1) is decomposed into k + q_bits
    bits (booleanity of each, one recomposition); none for a constant x.

    Soundness: the decomposition proves x + 2^(k+q_bits-1) = rem + 2^k u (mod r) with
    rem in [0, 2^k) (the low k bits) and u in [0, 2^q_bits) (the high bits), so
    x = 2^k q + rem (mod r) with q = u - 2^(q_bits-1). The right side lies in
    [-2^(k+q_bits-1), 2^(k+q_bits-1)), well inside (-r/2, r/2), so it is the signed value of
    x and q = floor(x / 2^k). The digits are unique, hence so are q and rem; an x whose
    quotient overflows q_bits has no witness.
    """
    with api.gadget("rescale"):
        q, _ = _split(api, "rescale", x, k, q_bits)
    return q


def rescale_relu(
    api: Builder, x: Operand, k: int, q_bits: int
) -> tuple[LinearCombination, LinearCombination]:
    """(q, max(q, 0)) with q = floor(x / 2^k), preconditions as `rescale`.

    Constraints: k + q_bits + 2: `rescale`'s decomposition plus relu = s * q, where s, the
    top bit of the decomposition, is 1 exactly when q >= 0 (u >= 2^(q_bits-1)). Soundness:
    as `rescale`; s is a constrained bit with that meaning, so s * q is relu(q).
    """
    with api.gadget("rescale_relu"):
        q, s = _split(api, "rescale_relu", x, k, q_bits)
        return q, api.mul(s, q)


def round_rescale(api: Builder, x: Operand, k: int, q_bits: int) -> LinearCombination:
    """x / 2^k rounded half up: floor((x + 2^(k-1)) / 2^k) (x itself when k = 0).

    Preconditions and constraints as `rescale` (the offset is free); the rounded quotient
    must fit q_bits signed bits. Soundness: `rescale` applied to x + 2^(k-1).
    """
    k = require_int("round_rescale", "k", k, 0, MAX_RANGE_BITS - 1)
    offset = (1 << (k - 1)) if k else 0
    with api.gadget("round_rescale"):
        q, _ = _split(api, "round_rescale", as_lc("round_rescale", x) + offset, k, q_bits)
    return q


def relu(api: Builder, x: Operand, n: int) -> LinearCombination:
    """max(x, 0) for a signed x in [-2^(n-1), 2^(n-1)); 1 <= n <= 252.

    Constraints: n + 2: x + 2^(n-1) is decomposed into n bits (n + 1, which also range
    checks x) and out = s * x with s, the top bit, 1 exactly when x >= 0.
    Soundness: as `rescale` with k = 0: s is a constrained bit meaning x >= 0.
    """
    n = require_int("relu", "n", n, 1, MAX_RANGE_BITS)
    with api.gadget("relu"):
        x = as_lc("relu", x)
        _, s = _split(api, "relu", x, 0, n)
        return api.mul(s, x)


def div_floor_const(api: Builder, x: Operand, d: int, q_bits: int) -> LinearCombination:
    """q = floor(x / d) for a signed x and a positive integer constant d.

    Preconditions: d >= 1, q_bits >= 1, q_bits + m <= 252 with m = (d - 1).bit_length().
    A power of two d = 2^k is `rescale(x, k, q_bits)`: k + q_bits + 1 constraints.
    Otherwise 2 m + q_bits + 3 constraints: the "floor_div_const" hint supplies q, the
    remainder rem = x - d q is a free linear combination, and three range checks follow:
    rem in [0, 2^m) (m + 1), d - 1 - rem in [0, 2^m) (m + 1), q signed q_bits (q_bits + 1).

    A constant x costs nothing (BuildError if its quotient overflows q_bits).

    Soundness: the checks give 0 <= rem <= d - 1 and |q| <= 2^(q_bits-1), so
    |d q + rem| < 2^(q_bits-1+m) + 2^m < r / 2 and x = d q + rem is an integer identity:
    q is floor(x / d), the only value the constraints accept.
    """
    d = require_int("div_floor_const", "d", d, 1)
    q_bits = require_int("div_floor_const", "q_bits", q_bits, 1, MAX_RANGE_BITS)
    m = (d - 1).bit_length()
    require_width("div_floor_const", "q_bits + bit length of d - 1", q_bits + m)
    if d & (d - 1) == 0:
        with api.gadget("div_floor_const"):
            return rescale(api, x, m, q_bits)
    x = as_lc("div_floor_const", x)
    if x.is_constant():
        return _div_constant(x.constant_value(), d, q_bits)
    with api.gadget("div_floor_const"):
        (q,) = api.hint("floor_div_const", [x], 1, d=d)
        rem = x - q * d
        assert_unsigned(api, rem, m)
        assert_unsigned(api, d - 1 - rem, m)
        assert_signed(api, q, q_bits)
    return q


def _div_constant(x: int, d: int, q_bits: int) -> LinearCombination:
    q = from_field(x) // d
    if not -(1 << (q_bits - 1)) <= q < 1 << (q_bits - 1):
        raise BuildError(
            f"div_floor_const: the constant quotient {q} does not fit q_bits = {q_bits}"
        )
    return LinearCombination.constant(q)
