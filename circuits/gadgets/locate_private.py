"""`locate` for cut points that are witness values: the committed thresholds of a tree
ensemble whose weights are private.

With public cut points (`locate.locate`) the interval bounds lo and hi are free linear
combinations of the boolean steps. With private cut points each bound is a sum of
step * cut products, and the cuts must be proved sorted once (they are shared by every
row of features):

* `assert_sorted_within`: lo_x - 1 <= c_1 <= ... <= c_m <= hi_x for the signed n-bit range
  [lo_x, hi_x], (m + 1)(n + 2) constraints per cut vector. Equal neighbours are allowed (a
  threshold clamped to the range's end, or one shared by nodes that test it differently).
* `locate_private`: the bits [x <= c_j], 3 m + 2 n + 3 constraints per located value
  (public cuts: m + 2 n + 3).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from circuits.builder import Builder
from circuits.gadgets.bits import MAX_RANGE_BITS, as_lc, require_int, to_bits
from circuits.gadgets.locate import locate_steps_hint
from circuits.lc import LinearCombination, Operand

#: The bits come from the same hint as public `locate` (registered by importing it).
_HINT = locate_steps_hint.__name__


def sorted_cost(m: int, n: int) -> int:
    """Exact constraint count of `assert_sorted_within` for m cuts and an n-bit range."""
    return (m + 1) * (n + 2) if m else 0


def locate_private_cost(m: int, n: int) -> int:
    """Exact constraint count of `locate_private` for m cuts and an n-bit x."""
    return 3 * m + 2 * n + 3 if m else 0


def assert_sorted_within(api: Builder, cuts: Sequence[Operand], n: int) -> None:
    """Prove lo_x - 1 <= c_1 <= c_2 <= ... <= c_m <= hi_x, lo_x = -2^(n-1), hi_x = 2^(n-1) - 1.

    Each of the m + 1 gaps (between neighbours, and from the two ends) is decomposed into
    n + 1 bits. Soundness: every gap is then an integer in [0, 2^(n+1)); the gaps add up to
    hi_x - lo_x + 1 = 2^n modulo r, and their integer sum is below (m + 1) 2^(n+1) < r, so
    they add up to 2^n as integers: each c_j is the integer lo_x - 1 + (the gaps before it),
    and the sequence is non-decreasing inside [lo_x - 1, hi_x]."""
    n = require_int("assert_sorted_within", "n", n, 1, MAX_RANGE_BITS - 2)
    lo_x, hi_x = -(1 << (n - 1)), (1 << (n - 1)) - 1
    if not cuts:
        return
    pts = [
        LinearCombination.constant(lo_x - 1),
        *(as_lc("assert_sorted_within", c) for c in cuts),
        LinearCombination.constant(hi_x),
    ]
    with api.gadget("sorted_cuts"):
        for a, b in itertools.pairwise(pts):
            to_bits(api, b - a, n + 1)


def locate_private(
    api: Builder, x: Operand, cuts: Sequence[Operand], n: int
) -> list[LinearCombination]:
    """[x <= c_j] for each cut c_j, a witness value; the cuts must be proved sorted within
    [lo_x - 1, hi_x] (`assert_sorted_within`) and x a signed n-bit value (by the caller).

    As in `locate.locate`: the hinted bits b_1..b_m, with b_0 = 0 and b_(m+1) = 1, have
    boolean steps e_k = b_(k+1) - b_k (m + 1 constraints); lo = sum e_k (c_k + 1) and
    hi = sum e_k c_(k+1) (c_0 + 1 = lo_x, c_(m+1) = hi_x) take one product per cut each
    (2 m); x - lo and hi - x are proved to lie in [0, 2^n) (2 (n + 1)).

    Soundness: exactly one step is 1, at k; the checks prove c_k < x <= c_(k+1) as
    integers (all of x, lo, hi lie in [lo_x - 1, hi_x + 1], so no difference wraps). With
    the cuts non-decreasing, b_j = [j > k] equals [x <= c_j] for every j: for j > k,
    c_j >= c_(k+1) >= x; for j <= k, c_j <= c_k < x. Equal cuts leave an empty interval
    that no x satisfies, so k stays unique."""
    n = require_int("locate_private", "n", n, 1, MAX_RANGE_BITS - 1)
    if not cuts:
        return []
    m = len(cuts)
    lo_x, hi_x = -(1 << (n - 1)), (1 << (n - 1)) - 1
    xl = as_lc("locate_private", x)
    cs = [as_lc("locate_private", c) for c in cuts]
    with api.gadget("locate_private"):
        bits = api.hint("locate_steps", [xl, *cs], m)
        full = [LinearCombination.constant(0), *bits, LinearCombination.constant(1)]
        steps = [full[k + 1] - full[k] for k in range(m + 1)]
        for e in steps:
            api.assert_bool(e)
        lo = steps[0] * lo_x
        hi = steps[m] * hi_x
        for k in range(1, m + 1):
            lo = lo + api.mul(steps[k], cs[k - 1]) + steps[k]
        for k in range(m):
            hi = hi + api.mul(steps[k], cs[k])
        to_bits(api, xl - lo, n)
        to_bits(api, hi - xl, n)
    return bits
