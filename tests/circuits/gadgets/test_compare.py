"""Equality and ordering: is_zero, is_equal, less_than, less_or_equal, assert_less_*."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circuits.builder import Builder
from circuits.errors import BuildError
from circuits.field import R
from circuits.gadgets.compare import (
    assert_less_or_equal,
    assert_less_than,
    is_equal,
    is_zero,
    less_or_equal,
    less_than,
)
from circuits.lc import LinearCombination, Operand
from circuits.program import Circuit
from circuits.testing import Define, check_circuit, hint_outputs, replay

FAST = settings(max_examples=60, deadline=None)
WIDTHS = [1, 8, 32, 252]


def signed(n: int) -> st.SearchStrategy[int]:
    return st.integers(-(1 << (n - 1)), (1 << (n - 1)) - 1)


def unary(gadget: Callable[[Builder, LinearCombination], LinearCombination]) -> Define:
    def define(api: Builder) -> LinearCombination:
        return gadget(api, api.private_input("x"))

    return define


def binary(
    gadget: Callable[
        [Builder, LinearCombination, LinearCombination, int], LinearCombination | None
    ],
    n: int,
) -> Define:
    def define(api: Builder) -> LinearCombination | None:
        return gadget(api, api.private_input("a"), api.private_input("b"), n)

    return define


# is_zero / is_equal ---------------------------------------------------------------------
def lie_about_zero(w: list[int], c: Circuit) -> list[int]:
    """Claim the opposite answer, with the inverse that best supports the lie."""
    (out, inv) = hint_outputs(c, "is_zero")[0]
    return replay(c, w, {out: 1 - w[out], inv: 0 if w[out] == 0 else 1})


@FAST
@given(st.one_of(st.just(0), st.integers(1, R - 1), st.integers(-(1 << 64), 1 << 64)))
def test_is_zero_matches_python(x: int) -> None:
    res = check_circuit(unary(is_zero), [{"x": x}], malicious=[lie_about_zero], prove=False)
    assert res.outputs[0] == [1 if x % R == 0 else 0]
    assert res.n_constraints == 2


@pytest.mark.parametrize("x", [0, 1, R - 1, 1 << 253])
def test_is_zero_rejects_any_other_output(x: int) -> None:
    def wrong_inverse(w: list[int], c: Circuit) -> list[int]:
        (_, inv) = hint_outputs(c, "is_zero")[0]
        return replay(c, w, {inv: w[inv] + 1})

    tampers = [lie_about_zero] + ([wrong_inverse] if x else [])
    check_circuit(unary(is_zero), [{"x": x}], malicious=tampers)


@FAST
@given(st.integers(-(1 << 64), 1 << 64), st.integers(-(1 << 64), 1 << 64))
def test_is_equal_matches_python(a: int, b: int) -> None:
    res = check_circuit(
        binary(lambda api, a, b, _: is_equal(api, a, b), 0),
        [{"a": a, "b": b}],
        malicious=[lie_about_zero],
        prove=False,
    )
    assert res.outputs[0] == [int(a == b)]
    assert res.n_constraints == 2


# less_than / less_or_equal --------------------------------------------------------------
def forged_comparison(w: list[int], c: Circuit) -> list[int]:
    """Flip the sign bit, move its weight into bit 0: the sum holds, bit 0 is not boolean."""
    (bits,) = hint_outputs(c, "bits")
    n = len(bits) - 1
    top, low = bits[n], bits[0]
    delta = 1 - 2 * w[top]
    return replay(c, w, {top: w[top] + delta, low: w[low] - delta * (1 << n)})


@FAST
@given(st.sampled_from(WIDTHS), st.data())
def test_less_than_matches_python(n: int, data: st.DataObject) -> None:
    a, b = data.draw(signed(n)), data.draw(signed(n))
    res = check_circuit(
        binary(less_than, n), [{"a": a, "b": b}], malicious=[forged_comparison], prove=False
    )
    assert res.outputs[0] == [int(a < b)]
    assert res.n_constraints == n + 2
    res = check_circuit(
        binary(less_or_equal, n), [{"a": a, "b": b}], malicious=[forged_comparison], prove=False
    )
    assert res.outputs[0] == [int(a <= b)]
    assert res.n_constraints == n + 2


@pytest.mark.parametrize("n", WIDTHS)
def test_less_than_boundaries(n: int) -> None:
    lo, hi = -(1 << (n - 1)), (1 << (n - 1)) - 1
    pairs = [(lo, hi), (hi, lo), (lo, lo), (hi, hi), (0, 0), (-1, 0), (0, -1)]
    res = check_circuit(binary(less_than, n), [{"a": a, "b": b} for a, b in pairs])
    assert res.outputs == [[int(a < b)] for a, b in pairs]


@FAST
@given(
    st.integers(-(1 << 252), 1 << 252), st.integers(-(1 << 252), 1 << 252), st.sampled_from([8, 64])
)
def test_less_than_is_sound_without_input_range_checks(a: int, b: int, n: int) -> None:
    """Out-of-range inputs never yield a wrong answer: either a < b exactly or no witness."""
    api = Builder()
    out = binary(less_than, n)(api)
    circuit = api.build()
    w = circuit.solve({"a": a, "b": b}, check=False)
    satisfied = circuit.cs.is_satisfied(w.values)
    assert satisfied == (-(1 << n) <= a - b < 1 << n)
    if satisfied:
        assert isinstance(out, LinearCombination) and out.evaluate(w.values) == int(a < b)


def test_difference_out_of_range_has_no_witness() -> None:
    n = 8
    check_circuit(
        binary(less_than, n),
        [{"a": 127, "b": -128}],
        [{"a": 128, "b": -128}, {"a": -130, "b": 127}, {"a": R - 1, "b": 1 << 200}],
    )


# assertions -----------------------------------------------------------------------------
def claim_reversed_order(w: list[int], c: Circuit) -> list[int]:
    """Swap a and b (so a > b) and keep the old digits but for bit 0, which absorbs the
    change of b - a: the recomposition holds, bit 0 is no longer boolean."""
    a, b = w[1], w[2]
    (bits,) = hint_outputs(c, "bits")
    forced = {d: w[d] for d in bits} | {1: b, 2: a, bits[0]: w[bits[0]] + 2 * (a - b)}
    forged = replay(c, w, forced)
    assert c.cs.first_unsatisfied(forged) == 0, "bit 0's booleanity should be the failure"
    return forged


@FAST
@given(st.sampled_from(WIDTHS), st.data())
def test_assert_less_than_accepts_exactly_a_lt_b(n: int, data: st.DataObject) -> None:
    a, b = data.draw(signed(n)), data.draw(signed(n))
    if a == b:
        b = a + 1 if a + 1 < 1 << (n - 1) else a - 1
    lo, hi = min(a, b), max(a, b)
    for gadget in (assert_less_than, assert_less_or_equal):
        res = check_circuit(
            binary(gadget, n),
            [{"a": lo, "b": hi}],
            [{"a": hi, "b": lo}],
            malicious=[claim_reversed_order],
            prove=False,
        )
        assert res.n_constraints == n + 1
    check_circuit(binary(assert_less_or_equal, n), [{"a": a, "b": a}], prove=False)
    check_circuit(
        binary(assert_less_than, n), [{"a": lo, "b": hi}], [{"a": a, "b": a}], prove=False
    )


def test_comparison_proves() -> None:
    def define(api: Builder) -> LinearCombination:
        a, b = api.public_input("a"), api.private_input("b")
        assert_less_than(api, b, a, 16)
        return less_than(api, a, b, 16)

    check_circuit(define, [{"a": 5, "b": -7}, {"a": 32767, "b": -32768}], prove=True)


def test_constant_operands_fold() -> None:
    api = Builder()
    x = api.private_input("x")
    assert less_than(api, x, x + 1, 8).constant_value() == 1
    assert is_equal(api, x + 2, x + 2).constant_value() == 1
    assert is_zero(api, 3).constant_value() == 0
    assert_less_than(api, x, x + 1, 8)
    assert api.n_constraints == 0
    with pytest.raises(BuildError, match="does not fit"):
        assert_less_or_equal(api, x + 1, x, 8)


@pytest.mark.parametrize(
    "gadget", [less_than, less_or_equal, assert_less_than, assert_less_or_equal]
)
@pytest.mark.parametrize("n", [0, 253])
def test_bad_width_raises_naming_the_gadget(
    gadget: Callable[[Builder, Operand, Operand, int], object], n: int
) -> None:
    api = Builder()
    with pytest.raises(BuildError, match=rf"{gadget.__name__}: n = {n} is out of range"):
        gadget(api, api.private_input("a"), api.private_input("b"), n)
