"""Certified maximum error of a fitted plan (see `circuits.approx`).

`certify` computes max |y / 2^s_out - f(x / 2^s_in)| over the calibrated input range:
exhaustively from the exact integer pipeline when the domain has at most
`EXHAUSTIVE_POINTS` points, else as a rigorous per-segment bound (a dense grid plus the
second-derivative remainder of linear interpolation between grid points), and the range
of outputs over the whole domain, which the circuit's rounding range check must admit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from circuits.approx.fit import Geometry, poly_float, segment_starts

#: Domains up to this many points get an exhaustive error computation.
EXHAUSTIVE_POINTS = 1 << 22
#: Relative slack added to every computed error for float64 evaluation of f.
FLOAT_SLACK = 2.0**-40


# certified error ------------------------------------------------------------------------
@dataclass(frozen=True)
class Certified:
    max_error: float
    max_scaled: float
    y_min: int
    y_max: int
    method: str


def exact_outputs(g: Geometry, coeffs: np.ndarray, k: int, d: int, prec: int) -> np.ndarray | None:
    """y for every domain point, exactly (int64), or None when float64 cannot certify it.

    Horner runs in float64 with a running bound of the rounding error (every coefficient
    times its power of two is an exact float, so only the products and sums round); points
    whose rounding direction that error could flip are recomputed with Python integers."""
    if np.abs(coeffs.astype(np.float64)).max() >= 2.0**52:
        return None
    tb = g.m - k
    t = np.arange(1 << tb, dtype=np.float64)[None, :]
    cf = coeffs.astype(np.float64)
    if d == 0:
        return np.repeat(cf[:, 0].astype(np.int64), 1 << tb)
    shift = prec + tb * d - g.out_scale
    acc, mag = cf[:, d : d + 1], np.abs(cf[:, d : d + 1])
    for j in range(d - 1, -1, -1):
        scale = math.ldexp(1.0, tb * (d - j))
        acc = acc * t + cf[:, j : j + 1] * scale
        mag = mag * t + np.abs(cf[:, j : j + 1]) * scale
    half = math.ldexp(1.0, shift - 1)
    z = np.ldexp(acc + half, -shift).reshape(-1)
    if np.abs(z).max() >= 2.0**40:
        return None
    slack = np.ldexp((2 * d + 3) * 2.0**-52 * (mag + half), -shift).reshape(-1) + 2.0**-50
    y = np.floor(z)
    frac = z - y
    out = y.astype(np.int64)
    for i in np.nonzero((frac < slack) | (frac > 1.0 - slack))[0].tolist():
        out[i] = _round_shift(_poly_int(coeffs[i >> tb], i & ((1 << tb) - 1), tb, d), shift)
    return out


def _poly_int(c: np.ndarray, t: int, tb: int, d: int) -> int:
    acc = int(c[d])
    for j in range(d - 1, -1, -1):
        acc = acc * t + int(c[j]) * (1 << (tb * (d - j)))
    return acc


def _round_shift(a: int, k: int) -> int:
    return (a + (1 << (k - 1))) >> k if k else a


def certify_exhaustive(
    g: Geometry, coeffs: np.ndarray, k: int, d: int, prec: int
) -> Certified | None:
    y = exact_outputs(g, coeffs, k, d, prec)
    if y is None:
        return None
    x = g.lo + np.arange(1 << g.m, dtype=np.int64)
    keep = (x >= g.x_min) & (x <= g.x_max)
    exact = g.func.f(g.reals(x[keep]))
    err = np.abs(np.ldexp(y[keep].astype(np.float64), -g.out_scale) - exact)
    big = np.maximum(1.0, np.abs(exact))
    slack = FLOAT_SLACK * float(big.max())
    max_err = max(float(err.max()) + slack, g.tail_error)
    scaled = max(float((err / big).max()) + FLOAT_SLACK, g.tail_error)
    return Certified(max_err, scaled, int(y.min()), int(y.max()), "exhaustive")


def certify_bound(g: Geometry, coeffs: np.ndarray, k: int, d: int, prec: int) -> Certified:
    """Per segment: max error on a 257-point grid + h^2/8 max|p'' - f''| (the error of the
    linear interpolation between grid points) + half an output step for the rounding."""
    tb = g.m - k
    starts, w = segment_starts(g, k)
    tmax = 1.0 - math.ldexp(1.0, -tb)
    grid = np.linspace(0.0, tmax, 257)
    p = poly_float(coeffs, prec, grid)
    exact = g.func.f(starts[:, None] + grid[None, :] * w)
    c = np.abs(np.ldexp(coeffs.astype(np.float64), -prec))
    p2 = (
        sum(j * (j - 1) * c[:, j] * tmax ** (j - 2) for j in range(2, d + 1)) / (w * w)
        if d >= 2
        else 0.0
    )
    h2 = (w * tmax / 256) ** 2 / 8
    rounding = math.ldexp(0.5, -g.out_scale) if d else 0.0
    seg_err = (
        np.abs(p - exact).max(axis=1) + h2 * (p2 + g.func.d2max(starts, starts + w)) + rounding
    )
    big = np.maximum(1.0, np.abs(exact).max(axis=1))
    seg_lo = g.lo + (np.arange(1 << k, dtype=np.int64) << tb)
    used = (seg_lo + (1 << tb) > g.x_min) & (seg_lo <= g.x_max)
    slack = FLOAT_SLACK * float(big.max())
    max_err = max(float(seg_err[used].max()) + slack, g.tail_error)
    scaled = max(float((seg_err / big)[used].max()) + FLOAT_SLACK, g.tail_error)
    reach = h2 * p2 + slack
    y_min = math.floor(math.ldexp(float((p.min(axis=1) - reach).min()), g.out_scale) + 0.5) - 1
    y_max = math.floor(math.ldexp(float((p.max(axis=1) + reach).max()), g.out_scale) + 0.5) + 1
    return Certified(max_err, scaled, y_min, y_max, "bound")


def certify(g: Geometry, coeffs: np.ndarray, k: int, d: int, prec: int) -> Certified:
    if (1 << g.m) <= EXHAUSTIVE_POINTS:
        done = certify_exhaustive(g, coeffs, k, d, prec)
        if done is not None:
            return done
    return certify_bound(g, coeffs, k, d, prec)
