"""Division by computed values and integer square roots: exact answers, boundaries, and
malicious hints that the constraints must catch."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circuits.builder import Builder
from circuits.field import R, from_field
from circuits.gadgets.division import div_any_sign, div_round_even, div_signed, isqrt
from circuits.lc import LinearCombination
from circuits.program import Circuit
from circuits.testing import Tamper, check_circuit, hint_outputs, replay

FAST = settings(max_examples=40, deadline=None)


def _round_half_up(a: int, b: int) -> int:
    return (2 * a + b) // (2 * b)


def _div_signed(api: Builder) -> LinearCombination:
    return div_signed(api, api.private_input("a"), api.private_input("b"), 12, 14)


def _div_any(api: Builder) -> LinearCombination:
    return div_any_sign(api, api.private_input("a"), api.private_input("b"), 12, 14)


def _div_even(api: Builder) -> LinearCombination:
    return div_round_even(api, api.private_input("a"), api.private_input("b"), 12, 14)


def _round_half_even(a: int, b: int) -> int:
    q, r = divmod(2 * a + b, 2 * b)
    return q - 1 if r == 0 and q % 2 else q


def _isqrt(api: Builder) -> LinearCombination:
    return isqrt(api, api.private_input("x"), 20)


def _shift_hint(name: str, delta: int, index: int = 0) -> Tamper:
    def tamper(w: list[int], c: Circuit) -> list[int]:
        wire = hint_outputs(c, name)[0][index]
        return replay(c, w, {wire: from_field(w[wire]) + delta})

    return tamper


@FAST
@given(st.integers(-(1 << 20), 1 << 20), st.integers(1, (1 << 12) - 1))
def test_div_signed_is_rounded_quotient(a: int, b: int) -> None:
    q = _round_half_up(a, b)
    if not -(1 << 13) <= q < 1 << 13:
        return
    res = check_circuit(_div_signed, [{"a": a, "b": b}])
    assert from_field(res.outputs[0][0]) == q


def test_div_signed_boundaries_and_lies() -> None:
    check_circuit(
        _div_signed,
        [
            {"a": 0, "b": 1},
            {"a": -(1 << 13), "b": 1},
            {"a": (1 << 13) - 1, "b": 1},
            {"a": 7, "b": 2},
        ],
        [{"a": 1, "b": 0}, {"a": 1 << 13, "b": 1}, {"a": -(1 << 20), "b": 3}, {"a": 3, "b": R - 1}],
        malicious=[_shift_hint("div_round_var", 1), _shift_hint("div_round_var", -1)],
    )


@FAST
@given(st.integers(-(1 << 16), 1 << 16), st.integers(-(1 << 10), 1 << 10).filter(bool))
def test_div_any_sign(a: int, b: int) -> None:
    res = check_circuit(_div_any, [{"a": a, "b": b}])
    got = from_field(res.outputs[0][0])
    assert abs(got - a / b) <= 0.5


def test_div_any_sign_lies() -> None:
    check_circuit(
        _div_any,
        [{"a": -9, "b": -2}, {"a": 9, "b": 2}],
        [{"a": 1, "b": 0}],
        malicious=[
            _shift_hint("div_round_var", 1),
            _shift_hint("bits", 1, index=11),  # the sign bit of b
        ],
    )


@FAST
@given(st.integers(0, (1 << 20) - 1))
def test_isqrt_is_floor(x: int) -> None:
    res = check_circuit(_isqrt, [{"x": x}])
    assert from_field(res.outputs[0][0]) == math.isqrt(x)


@pytest.mark.parametrize("delta", [1, -1, 2])
def test_isqrt_lies(delta: int) -> None:
    check_circuit(
        _isqrt,
        [{"x": 0}, {"x": 1}, {"x": 15}, {"x": 16}, {"x": (1 << 20) - 1}],
        [{"x": -1}, {"x": 1 << 22}, {"x": R - 1}],
        malicious=[_shift_hint("isqrt_floor", delta)],
    )


@FAST
@given(st.integers(-(1 << 20), 1 << 20), st.integers(1, (1 << 12) - 1))
def test_div_round_even_is_rounded_quotient(a: int, b: int) -> None:
    q = _round_half_even(a, b)
    if not -(1 << 13) <= q < (1 << 13) - 1:
        return
    res = check_circuit(_div_even, [{"a": a, "b": b}], prove=False)
    assert from_field(res.outputs[0][0]) == q
    assert q == round(a / b) or abs(a / b - q) < 0.5  # Python's round is ties-to-even too


def test_div_round_even_ties_and_lies() -> None:
    """5 / 2 = 2.5 rounds to 2 and -7 / 2 to -4; claiming 'no tie' (the is_zero bit), an
    odd quotient's parity, or the neighbouring quotient each break a constraint."""
    res = check_circuit(
        _div_even,
        [
            {"a": 5, "b": 2},
            {"a": 7, "b": 2},
            {"a": -7, "b": 2},
            {"a": -5, "b": 2},
            {"a": 0, "b": 1},
        ],
        [{"a": 1, "b": 0}, {"a": 1 << 13, "b": 1}],
        malicious=[
            _shift_hint("div_round_var", 1),
            _shift_hint("div_round_var", -1),
            _shift_hint("is_zero", -1),
            _shift_hint("bits", 1),
        ],
    )
    assert [from_field(o[0]) for o in res.outputs] == [2, 4, -4, -2, 0]
