"""The probit function (the inverse of the standard normal CDF Phi) of a fixed-point
probability, proved through Phi rather than approximated directly.

    pp = probit_plan(p_scale, out_scale)
    y = probit(api, pp, p)        # p in (0, 2^p_scale) stands for p / 2^p_scale

probit is unbounded at 0 and 1 and its slope grows like 1 / phi(probit(p)), so a
polynomial of p would need ever finer segments near the ends. Phi is smooth and bounded,
so the circuit hints y and checks it against a certified approximation A of Phi (a
`circuits.approx` plan of ``ncdf`` at input scale out_scale + 1, output scale c):

    A((2y - 1) / 2^(o+1)) < p 2^(c - s) <= A((2y + 1) / 2^(o+1)),    0 < p < 2^s.

Soundness: with |A - Phi| <= e (the plan's certified error, tails included), the checks
give Phi(y - h) < p + e and Phi(y + h) >= p - e for h = 2^-(o+1), so
probit(p - e) - h <= y <= probit(p + e) + h and |y - probit(p)| <= h + e max|probit'| on
[2^-s - e, 1 - 2^-s + e] (`ProbitPlan.error`). y is range-checked to [-limit, limit],
where Phi's plan is certified. Completeness needs no monotonicity of A: the hint bisects
for a crossing of the integer sequence g(y) = A(2y + 1) between its ends, which bracket
every admissible p (checked when the plan is made).

Constraints: 2 piecewise evaluations + 2 (c + 3)-bit range checks + 2 s-bit range checks
+ 2 range checks of y (`ProbitPlan.cost`).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from statistics import NormalDist

from circuits.approx import Plan, make_plan
from circuits.builder import Builder
from circuits.errors import BuildError
from circuits.field import R, from_field
from circuits.gadgets.bits import assert_unsigned
from circuits.gadgets.piecewise import piecewise, piecewise_cost
from circuits.hints import register_hint
from circuits.lc import LinearCombination

#: Bits by which Phi's approximation is finer than p: its error e enters the bound as
#: e / phi(probit(2^-s)), so it must sit well below one input step.
EXTRA_BITS = 8
_STD = NormalDist()


@dataclass(frozen=True)
class ProbitPlan:
    p_scale: int
    out_scale: int
    limit: int  # |y| <= limit (integer at out_scale)
    cdf: Plan  # ncdf at input scale out_scale + 1, output scale p_scale + EXTRA_BITS

    @property
    def shift(self) -> int:
        return self.cdf.out_scale - self.p_scale

    @property
    def error(self) -> float:
        """Certified max |y / 2^o - probit(p / 2^s)| over every admissible p."""
        return self.error_for(0.0)

    def error_for(self, input_error: float, edge: float = 0.0) -> float:
        """The same against probit(q) for every real q within `input_error` of p / 2^s,
        for p / 2^s in [edge, 1 - edge] (default: every admissible p)."""
        e = self.cdf.max_error + input_error
        edge = max(edge, math.ldexp(1.0, -self.p_scale)) - e
        z = -_STD.inv_cdf(edge)
        slope = math.sqrt(2 * math.pi) * math.exp(z * z / 2)
        return (math.ldexp(1.0, -self.out_scale - 1) + e * slope) * (1 + 1e-9)

    def cost(self) -> int:
        width = (2 * self.limit).bit_length() + 1
        return (
            2 * piecewise_cost(self.cdf)
            + 2 * (self.cdf.out_scale + 4)
            + 2 * (self.p_scale + 1)
            + 2 * width
        )


@functools.lru_cache(maxsize=32)
def probit_plan(p_scale: int, out_scale: int, guard: int = 2) -> ProbitPlan:
    """The plan for p at `p_scale` and y at `out_scale` (BuildError if it cannot bracket)."""
    z = -_STD.inv_cdf(math.ldexp(1.0, -p_scale - 2))
    limit = math.ceil(math.ldexp(z, out_scale)) + 2
    c = p_scale + EXTRA_BITS
    cdf = make_plan("ncdf", out_scale + 1, c, -2 * limit - 1, 2 * limit + 1, guard=guard)
    pp = ProbitPlan(p_scale, out_scale, limit, cdf)
    step = 1 << pp.shift
    if not (cdf.evaluate(-2 * limit - 1) < step and cdf.evaluate(2 * limit + 1) >= (1 << c) - step):
        raise BuildError(f"probit: the Phi plan does not bracket (0, 1) at scale 2^-{p_scale}")
    if math.ldexp(1.0, -p_scale) <= 2 * cdf.max_error:
        raise BuildError(f"probit: Phi's error {cdf.max_error:g} is not below one input step")
    return pp


@register_hint("probit_search")
def probit_search_hint(p: int, *, p_scale: int, out_scale: int, guard: int) -> list[int]:
    """y with g(y - 1) < p 2^shift <= g(y), g(y) = A(2y + 1), by bisection."""
    pp = probit_plan(p_scale, out_scale, guard)
    v = from_field(p)
    if not 0 < v < (1 << p_scale):
        raise ValueError(f"probit: input {math.ldexp(v, -p_scale):g} is outside (0, 1)")
    target = v << pp.shift

    def g(y: int) -> int:
        return pp.cdf.evaluate(2 * y + 1)

    lo, hi = -pp.limit - 1, pp.limit
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if g(mid) >= target else (mid, hi)
    return [hi % R]


def probit(api: Builder, pp: ProbitPlan, p: LinearCombination, guard: int = 2) -> LinearCombination:
    """2^o probit(p / 2^s) within `pp.error` (see the module docstring)."""
    s, c = pp.p_scale, pp.cdf.out_scale
    with api.gadget("probit"):
        assert_unsigned(api, p - 1, s)  # p >= 1
        assert_unsigned(api, (1 << s) - 1 - p, s)  # p <= 2^s - 1
        (y,) = api.hint("probit_search", [p], 1, p_scale=s, out_scale=pp.out_scale, guard=guard)
        # |y| <= limit: Phi's plan is certified on [-2 limit - 1, 2 limit + 1] only (its
        # polynomial domain extends further, uncertified)
        width = (2 * pp.limit).bit_length()
        assert_unsigned(api, y + pp.limit, width)
        assert_unsigned(api, pp.limit - y, width)
        below = piecewise(api, pp.cdf, y * 2 - 1)
        above = piecewise(api, pp.cdf, y * 2 + 1)
        target = p * (1 << pp.shift)
        # both differences lie in (-2^(c+2), 2^(c+2)): a negative one wraps far above 2^(c+3)
        assert_unsigned(api, target - below - 1, c + 3)
        assert_unsigned(api, above - target, c + 3)
    return y
