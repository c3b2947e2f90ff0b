"""Reproducible arithmetic for the decisions that fix a circuit.

A compiled model is re-compiled wherever it is loaded, and the rebuilt constraint system
must hash to the one the keys were made for. Floating-point transcendental functions may
differ in the last bit between platforms, which could move a coefficient's rounding, so
everything that ends up in the circuit (domain edges, polynomial coefficients) is computed
here with the `decimal` module (the same on every platform) and exact fractions. The float
code of `circuits.approx.fit` only ranks candidates and estimates errors.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from decimal import Decimal, localcontext
from fractions import Fraction

import numpy as np

#: Decimal digits of every reproducible evaluation (far beyond the 2^-P coefficient grid).
DIGITS = 50

DecFunc = Callable[[Decimal], Decimal]


def _logistic(z: Decimal) -> Decimal:
    if z >= 0:
        return 1 / (1 + (-z).exp())
    e = z.exp()
    return e / (1 + e)


def _softplus(x: Decimal) -> Decimal:
    return x + (1 + (-x).exp()).ln() if x > 0 else (1 + x.exp()).ln()


#: The functions of `circuits.approx.funcs.FUNCS`, evaluated in decimal.
DEC_FUNCS: dict[str, DecFunc] = {
    "sigmoid": _logistic,
    "tanh": lambda x: 2 * _logistic(2 * x) - 1,
    "softplus": _softplus,
    "exp": lambda x: x.exp(),
    "expneg": lambda x: (-x).exp(),
    "log1p": lambda x: (1 + x).ln(),
}

#: |f - tail| beyond each end, in decimal (see `circuits.approx.funcs.tail_error`).
_TAILS: dict[tuple[str, str], DecFunc] = {
    ("sigmoid", "below"): _logistic,
    ("sigmoid", "above"): lambda x: _logistic(-x),
    ("tanh", "below"): lambda x: 2 * _logistic(2 * x),
    ("tanh", "above"): lambda x: 2 * _logistic(-2 * x),
    ("softplus", "below"): _softplus,
    ("softplus", "above"): lambda x: _softplus(-x),
    ("exp", "below"): lambda x: x.exp(),
    ("expneg", "above"): lambda x: (-x).exp(),
}


def dec(q: Fraction) -> Decimal:
    return Decimal(q.numerator) / Decimal(q.denominator)


def tail_exceeds(func: str, side: str, x: Fraction, tol: Fraction) -> bool:
    """|f(x) - tail(x)| > tol, decided in decimal."""
    with localcontext() as ctx:
        ctx.prec = DIGITS
        return _TAILS[(func, side)](dec(x)) > dec(tol)


def _cos(x: Decimal) -> Decimal:
    term, total, k = Decimal(1), Decimal(1), 0
    while abs(term) > Decimal(10) ** -(DIGITS + 5):
        k += 2
        term = -term * x * x / (k * (k - 1))
        total += term
    return total


_PI = Decimal("3.14159265358979323846264338327950288419716939937510582097494")


@functools.cache
def nodes(d: int, t_bits: int) -> tuple[Fraction, ...]:
    """Interpolation nodes in [0, 1 - 2^-t_bits]: every point of a tiny segment, else the
    d + 1 Chebyshev nodes, snapped to multiples of 2^-40 (exact, reproducible)."""
    npts = 1 << t_bits
    if npts <= d + 1:
        return tuple(Fraction(i, npts) for i in range(npts))
    tmax = 1 - Fraction(1, npts)
    out = []
    with localcontext() as ctx:
        ctx.prec = DIGITS
        for i in range(d + 1):
            c = (1 - _cos(_PI * (2 * i + 1) / (2 * d + 2))) / 2
            out.append(tmax * Fraction(round(c * (1 << 40)), 1 << 40))
    return tuple(out)


@functools.cache
def _vander_inverse(points: tuple[Fraction, ...]) -> tuple[tuple[Fraction, ...], ...]:
    n = len(points)
    rows = [
        [p**j for j in range(n)] + [Fraction(int(i == r)) for i in range(n)]
        for r, p in enumerate(points)
    ]
    for col in range(n):
        piv = next(r for r in range(col, n) if rows[r][col] != 0)
        rows[col], rows[piv] = rows[piv], rows[col]
        inv = 1 / rows[col][col]
        rows[col] = [v * inv for v in rows[col]]
        for r in range(n):
            if r != col and rows[r][col]:
                f = rows[r][col]
                rows[r] = [a - f * b for a, b in zip(rows[r], rows[col], strict=True)]
    return tuple(tuple(row[n:]) for row in rows)


def fit_exact(
    func: str, lo: int, midpoint: bool, in_scale: int, m: int, k: int, d: int, prec: int
) -> np.ndarray:
    """Integer coefficients (2^k, d + 1): the interpolant at `nodes` of every segment,
    rounded to 2^-prec, with f in decimal and the solve in exact fractions."""
    tb = m - k
    pts = nodes(d, tb)
    inv = _vander_inverse(pts)
    f = DEC_FUNCS[func]
    width = Fraction(1 << tb, 1 << in_scale)
    out = np.zeros((1 << k, d + 1), dtype=object)
    with localcontext() as ctx:
        ctx.prec = DIGITS
        for i in range(1 << k):
            start = Fraction(2 * (lo + (i << tb)) + midpoint, 1 << (in_scale + 1))
            values = [Fraction(f(dec(start + p * width))) for p in pts]
            for j, row in enumerate(inv):
                c = sum((a * v for a, v in zip(row, values, strict=True)), Fraction(0))
                out[i, j] = round(c * (1 << prec))
    return out


def ln2_multiple(j: int, shift: int) -> int:
    """round(j ln 2 2^shift), reproducibly."""
    with localcontext() as ctx:
        ctx.prec = DIGITS + math.ceil(shift * 0.302) + 5
        return round(Decimal(j) * Decimal(2).ln() * (Decimal(2) ** shift))
