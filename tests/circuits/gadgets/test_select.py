"""Selection and piecewise-linear functions: select, max_, min_, abs_, clamp."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circuits.builder import Builder
from circuits.errors import BuildError
from circuits.field import R, from_field
from circuits.gadgets.compare import less_than
from circuits.gadgets.select import abs_, clamp, max_, min_, select
from circuits.lc import LinearCombination
from circuits.program import Circuit
from circuits.testing import Define, check_circuit, hint_outputs, replay, tamper

FAST = settings(max_examples=60, deadline=None)
WIDTHS = [1, 8, 64, 252]


def signed(n: int) -> st.SearchStrategy[int]:
    return st.integers(-(1 << (n - 1)), (1 << (n - 1)) - 1)


def forged_sign(w: list[int], c: Circuit) -> list[int]:
    """Flip the top bit of the (last) decomposition and move its weight into bit 0."""
    bits = hint_outputs(c, "bits")[-1]
    top, low = bits[-1], bits[0]
    delta = 1 - 2 * w[top]
    return replay(c, w, {top: w[top] + delta, low: w[low] - delta * (1 << (len(bits) - 1))})


# select ---------------------------------------------------------------------------------
def boolean_select(api: Builder) -> LinearCombination:
    cond = api.private_input("cond")
    api.assert_bool(cond)
    return select(api, cond, api.private_input("a"), api.private_input("b"))


@FAST
@given(st.integers(0, 1), st.integers(-(1 << 200), 1 << 200), st.integers(-(1 << 200), 1 << 200))
def test_select_matches_python(cond: int, a: int, b: int) -> None:
    res = check_circuit(boolean_select, [{"cond": cond, "a": a, "b": b}], prove=False)
    assert from_field(res.outputs[0][0]) == (a if cond else b)
    assert res.n_constraints == 2  # assert_bool + select


def test_non_boolean_condition_is_rejected() -> None:
    """cond = 2 with the product wire recomputed honestly: the booleanity check catches it."""

    def two(w: list[int], c: Circuit) -> list[int]:
        return replay(c, w, {1: 2})

    def half(w: list[int], c: Circuit) -> list[int]:
        return replay(c, w, {1: (R + 1) // 2})

    check_circuit(boolean_select, [{"cond": 1, "a": 7, "b": -3}], malicious=[two, half])


def test_condition_from_a_comparison_cannot_be_made_non_boolean() -> None:
    """select trusts cond; a cond from less_than is pinned, so forging it breaks the system."""

    def define(api: Builder) -> LinearCombination:
        a, b = api.private_input("a"), api.private_input("b")
        return select(api, less_than(api, a, b, 8), a, b)

    def cond_two(w: list[int], c: Circuit) -> list[int]:
        # cond = 1 - top bit = 2 needs top = -1; compensate in bit 0 to keep the sum.
        bits = hint_outputs(c, "bits")[0]
        return replay(c, w, {bits[-1]: -1, bits[0]: w[bits[0]] + (w[bits[-1]] + 1) * 256})

    res = check_circuit(define, [{"a": 3, "b": 9}], malicious=[cond_two, forged_sign])
    assert res.n_constraints == 8 + 2 + 1


def test_product_wire_cannot_be_changed() -> None:
    def wrong_product(w: list[int], c: Circuit) -> list[int]:
        return tamper(w, c.cs.n_wires - 1, w[-1] + 1)

    check_circuit(boolean_select, [{"cond": 1, "a": 7, "b": -3}], malicious=[wrong_product])


def test_constant_condition_folds() -> None:
    api = Builder()
    a, b = api.private_input("a"), api.private_input("b")
    assert select(api, 1, a, b).terms == a.terms
    assert select(api, 0, a, b).terms == b.terms
    assert api.n_constraints == 0
    with pytest.raises(BuildError, match="select: the constant condition 2 is not 0 or 1"):
        select(api, 2, a, b)


# max / min / abs / clamp ----------------------------------------------------------------
def binary(
    gadget: Callable[[Builder, LinearCombination, LinearCombination, int], LinearCombination],
    n: int,
) -> Define:
    def define(api: Builder) -> LinearCombination:
        return gadget(api, api.private_input("a"), api.private_input("b"), n)

    return define


@FAST
@given(st.sampled_from(WIDTHS), st.data())
def test_max_min_match_python(n: int, data: st.DataObject) -> None:
    a, b = data.draw(signed(n)), data.draw(signed(n))
    for gadget, expected in ((max_, max(a, b)), (min_, min(a, b))):
        res = check_circuit(
            binary(gadget, n), [{"a": a, "b": b}], malicious=[forged_sign], prove=False
        )
        assert from_field(res.outputs[0][0]) == expected
        assert res.n_constraints == n + 3


def abs_circuit(n: int) -> Define:
    def define(api: Builder) -> LinearCombination:
        return abs_(api, api.private_input("x"), n)

    return define


@FAST
@given(st.sampled_from(WIDTHS), st.data())
def test_abs_matches_python(n: int, data: st.DataObject) -> None:
    x = data.draw(signed(n))
    res = check_circuit(abs_circuit(n), [{"x": x}], malicious=[forged_sign], prove=False)
    assert res.outputs[0] == [abs(x)]
    assert res.n_constraints == n + 2


@pytest.mark.parametrize("n", WIDTHS)
def test_abs_boundaries(n: int) -> None:
    half = 1 << (n - 1)
    res = check_circuit(
        abs_circuit(n), [{"x": -half}, {"x": half - 1}, {"x": 0}], [{"x": half}, {"x": -half - 1}]
    )
    assert res.outputs == [[half], [half - 1], [0]]


def clamp_circuit(lo: int, hi: int, n: int) -> Define:
    def define(api: Builder) -> LinearCombination:
        return clamp(api, api.private_input("x"), lo, hi, n)

    return define


@FAST
@given(st.sampled_from([2, 8, 64, 252]), st.data())
def test_clamp_matches_python(n: int, data: st.DataObject) -> None:
    lo, hi = sorted((data.draw(signed(n)), data.draw(signed(n))))
    edges = [v for v in (lo, hi, lo - 1, hi + 1) if -(1 << (n - 1)) <= v < 1 << (n - 1)]
    x = data.draw(st.one_of(signed(n), st.sampled_from(edges)))
    res = check_circuit(clamp_circuit(lo, hi, n), [{"x": x}], malicious=[forged_sign], prove=False)
    assert from_field(res.outputs[0][0]) == min(max(x, lo), hi)
    assert res.n_constraints == 2 * n + 6


def test_clamp_relu6_like() -> None:
    res = check_circuit(clamp_circuit(0, 6, 8), [{"x": x} for x in (-128, -1, 0, 3, 6, 7, 127)])
    assert [o[0] for o in res.outputs] == [0, 0, 0, 3, 6, 6, 6]


def test_piecewise_functions_prove() -> None:
    def define(api: Builder) -> list[LinearCombination]:
        a, b = api.public_input("a"), api.private_input("b")
        return [
            max_(api, a, b, 16),
            min_(api, a, b, 16),
            abs_(api, a, 16),
            clamp(api, b, -5, 5, 16),
        ]

    check_circuit(define, [{"a": -300, "b": 200}, {"a": 4, "b": -4}], prove=True)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda api, x: max_(api, x, x, 0), r"max: n = 0"),
        (lambda api, x: min_(api, x, x, 253), r"min: n = 253"),
        (lambda api, x: abs_(api, x, 253), r"abs: n = 253"),
        (lambda api, x: clamp(api, x, 5, 4, 8), r"clamp: hi = 4 is out of range \[5, 127\]"),
        (lambda api, x: clamp(api, x, -129, 4, 8), r"clamp: lo = -129"),
        (lambda api, x: clamp(api, x, 0, 128, 8), r"clamp: hi = 128"),
    ],
)
def test_preconditions_raise_at_build_time(
    call: Callable[[Builder, LinearCombination], object], message: str
) -> None:
    api = Builder()
    with pytest.raises(BuildError, match=message):
        call(api, api.private_input("x"))
