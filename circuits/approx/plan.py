"""`Plan`, the fitted approximation a circuit evaluates, and `make_plan`, the search for the
cheapest one that meets the error target (see `circuits.approx`)."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from circuits.approx.certify import Certified, certify
from circuits.approx.exact import fit_exact
from circuits.approx.fit import Geometry, cost, estimate, fit, geometry
from circuits.approx.funcs import FUNCS
from circuits.errors import BuildError

_MAX_SEG_BITS = 8
_MAX_DEGREE = 6


@dataclass(frozen=True)
class Plan:
    """A fitted piecewise polynomial and its certified error (see the module docstring).

    * ``lo``, ``m``: the domain [lo, lo + 2^m) of integer inputs at ``in_scale``;
    * ``seg_bits`` (k), ``degree`` (d), ``prec`` (P), ``coeffs[i][j]`` = C[i][j];
    * ``below`` / ``above``: (mul, add) with y = mul x + add for x < lo / x >= lo + 2^m,
      or None when the calibrated range [x_min, x_max] never reaches that side;
    * ``y_min`` / ``y_max``: range of the rounded polynomial over all 2^m domain points
      (what the rounding's range check must admit, whatever the low bits of x are);
    * ``max_error``: max |y / 2^s_out - f(x / 2^s_in)| over [x_min, x_max];
      ``max_scaled_error``: the same divided by max(1, |f|); ``method``: how computed;
    * ``midpoint``: x stands for the real (x + 1/2) / 2^in_scale (a floored finer input).
    """

    func: str
    in_scale: int
    out_scale: int
    lo: int
    m: int
    seg_bits: int
    degree: int
    prec: int
    coeffs: tuple[tuple[int, ...], ...]
    below: tuple[int, int] | None
    above: tuple[int, int] | None
    x_min: int
    x_max: int
    y_min: int
    y_max: int
    max_error: float
    max_scaled_error: float
    method: str
    midpoint: bool = False

    def real(self, x: int) -> float:
        """The real input the integer x stands for (see ``midpoint`` in `make_plan`)."""
        return math.ldexp(2 * x + self.midpoint, -self.in_scale - 1)

    @property
    def t_bits(self) -> int:
        return self.m - self.seg_bits

    @property
    def shift(self) -> int:
        """K: bits the final rounding drops (0 for a degree-0 table)."""
        return self.prec + self.t_bits * self.degree - self.out_scale if self.degree else 0

    def poly_value(self, u: int) -> int:
        """A for a domain offset u = x - lo in [0, 2^m) (exact integers)."""
        seg, t = u >> self.t_bits, u & ((1 << self.t_bits) - 1)
        c = self.coeffs[seg]
        acc = c[self.degree]
        for j in range(self.degree - 1, -1, -1):
            acc = acc * t + c[j] * (1 << (self.t_bits * (self.degree - j)))
        return acc

    def evaluate(self, x: int) -> int:
        """The integer output the circuit computes for the integer input x."""
        u = x - self.lo
        if u < 0 or u >> self.m:
            tail = self.below if u < 0 else self.above
            if tail is None:
                raise BuildError(f"{self.func}: input {x} is outside the calibrated range")
            return tail[0] * x + tail[1]
        a = self.poly_value(u)
        k = self.shift
        return (a + (1 << (k - 1))) >> k if k else a

    def report(self) -> dict[str, Any]:
        """JSON-ready summary for an error report."""
        return {
            "function": self.func,
            "max_abs_error": self.max_error,
            "max_scaled_error": self.max_scaled_error,
            "method": self.method,
            "input_range": [self.real(self.x_min), self.real(self.x_max)],
            "domain": [self.real(self.lo), self.real(self.lo + (1 << self.m) - 1)],
            "segments": 1 << self.seg_bits,
            "degree": self.degree,
            "midpoint": self.midpoint,
        }


# search ---------------------------------------------------------------------------------
def make_plan(
    func: str,
    in_scale: int,
    out_scale: int,
    x_min: int,
    x_max: int,
    *,
    guard: int = 2,
    degree: int = -1,
    seg_bits: int = -1,
    midpoint: bool = False,
) -> Plan:
    """The cheapest plan for `func` on integer inputs [x_min, x_max] at `in_scale` whose
    error is at most 2^-(out_scale+1) (rounding) + 2^-(out_scale+guard) (approximation),
    relative to max(1, |f|). `degree` / `seg_bits` >= 0 force that choice.

    With `midpoint`, the integer x stands for the real (x + 1/2) / 2^in_scale: the input
    was floored from a finer scale, and the plan is fitted at the middle of the interval
    of reals that floor to x (half a step of input error, as rounding would give). Cached."""
    if func not in FUNCS:
        raise BuildError(f"no approximation for {func!r}; known: {sorted(FUNCS)}")
    if x_min > x_max or min(in_scale, out_scale, guard) < 0:
        raise BuildError(
            f"{func}: bad plan request [{x_min}, {x_max}] scales {in_scale}->{out_scale}"
        )
    return _make_plan(func, in_scale, out_scale, x_min, x_max, guard, degree, seg_bits, midpoint)


@functools.lru_cache(maxsize=256)
def _make_plan(
    func: str,
    in_scale: int,
    out_scale: int,
    x_min: int,
    x_max: int,
    guard: int,
    degree: int,
    seg_bits: int,
    midpoint: bool,
) -> Plan:
    g = geometry(FUNCS[func], in_scale, out_scale, x_min, x_max, guard, midpoint)
    target = math.ldexp(1.0, -(out_scale + 1)) + math.ldexp(1.0, -(out_scale + guard))
    cands = _candidates(g, guard, degree, seg_bits)
    best: tuple[Certified, int, int, int, np.ndarray] | None = None
    for _, k, d, prec, _ in cands[:4]:
        coeffs = fit_exact(func, g.lo, midpoint, in_scale, g.m, k, d, prec)
        cert = certify(g, coeffs, k, d, prec)
        if best is None or cert.max_scaled < best[0].max_scaled:
            best = (cert, k, d, prec, coeffs)
        if cert.max_scaled <= target * (1 + 1e-9):
            best = (cert, k, d, prec, coeffs)
            break
    assert best is not None
    cert, k, d, prec, coeffs = best
    return Plan(
        func=func,
        in_scale=in_scale,
        out_scale=out_scale,
        lo=g.lo,
        m=g.m,
        seg_bits=k,
        degree=d,
        prec=prec,
        coeffs=tuple(tuple(int(v) for v in row) for row in coeffs),
        below=g.below,
        above=g.above,
        x_min=x_min,
        x_max=x_max,
        y_min=cert.y_min,
        y_max=cert.y_max,
        max_error=cert.max_error,
        max_scaled_error=cert.max_scaled,
        method=cert.method,
        midpoint=midpoint,
    )


def _candidates(
    g: Geometry, guard: int, degree: int, seg_bits: int
) -> list[tuple[int, int, int, int, np.ndarray]]:
    """(cost, k, d, prec, coeffs) of every feasible (k, d), cheapest first; when nothing is
    feasible, the most accurate fits, so that a plan always exists."""
    tol = math.ldexp(1.0, -(g.out_scale + guard))
    feasible, fallback = [], []
    degrees = [degree] if degree >= 0 else list(range(_MAX_DEGREE + 1))
    segs = [min(seg_bits, g.m)] if seg_bits >= 0 else list(range(min(g.m, _MAX_SEG_BITS) + 1))
    for d in degrees:
        prec = g.out_scale if d == 0 else g.out_scale + guard + 2
        budget = tol + (math.ldexp(1.0, -(g.out_scale + 1)) if d == 0 else 0.0)
        for k in segs:
            coeffs = fit(g, k, d, prec)
            est = estimate(g, coeffs, k, prec)
            item = (cost(g, k, d, prec), k, d, prec, coeffs)
            if est <= 0.8 * budget:
                feasible.append(item)
            fallback.append((est, item))
    if feasible:
        return sorted(feasible, key=lambda c: (c[0], c[2], c[1]))
    return [item for _, item in sorted(fallback, key=lambda e: e[0])]
