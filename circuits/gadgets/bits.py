"""Bit decomposition: the primitive every range check, comparison and rescale rests on.

`to_bits` asks the "bits" hint for the binary digits of x, then constrains each digit to be
boolean and their weighted sum to equal x. For n <= 253 the sum is below 2^253 < r, so the
digits are the unique binary form of x's canonical value. For n = 254 the sum can exceed r
and a second representation x + r may exist; `assert_bits_le` then pins the digits to the
canonical one by comparing them with the constant r - 1.

The range checks `assert_unsigned` / `assert_signed` are one decomposition each (n + 1
constraints); the width cap of 252 bits keeps the offsets other gadgets add (x + 2^(n-1),
a - b + 2^n) far below r / 2, so no sum can wrap around the field.

The gadgets' shared precondition checks live here too, with the width cap they enforce:
every gadget validates its build-time parameters before it emits anything, so a bad bit
width or constant fails when the circuit is built, with the gadget and parameter named.
"""

from __future__ import annotations

from collections.abc import Sequence

from circuits.builder import Builder
from circuits.errors import BuildError
from circuits.field import R_BITS, R
from circuits.lc import LinearCombination, Operand

#: Widest value a range check accepts: leaves room for the offsets the gadgets add
#: (x + 2^(n-1), a - b + 2^n) without ever reaching r/2.
MAX_RANGE_BITS = 252


def require_int(gadget: str, name: str, value: object, lo: int, hi: int | None = None) -> int:
    """`value` as an int in [lo, hi] (hi None: unbounded), or BuildError naming the gadget."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise BuildError(f"{gadget}: {name} must be an int, got {type(value).__name__}")
    if value < lo or (hi is not None and value > hi):
        bounds = f"[{lo}, {hi}]" if hi is not None else f">= {lo}"
        raise BuildError(f"{gadget}: {name} = {value} is out of range {bounds}")
    return value


def require_width(gadget: str, name: str, total: int, limit: int = MAX_RANGE_BITS) -> None:
    """BuildError when a combined bit width `total` (e.g. k + q_bits) exceeds `limit`."""
    if total > limit:
        raise BuildError(f"{gadget}: {name} = {total} exceeds {limit} bits")


def as_lc(gadget: str, x: Operand) -> LinearCombination:
    """A linear combination from a linear combination or an int (signed ints encoded mod r)."""
    if isinstance(x, LinearCombination):
        return x
    if isinstance(x, int) and not isinstance(x, bool):
        return LinearCombination.constant(x % R)
    raise BuildError(f"{gadget}: expected a linear combination or an int, got {type(x).__name__}")


def _lowest_zero_bit(c: int) -> int | None:
    """Index of the least significant 0 bit of c below its top bit, or None if c = 2^m - 1."""
    for i in range(c.bit_length()):
        if not (c >> i) & 1:
            return i
    return None


def bits_le_constraints(c: int) -> int:
    """Exact constraint count of `assert_bits_le(api, bits, c)` for non-constant bits."""
    z = _lowest_zero_bit(c)
    return 0 if z is None else c.bit_length() - 1 - z


#: Constraints the alias check adds to `to_bits` when n = 254 (comparison with r - 1).
ALIAS_CHECK_CONSTRAINTS = bits_le_constraints(R - 1)


def from_bits(bits: Sequence[Operand]) -> LinearCombination:
    """sum(bits[i] * 2^i), little-endian. Free: a linear combination, no constraint."""
    terms: dict[int, int] = {}
    for i, b in enumerate(bits):
        lc = as_lc("from_bits", b)
        single = lc.single_wire()
        if single is not None and single not in terms:
            terms[single] = 1 << i  # the usual case: a fresh hint wire per digit
            continue
        for w, c in lc.terms.items():
            v = (terms.get(w, 0) + (c << i)) % R
            if v:
                terms[w] = v
            else:
                terms.pop(w, None)
    return LinearCombination(terms)


def to_bits(api: Builder, x: Operand, n: int) -> list[LinearCombination]:
    """The n little-endian bits of x (a field element), 1 <= n <= 254.

    Constraints: n (booleanity) + 1 (recomposition) for n <= 253; for n = 254 also the
    alias check, `ALIAS_CHECK_CONSTRAINTS` = 253 more (508 in all). A constant x costs
    nothing and raises BuildError when it does not fit in n bits.

    Soundness: each bit is 0 or 1 and sum(b_i 2^i) = x (mod r). For n <= 253 the sum is
    below 2^253 < r, so it is the canonical value of x and the bits are unique. For n = 254
    the sum could be x + r; the alias check forces sum <= r - 1, leaving only x itself.
    """
    n = require_int("to_bits", "n", n, 1, R_BITS)
    x = as_lc("to_bits", x)
    if x.is_constant():
        v = x.constant_value()
        if v >> n:
            raise BuildError(f"to_bits: the constant {v} does not fit in n = {n} bits")
        return [LinearCombination.constant((v >> i) & 1) for i in range(n)]
    with api.gadget("to_bits"):
        bits = api.hint("bits", [x], n, n=n)
        for b in bits:
            api.assert_bool(b)
        api.assert_equal(from_bits(bits), x)
        if n >= R_BITS:
            with api.gadget("alias"):
                assert_bits_le(api, bits, R - 1)
    return bits


def to_signed_bits(api: Builder, x: Operand, n: int) -> list[LinearCombination]:
    """Offset-binary bits of a signed n-bit x: the bits of x + 2^(n-1), 1 <= n <= 252.

    The top bit is 1 iff x >= 0, and from_bits(bits) - 2^(n-1) = x. Constraints: n + 1
    (a `to_bits` of width n). Soundness: the decomposition proves x + 2^(n-1) = v (mod r)
    with 0 <= v < 2^n, i.e. x encodes v - 2^(n-1) in [-2^(n-1), 2^(n-1)); an x outside that
    range makes the system unsatisfiable.
    """
    n = require_int("to_signed_bits", "n", n, 1, MAX_RANGE_BITS)
    return to_bits(api, as_lc("to_signed_bits", x) + (1 << (n - 1)), n)


def assert_bits_le(api: Builder, bits: Sequence[Operand], c: int) -> None:
    """Constrain the boolean little-endian `bits` to encode an integer <= the constant c.

    Preconditions: c >= 1, len(bits) = c.bit_length(), every bit already constrained
    boolean (not checked here). Constraints: `bits_le_constraints(c)`, i.e. one per bit
    position from just below the top down to the lowest 0 bit of c (none if c = 2^m - 1).

    Soundness: scanning from the top, p = "the bits so far equal c's" is kept as a product
    of the bits at c's 1 positions (p is boolean because the bits are). At a 0 position of
    c the constraint (1 - p - b) * b = 0 allows b = 1 only when p = 0, i.e. when a higher
    bit is already below c's. The first bit that differs from c is therefore always below
    it, which is exactly bits <= c. Positions under c's lowest 0 can never exceed c's bit.
    """
    c = require_int("assert_bits_le", "c", c, 1)
    if len(bits) != c.bit_length():
        raise BuildError(
            f"assert_bits_le: got {len(bits)} bits for a constant of {c.bit_length()} bits"
        )
    z = _lowest_zero_bit(c)
    if z is None:
        return
    top = len(bits) - 1
    p = as_lc("assert_bits_le", bits[top])
    for i in range(top - 1, z - 1, -1):
        b = as_lc("assert_bits_le", bits[i])
        if (c >> i) & 1:
            p = api.mul(p, b)
        else:
            api.assert_mul(1 - p - b, b, 0)


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
