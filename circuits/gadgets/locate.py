"""Locate a value among sorted cut points: one proof answers every threshold test.

A tree ensemble compares each feature with many thresholds. Asked separately, every test
is a comparison of its own (a bit decomposition of the difference, n + 2 constraints).
But the answers are related: for sorted cut points c_1 < ... < c_m the bits
b_j = [x <= c_j] form a monotone vector 0...0 1...1, fixed by the one interval
(c_k, c_(k+1)] that holds x. `locate` proves that interval once and reads every bit off it,
so m thresholds cost m + 2 n + 3 constraints instead of m (n + 2).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from circuits.builder import Builder
from circuits.errors import BuildError
from circuits.field import R, from_field
from circuits.gadgets.bits import MAX_RANGE_BITS, as_lc, require_int, to_bits
from circuits.gadgets.compare import less_or_equal
from circuits.hints import register_hint
from circuits.lc import LinearCombination, Operand


@register_hint("locate_steps")
def locate_steps_hint(x: int, *cuts: int) -> list[int]:
    """The bits [x <= c_j] for signed x and each signed cut point c_j."""
    v = from_field(x)
    return [int(v <= from_field(c)) for c in cuts]


def locate_cost(m: int, n: int) -> int:
    """Exact constraint count of `locate` for m cut points inside the range of an n-bit x."""
    if m == 0:
        return 0
    if m == 1:
        return n + 2
    return m + 1 + 2 * (n + 1)


def locate(api: Builder, x: Operand, cuts: Sequence[int], n: int) -> list[LinearCombination]:
    """[x <= c] for each of the strictly increasing integer `cuts`, x a signed n-bit value
    (-2^(n-1) <= x < 2^(n-1), guaranteed by the caller, e.g. a range check); 1 <= n <= 251.

    Cut points at or beyond the ends of x's range give constant bits for free. For the m
    cuts inside: none costs 0; one costs a `less_or_equal` (n + 2); more cost `locate_cost`,
    m + 1 + 2 (n + 1): the hinted bits b_1..b_m, with b_0 = 0 and b_(m+1) = 1, must have
    every step e_k = b_(k+1) - b_k boolean (m + 1 constraints); then x - lo and hi - x are
    proved to lie in [0, 2^n) (n + 1 each), where lo = sum e_k (c_k + 1) and
    hi = sum e_k c_(k+1) (with c_0 + 1 = -2^(n-1) and c_(m+1) = 2^(n-1) - 1) are free
    linear combinations.

    Soundness: the steps are booleans that sum to b_(m+1) - b_0 = 1, so exactly one e_k is
    1 and b is 0 below k and 1 from k + 1 on. The range checks then prove
    c_k < x <= c_(k+1); the intervals partition x's range, so k is the unique interval of
    x and b_j = [j > k] = [x <= c_j] for every j. All of lo, hi, x lie in the signed n-bit
    range, so the differences cannot wrap modulo r. Any other bit vector fails a check.
    """
    n = require_int("locate", "n", n, 1, MAX_RANGE_BITS - 1)
    cs = [int(c) for c in cuts]
    if any(b <= a for a, b in itertools.pairwise(cs)):
        raise BuildError("locate: the cut points must be strictly increasing")
    lo_x, hi_x = -(1 << (n - 1)), (1 << (n - 1)) - 1
    inside = [c for c in cs if lo_x <= c < hi_x]
    x = as_lc("locate", x)
    if x.is_constant():
        v = x.constant_value()
        v = v - R if v > R // 2 else v
        return [LinearCombination.constant(int(v <= c)) for c in cs]
    with api.gadget("locate"):
        bits = _inside_bits(api, x, inside, n, lo_x, hi_x)
    by_cut = dict(zip(inside, bits, strict=True))
    return [by_cut.get(c, LinearCombination.constant(1 if c >= hi_x else 0)) for c in cs]


def _inside_bits(
    api: Builder, x: LinearCombination, cuts: list[int], n: int, lo_x: int, hi_x: int
) -> list[LinearCombination]:
    if not cuts:
        return []
    if len(cuts) == 1:
        return [less_or_equal(api, x, cuts[0], n)]
    bits = api.hint("locate_steps", [x, *cuts], len(cuts))
    full = [LinearCombination.constant(0), *bits, LinearCombination.constant(1)]
    steps = [full[k + 1] - full[k] for k in range(len(cuts) + 1)]
    for e in steps:
        api.assert_bool(e)
    lows = [lo_x] + [c + 1 for c in cuts]
    highs = [*cuts, hi_x]
    lo = _weighted(steps, lows)
    hi = _weighted(steps, highs)
    to_bits(api, x - lo, n)
    to_bits(api, hi - x, n)
    return bits


def _weighted(steps: list[LinearCombination], consts: list[int]) -> LinearCombination:
    acc = LinearCombination({})
    for e, c in zip(steps, consts, strict=True):
        acc = acc + e * c
    return acc
