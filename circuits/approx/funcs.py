"""The functions `circuits.approx` can fit: float64 reference, saturation tails and the
second-derivative bounds its rigorous error bounds rest on.

Every tail error |f(x) - tail(x)| below is monotone in x (it grows toward the domain), so
its maximum over a tail is its value at the last point before the domain. The float64
references are accurate to a few units in the last place, far below the 2^-40 relative
slack `circuits.approx` adds to every computed error.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Tail:
    """Saturation beyond one end of the domain: f(x) ~ slope * x + value (slope 0 or 1)."""

    slope: int
    value: float


@dataclass(frozen=True)
class Func:
    """A function to approximate.

    * ``f``: float64 reference, vectorized;
    * ``d1max(a, b)`` / ``d2max(a, b)``: upper bounds of |f'| / |f''| on each interval
      [a, b] (arrays);
    * ``below`` / ``above``: tails for x -> -inf / +inf, None when f does not saturate there.
    """

    name: str
    f: Callable[[FloatArray], FloatArray]
    d1max: Callable[[FloatArray, FloatArray], FloatArray]
    d2max: Callable[[FloatArray, FloatArray], FloatArray]
    below: Tail | None
    above: Tail | None


def _const(c: float) -> Callable[[FloatArray, FloatArray], FloatArray]:
    def bound(a: FloatArray, b: FloatArray) -> FloatArray:
        return np.full(np.shape(a), c)

    return bound


def _sigmoid(x: FloatArray) -> FloatArray:
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * x)), dtype=np.float64)


def _tanh(x: FloatArray) -> FloatArray:
    return np.asarray(np.tanh(x), dtype=np.float64)


def _softplus(x: FloatArray) -> FloatArray:
    return np.asarray(np.logaddexp(0.0, x), dtype=np.float64)


def _exp(x: FloatArray) -> FloatArray:
    return np.asarray(np.exp(x), dtype=np.float64)


def _expneg(x: FloatArray) -> FloatArray:
    return np.asarray(np.exp(-x), dtype=np.float64)


def _log1p(x: FloatArray) -> FloatArray:
    return np.asarray(np.log1p(x), dtype=np.float64)


def _exp_d2(a: FloatArray, b: FloatArray) -> FloatArray:
    return np.asarray(np.exp(b), dtype=np.float64)


def _expneg_d2(a: FloatArray, b: FloatArray) -> FloatArray:
    return np.asarray(np.exp(-a), dtype=np.float64)


def _log1p_d1(a: FloatArray, b: FloatArray) -> FloatArray:
    return np.asarray(1.0 / (1.0 + np.asarray(a)), dtype=np.float64)


def _log1p_d2(a: FloatArray, b: FloatArray) -> FloatArray:
    return np.asarray(1.0 / np.square(1.0 + np.asarray(a)), dtype=np.float64)


_ERF = np.vectorize(math.erf, otypes=[np.float64])
_ERFC = np.vectorize(math.erfc, otypes=[np.float64])


def _erf(x: FloatArray) -> FloatArray:
    return np.asarray(_ERF(x), dtype=np.float64)


def _ncdf(x: FloatArray) -> FloatArray:
    return np.asarray(0.5 * _ERFC(-x / math.sqrt(2.0)), dtype=np.float64)


def _gelu(x: FloatArray) -> FloatArray:
    return np.asarray(0.5 * x * _ERFC(-x / math.sqrt(2.0)), dtype=np.float64)


def _gelu_tanh(x: FloatArray) -> FloatArray:
    u = math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)
    return np.asarray(x * _sigmoid(2.0 * u), dtype=np.float64)


def _mish(x: FloatArray) -> FloatArray:
    return np.asarray(x * np.tanh(np.logaddexp(0.0, x)), dtype=np.float64)


def _elu(x: FloatArray) -> FloatArray:
    return np.asarray(np.where(x >= 0, x, np.expm1(np.minimum(x, 0.0))), dtype=np.float64)


#: Derivative bounds of the functions below: erf' <= 2 / sqrt(pi) = 1.1284 and
#: |erf''| <= 2 sqrt(2 / pi) e^(-1/2) = 0.9679; gelu' = Phi + x phi <= 1.129 and
#: |gelu''| = phi |2 - x^2| <= 2 phi(0) = 0.7979; the tanh form of gelu and mish stay
#: within 1.2 and 1.0 (their extrema, found on a dense grid, are 1.13 / 0.80 and
#: 1.09 / 0.60); elu' <= 1, |elu''| <= 1 (e^x on the negative side, 0 beyond; elu' is
#: continuous, so the interpolation bounds hold across 0).
#: max |sigmoid'| = 1/4, max |sigmoid''| = 1 / (6 sqrt 3); max |tanh''| = 4 / (3 sqrt 3);
#: ncdf (the standard normal CDF Phi): Phi' = phi <= 1 / sqrt(2 pi) = 0.39894 and
#: |Phi''| = |x| phi(x) <= phi(1) = 0.24197.
#: softplus' = sigmoid < 1 and softplus'' = sigmoid' <= 1/4; log1p' = 1 / (1 + x).
FUNCS: dict[str, Func] = {
    "sigmoid": Func("sigmoid", _sigmoid, _const(0.25), _const(0.0963), Tail(0, 0.0), Tail(0, 1.0)),
    "tanh": Func("tanh", _tanh, _const(1.0), _const(0.7699), Tail(0, -1.0), Tail(0, 1.0)),
    "softplus": Func("softplus", _softplus, _const(1.0), _const(0.25), Tail(0, 0.0), Tail(1, 0.0)),
    "exp": Func("exp", _exp, _exp_d2, _exp_d2, Tail(0, 0.0), None),
    "expneg": Func("expneg", _expneg, _expneg_d2, _expneg_d2, None, Tail(0, 0.0)),
    "log1p": Func("log1p", _log1p, _log1p_d1, _log1p_d2, None, None),
    "erf": Func("erf", _erf, _const(1.1284), _const(0.968), Tail(0, -1.0), Tail(0, 1.0)),
    "gelu": Func("gelu", _gelu, _const(1.13), _const(0.7979), Tail(0, 0.0), Tail(1, 0.0)),
    "gelu_tanh": Func(
        "gelu_tanh", _gelu_tanh, _const(1.2), _const(1.0), Tail(0, 0.0), Tail(1, 0.0)
    ),
    "mish": Func("mish", _mish, _const(1.2), _const(1.0), Tail(0, 0.0), Tail(1, 0.0)),
    "elu": Func("elu", _elu, _const(1.0), _const(1.0), Tail(0, -1.0), Tail(1, 0.0)),
    "ncdf": Func("ncdf", _ncdf, _const(0.39895), _const(0.24198), Tail(0, 0.0), Tail(0, 1.0)),
}


def lipschitz(name: str, a: float, b: float) -> float:
    """An upper bound of |f'| on [a, b] for the function `name`."""
    return float(FUNCS[name].d1max(np.array([a]), np.array([b]))[0])


def tail_error(func: Func, side: str, x: float) -> float:
    """|f(x) - tail(x)| for the tail on `side` ("below" or "above"), computed without
    cancellation where it matters (tiny differences from a saturation value)."""
    tail = func.below if side == "below" else func.above
    if tail is None:
        raise ValueError(f"{func.name} has no {side} tail")
    name, sign = func.name, (1.0 if side == "below" else -1.0)
    if name == "sigmoid":
        return _logistic(sign * x)
    if name == "tanh":
        return 2.0 * _logistic(2.0 * sign * x)
    if name == "softplus":
        return float(np.logaddexp(0.0, sign * x))
    if name in ("exp", "expneg"):
        z = x if name == "exp" else -x
        return math.exp(z) if z < 700 else math.inf
    return _tail_error_extra(name, side, x)


def _tail_error_extra(name: str, side: str, x: float) -> float:
    """Tail errors of erf, gelu, gelu_tanh, mish and elu (each monotone toward the domain)."""
    neg = side == "below"
    if name == "erf":
        return math.erfc(-x if neg else x)
    if name == "ncdf":  # Phi(x) below, 1 - Phi(x) above
        return 0.5 * math.erfc((x if neg else -x) / math.sqrt(2.0))
    # gelu and mish: the monotone envelope of `circuits.approx.exact._TAILS`
    if name == "gelu":  # -x Phi(x) below; x Phi(-x) above
        z = min(x, -1.0) if neg else -max(x, 1.0)
        return -z * 0.5 * math.erfc(-z / math.sqrt(2.0))
    if name == "gelu_tanh":
        z = min(x, -1.0) if neg else max(x, 1.0)
        u = math.sqrt(2.0 / math.pi) * (z + 0.044715 * z**3)
        return abs(z) * _logistic(2.0 * u if neg else -2.0 * u)
    if name == "mish":
        z = min(x, -1.5) if neg else max(x, 2.0)
        t = math.tanh(float(np.logaddexp(0.0, z)))
        return abs(z) * (t if neg else 1.0 - t)
    if name == "elu":
        return math.exp(x) if neg else (0.0 if x >= 0 else math.expm1(x) - x)
    raise ValueError(f"{name} has no tails")


def _logistic(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)
