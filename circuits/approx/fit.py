"""Domain and fitting of a piecewise-polynomial plan (see `circuits.approx`).

`geometry` picks the domain [lo, lo + 2^m) from the calibrated input range and the
function's tails (the edges decided in decimal, see `circuits.approx.exact`); `fit`
interpolates each segment at Chebyshev nodes in float64 and rounds the coefficients to
integers; `estimate` and `cost` rank the candidate (segment count, degree) pairs. The
chosen candidate is refitted reproducibly (`exact.fit_exact`) and then certified.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from circuits.approx.exact import nodes, tail_exceeds
from circuits.approx.funcs import FloatArray, Func, tail_error
from circuits.errors import BuildError


@dataclass(frozen=True)
class Geometry:
    func: Func
    in_scale: int
    out_scale: int
    lo: int
    m: int
    x_min: int
    x_max: int
    below: tuple[int, int] | None
    above: tuple[int, int] | None
    tail_error: float
    midpoint: bool

    def real(self, x: int) -> float:
        return math.ldexp(2 * x + self.midpoint, -self.in_scale - 1)

    def reals(self, x: np.ndarray) -> FloatArray:
        return np.ldexp(2.0 * x.astype(np.float64) + self.midpoint, -self.in_scale - 1)


# domain ---------------------------------------------------------------------------------
def _tail_fixed(func: Func, side: str, in_scale: int, out_scale: int) -> tuple[int, int]:
    tail = func.below if side == "below" else func.above
    assert tail is not None
    if tail.slope and out_scale < in_scale:
        raise BuildError(f"{func.name}: an identity tail needs out_scale >= in_scale")
    return tail.slope << (out_scale - in_scale) if tail.slope else 0, round(
        math.ldexp(tail.value, out_scale)
    )


def _edge(
    func: Func, side: str, x_min: int, x_max: int, real: Callable[[int], Fraction], tol: Fraction
) -> int:
    """For "below": the smallest x in range whose left tail error exceeds tol (x_max + 1 if
    none); for "above": the largest such x for the right tail (x_min - 1 if none)."""

    def bad(x: int) -> bool:
        return tail_exceeds(func.name, side, real(x), tol)

    lo, hi = x_min, x_max
    if side == "below":
        if bad(lo):
            return lo
        if not bad(hi):
            return hi + 1
        while hi - lo > 1:  # bad(hi) and not bad(lo); the error grows with x
            mid = (lo + hi) // 2
            lo, hi = (lo, mid) if bad(mid) else (mid, hi)
        return hi
    if bad(hi):
        return hi
    if not bad(lo):
        return lo - 1
    while hi - lo > 1:  # bad(lo) and not bad(hi); the error shrinks with x
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if bad(mid) else (lo, mid)
    return lo


def geometry(
    func: Func, in_scale: int, out_scale: int, x_min: int, x_max: int, guard: int, midpoint: bool
) -> Geometry:
    tol = Fraction(1, 1 << (out_scale + guard))

    def exact(x: int) -> Fraction:
        return Fraction(2 * x + midpoint, 1 << (in_scale + 1))

    def real(x: int) -> float:
        return math.ldexp(2 * x + midpoint, -in_scale - 1)

    lo = _edge(func, "below", x_min, x_max, exact, tol) if func.below else x_min
    hi = _edge(func, "above", x_min, x_max, exact, tol) if func.above else x_max
    if lo > hi:  # the whole range lies in tails: keep one domain point
        lo = hi = min(max(lo, x_min), x_max)
    m = (hi - lo).bit_length()
    pad = (1 << m) - (hi - lo + 1)
    if func.below and func.above:
        lo -= pad // 2
    elif func.below:
        lo -= pad
    below = _tail_fixed(func, "below", in_scale, out_scale) if x_min < lo else None
    above = _tail_fixed(func, "above", in_scale, out_scale) if x_max >= lo + (1 << m) else None
    err = 0.0
    for side, tail, edge in (("below", below, lo - 1), ("above", above, lo + (1 << m))):
        if tail is not None:
            y = tail[0] * edge + tail[1]
            value = float(func.f(np.array([real(edge)]))[0])
            err = max(
                err, tail_error(func, side, real(edge)), abs(math.ldexp(y, -out_scale) - value)
            )
    return Geometry(func, in_scale, out_scale, lo, m, x_min, x_max, below, above, err, midpoint)


# fitting --------------------------------------------------------------------------------
def segment_starts(g: Geometry, k: int) -> tuple[FloatArray, float]:
    tb = g.m - k
    starts = g.reals(g.lo + (np.arange(1 << k, dtype=np.int64) << tb))
    return starts, math.ldexp(1.0, tb - g.in_scale)


def fit(g: Geometry, k: int, d: int, prec: int) -> np.ndarray:
    """Integer coefficients (2^k, d + 1) of the interpolants at `exact.nodes`, in float64:
    for ranking candidates only (`exact.fit_exact` computes the ones a circuit uses)."""
    tb = g.m - k
    starts, w = segment_starts(g, k)
    pts = np.array([float(p) for p in nodes(d, tb)])
    vander = pts[:, None] ** np.arange(pts.size)[None, :]
    values = g.func.f(starts[None, :] + pts[:, None] * w)
    real = np.zeros((1 << k, d + 1))
    real[:, : pts.size] = np.linalg.solve(vander, values).T
    rounded = np.round(np.ldexp(real, prec))
    return np.array([[int(v) for v in row] for row in rounded], dtype=object)


def poly_float(coeffs: np.ndarray, prec: int, tau: FloatArray) -> FloatArray:
    """p_i(tau) for every segment i (rows) and grid point (columns), in float64."""
    c = np.ldexp(coeffs.astype(np.float64), -prec)
    acc = np.repeat(c[:, -1:], tau.size, axis=1)
    for j in range(c.shape[1] - 2, -1, -1):
        acc = acc * tau[None, :] + c[:, j : j + 1]
    return acc


def estimate(g: Geometry, coeffs: np.ndarray, k: int, prec: int) -> float:
    tb = g.m - k
    starts, w = segment_starts(g, k)
    grid = np.linspace(0.0, 1.0 - math.ldexp(1.0, -tb), min(1 << tb, 65))
    exact = g.func.f(starts[:, None] + grid[None, :] * w)
    err = np.abs(poly_float(coeffs, prec, grid) - exact) / np.maximum(1.0, np.abs(exact))
    return float(err.max())


def cost(g: Geometry, k: int, d: int, prec: int) -> int:
    """Constraints that depend on (k, d): selection, Horner, rounding (q_bits estimated)."""
    mux = (1 << k) - k - 1
    if d == 0:
        return mux
    horner = d if k else d - 1
    big = float(np.abs(g.func.f(np.array([g.real(g.lo), g.real(g.lo + (1 << g.m) - 1)]))).max())
    q_bits = int(math.ldexp(max(big, 1.0), g.out_scale) + 2).bit_length() + 1
    return mux + horner + prec + (g.m - k) * d - g.out_scale + q_bits + 1
