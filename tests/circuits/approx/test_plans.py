"""Approximation plans: the stored error is the true maximum (exhaustive domains) or a
rigorous bound (wide ones), and a plan's numbers do not depend on float rounding."""

from __future__ import annotations

import math

import numpy as np
import pytest

from circuits.approx import FUNCS, make_plan
from circuits.approx.certify import certify_bound
from circuits.approx.fit import geometry

PLANS = [
    ("sigmoid", 10, 10, -(1 << 16), 1 << 16, False),
    ("tanh", 10, 12, -(1 << 14), 1 << 14, True),
    ("softplus", 9, 11, -(1 << 14), 1 << 13, False),
    ("exp", 10, 10, -(1 << 14), 3 << 10, False),
    ("expneg", 10, 14, 0, 1 << 15, True),
    ("log1p", 12, 12, 0, (1 << 12) - 1, True),
]


@pytest.mark.parametrize("spec", PLANS, ids=[p[0] for p in PLANS])
def test_exhaustive_error_is_the_true_maximum(spec: tuple[str, int, int, int, int, bool]) -> None:
    func, s_in, s_out, lo, hi, mid = spec
    plan = make_plan(func, s_in, s_out, lo, hi, midpoint=mid)
    assert plan.method == "exhaustive"
    xs = np.arange(lo, hi + 1)
    ys = np.array([plan.evaluate(int(x)) for x in xs], dtype=np.float64)
    exact = FUNCS[func].f(np.ldexp(2.0 * xs + mid, -s_in - 1))
    worst = float(np.max(np.abs(np.ldexp(ys, -s_out) - exact)))
    assert worst <= plan.max_error <= worst + 1e-9
    # the target: half a step of rounding plus a quarter step, relative to max(1, |f|)
    assert plan.max_scaled_error <= 0.75 * 2.0**-s_out + 1e-9


@pytest.mark.parametrize("spec", PLANS, ids=[p[0] for p in PLANS])
def test_rigorous_bound_covers_the_exhaustive_error(
    spec: tuple[str, int, int, int, int, bool],
) -> None:
    func, s_in, s_out, lo, hi, mid = spec
    plan = make_plan(func, s_in, s_out, lo, hi, midpoint=mid)
    g = geometry(FUNCS[func], s_in, s_out, lo, hi, 2, mid)
    coeffs = np.array(plan.coeffs, dtype=object)
    bound = certify_bound(g, coeffs, plan.seg_bits, plan.degree, plan.prec)
    assert bound.max_error >= plan.max_error
    assert bound.max_error <= plan.max_error + 2.0**-s_out  # and not uselessly loose
    assert bound.y_min <= plan.y_min and bound.y_max >= plan.y_max


def test_wide_domains_get_a_rigorous_bound_that_holds() -> None:
    plan = make_plan("sigmoid", 20, 16, -(40 << 20), 40 << 20)  # 2^25 domain points
    assert plan.method == "bound"
    xs = np.random.default_rng(1).integers(-(40 << 20), 40 << 20, 3000)
    for x in [*xs.tolist(), plan.lo, plan.lo - 1, plan.lo + (1 << plan.m)]:
        err = abs(
            math.ldexp(plan.evaluate(x), -16)
            - float(FUNCS["sigmoid"].f(np.array([math.ldexp(x, -20)]))[0])
        )
        assert err <= plan.max_error


def test_circuit_numbers_do_not_depend_on_float_rounding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Edges and coefficients come from decimal arithmetic: a float reference that is off
    in its last bits (as another platform's libm may be) yields the very same plan."""
    from circuits.approx import plan as plan_module
    from circuits.approx.funcs import Func

    ref = make_plan("tanh", 12, 12, -(1 << 17), 1 << 17)
    f = FUNCS["tanh"]
    noisy = Func(
        "tanh", lambda x: f.f(x) * (1 + 3e-16 * np.cos(x * 1e4)), f.d1max, f.d2max, f.below, f.above
    )
    monkeypatch.setitem(FUNCS, "tanh", noisy)
    plan_module._make_plan.cache_clear()
    try:
        again = make_plan("tanh", 12, 12, -(1 << 17), 1 << 17)
    finally:
        plan_module._make_plan.cache_clear()
    assert (again.lo, again.m, again.coeffs, again.y_min, again.y_max) == (
        ref.lo,
        ref.m,
        ref.coeffs,
        ref.y_min,
        ref.y_max,
    )
