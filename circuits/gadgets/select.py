"""Selection and the piecewise-linear functions built on it: max, min, abs, clamp.

`select` is one multiplication, b + cond * (a - b). It does not assert that cond is
boolean, because the conditions it is meant for come out of `is_zero`, `less_than` or a bit
decomposition, which already pin them to 0 or 1; a condition of any other origin must be
passed through `api.assert_bool` first (1 more constraint).
"""

from __future__ import annotations

from circuits.builder import Builder
from circuits.errors import BuildError
from circuits.gadgets.bits import MAX_RANGE_BITS, as_lc, require_int, to_signed_bits
from circuits.gadgets.compare import less_than
from circuits.lc import LinearCombination, Operand


def select(api: Builder, cond: Operand, a: Operand, b: Operand) -> LinearCombination:
    """a if cond = 1, b if cond = 0.

    Precondition: cond is boolean; it is NOT asserted here (see the module docstring). A
    constant cond must be 0 or 1 (BuildError otherwise).

    Constraints: 1 (out = b + cond * (a - b)); none when cond or a - b is constant.
    Soundness: with cond in {0, 1} the product is 0 or a - b, so out is b or a exactly.
    """
    cond = as_lc("select", cond)
    a, b = as_lc("select", a), as_lc("select", b)
    if cond.is_constant() and cond.constant_value() not in (0, 1):
        raise BuildError(f"select: the constant condition {cond.constant_value()} is not 0 or 1")
    with api.gadget("select"):
        return b + api.mul(cond, a - b)


def max_(api: Builder, a: Operand, b: Operand, n: int) -> LinearCombination:
    """max(a, b) for signed a, b in [-2^(n-1), 2^(n-1)); 1 <= n <= 252.

    Constraints: n + 3 (`less_than` n + 2, `select` 1). Soundness: the comparison bit is
    pinned by `less_than`, which is sound on its own, and `select` is exact for a boolean.
    """
    n = require_int("max", "n", n, 1, MAX_RANGE_BITS)
    with api.gadget("max"):
        return select(api, less_than(api, a, b, n), b, a)


def min_(api: Builder, a: Operand, b: Operand, n: int) -> LinearCombination:
    """min(a, b) for signed n-bit a, b; n + 3 constraints, soundness as `max_`."""
    n = require_int("min", "n", n, 1, MAX_RANGE_BITS)
    with api.gadget("min"):
        return select(api, less_than(api, a, b, n), a, b)


def abs_(api: Builder, x: Operand, n: int) -> LinearCombination:
    """|x| for a signed x in [-2^(n-1), 2^(n-1)); 1 <= n <= 252. The result lies in
    [0, 2^(n-1)] (|-2^(n-1)| = 2^(n-1) needs n unsigned bits).

    Constraints: n + 2: the offset-binary decomposition of x (n + 1, which also range
    checks x) and out = (2 s - 1) * x where s, its top bit, is 1 iff x >= 0. Soundness: s is
    a constrained bit that is 1 exactly for x >= 0, so the factor is +1 or -1 accordingly.
    """
    n = require_int("abs", "n", n, 1, MAX_RANGE_BITS)
    with api.gadget("abs"):
        bits = to_signed_bits(api, x, n)
        return api.mul(2 * bits[n - 1] - 1, as_lc("abs", x))


def clamp(api: Builder, x: Operand, lo: int, hi: int, n: int) -> LinearCombination:
    """min(max(x, lo), hi) for a signed n-bit x and constants lo <= hi in the signed n-bit
    range [-2^(n-1), 2^(n-1)); 1 <= n <= 252.

    Constraints: 2 n + 6: two `less_than` (x < lo, hi < x), n + 2 each, and two `select`.
    Soundness: both comparison bits are pinned by `less_than`; since lo <= hi they are
    never both 1, so the nested selection returns lo, hi or x exactly as clamping does.
    """
    n = require_int("clamp", "n", n, 1, MAX_RANGE_BITS)
    half = 1 << (n - 1)
    lo = require_int("clamp", "lo", lo, -half, half - 1)
    hi = require_int("clamp", "hi", hi, lo, half - 1)
    with api.gadget("clamp"):
        below = less_than(api, x, lo, n)
        above = less_than(api, hi, x, n)
        return select(api, above, hi, select(api, below, lo, x))
