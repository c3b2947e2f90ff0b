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


def _erf(x: Decimal) -> Decimal:
    """erf by its Taylor series with 20 more digits than the working precision (the
    terms grow to about e^(x^2) before they shrink); beyond |x| = 8, erf is +-1 within
    1e-29, far below any output step."""
    if abs(x) > 8:
        return Decimal(1) if x > 0 else Decimal(-1)
    with localcontext() as ctx:
        ctx.prec = DIGITS + 30
        x2, term, total, n = x * x, x, x, 0
        while abs(term) > Decimal(10) ** -(DIGITS + 10):
            n += 1
            term = -term * x2 / n
            total += term / (2 * n + 1)
        out = 2 * total / _PI.sqrt()
    return +out


def _erfc(x: Decimal) -> Decimal:
    return 1 - _erf(x) if x < 8 else Decimal(0)


def _sqrt2() -> Decimal:
    with localcontext() as ctx:
        ctx.prec = DIGITS + 10
        return Decimal(2).sqrt()


_SQRT2 = _sqrt2()


def _ncdf_upper(x: Decimal) -> Decimal:
    """1 - Phi(x) = erfc(x / sqrt 2) / 2, without cancellation beyond erf's reach."""
    return _erfc(x / _SQRT2) / 2


def _gelu(x: Decimal) -> Decimal:
    return x * (1 + _erf(x / _SQRT2)) / 2


def _gelu_tanh_u(x: Decimal) -> Decimal:
    return (2 / _PI).sqrt() * (x + Decimal("0.044715") * x**3)


def _mish(x: Decimal) -> Decimal:
    sp = _softplus(x)
    return x * (2 * _logistic(2 * sp) - 1)


def _gelu_err(x: Decimal) -> Decimal:
    """-x Phi(x) for x <= -1: the left tail's error, which grows toward the domain there."""
    return -x * _erfc(-x / _SQRT2) / 2


def _mish_below(x: Decimal) -> Decimal:
    return -x * (2 * _logistic(2 * _softplus(x)) - 1)


def _elu(x: Decimal) -> Decimal:
    return x if x >= 0 else x.exp() - 1


#: The functions of `circuits.approx.funcs.FUNCS`, evaluated in decimal.
DEC_FUNCS: dict[str, DecFunc] = {
    "sigmoid": _logistic,
    "tanh": lambda x: 2 * _logistic(2 * x) - 1,
    "softplus": _softplus,
    "exp": lambda x: x.exp(),
    "expneg": lambda x: (-x).exp(),
    "log1p": lambda x: (1 + x).ln(),
    "erf": _erf,
    "gelu": _gelu,
    "gelu_tanh": lambda x: x * _logistic(2 * _gelu_tanh_u(x)),
    "mish": _mish,
    "elu": _elu,
    "ncdf": lambda x: 1 - _ncdf_upper(x),
}

#: |f - tail| beyond each end, in decimal (see `circuits.approx.funcs.tail_error`). For
#: gelu and mish, whose tail errors are x times a vanishing factor (0 again at x = 0),
#: the error is held at its value at a point on the far side of its peak: a monotone upper
#: envelope, equal to the error wherever it is small enough to matter.
_TAILS: dict[tuple[str, str], DecFunc] = {
    ("sigmoid", "below"): _logistic,
    ("sigmoid", "above"): lambda x: _logistic(-x),
    ("tanh", "below"): lambda x: 2 * _logistic(2 * x),
    ("tanh", "above"): lambda x: 2 * _logistic(-2 * x),
    ("softplus", "below"): _softplus,
    ("softplus", "above"): lambda x: _softplus(-x),
    ("exp", "below"): lambda x: x.exp(),
    ("expneg", "above"): lambda x: (-x).exp(),
    ("erf", "below"): lambda x: _erfc(-x),
    ("erf", "above"): _erfc,
    ("gelu", "below"): lambda x: _gelu_err(min(x, Decimal(-1))),
    ("gelu", "above"): lambda x: _gelu_err(-max(x, Decimal(1))),
    ("gelu_tanh", "below"): lambda x: (
        -min(x, Decimal(-1)) * _logistic(2 * _gelu_tanh_u(min(x, Decimal(-1))))
    ),
    ("gelu_tanh", "above"): lambda x: (
        max(x, Decimal(1)) * _logistic(-2 * _gelu_tanh_u(max(x, Decimal(1))))
    ),
    ("mish", "below"): lambda x: _mish_below(min(x, Decimal("-1.5"))),
    ("mish", "above"): lambda x: (
        max(x, Decimal(2)) * 2 * _logistic(-2 * _softplus(max(x, Decimal(2))))
    ),
    ("ncdf", "below"): lambda x: _ncdf_upper(-x),
    ("ncdf", "above"): _ncdf_upper,
    ("elu", "below"): lambda x: x.exp(),
    ("elu", "above"): lambda x: Decimal(0) if x >= 0 else x.exp() - 1 - x,
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
