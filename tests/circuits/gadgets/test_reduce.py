"""Reductions: max_many (tournament and hint routes), argmax and div_round."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circuits.builder import Builder
from circuits.errors import BuildError, WitnessError
from circuits.field import R, from_field
from circuits.gadgets.reduce import (
    argmax,
    div_round,
    max_hint_cost,
    max_many,
    max_tree_cost,
)
from circuits.lc import LinearCombination
from circuits.program import Circuit
from circuits.testing import Define, Tamper, check_circuit, hint_outputs, replay

FAST = settings(max_examples=40, deadline=None)


def signed(n: int) -> st.SearchStrategy[int]:
    return st.integers(-(1 << (n - 1)), (1 << (n - 1)) - 1)


def max_of(count: int, n: int) -> Define:
    def define(api: Builder) -> LinearCombination:
        m = max_many(api, [api.private_input(f"x{i}") for i in range(count)], n)
        assert isinstance(m, LinearCombination)
        return m

    return define


def argmax_of(count: int, n: int, last: bool = False) -> Define:
    def define(api: Builder) -> LinearCombination:
        return argmax(api, [api.private_input(f"x{i}") for i in range(count)], n, last=last)

    return define


def named(xs: list[int]) -> dict[str, int]:
    return {f"x{i}": x for i, x in enumerate(xs)}


def forced(hint: str, change: dict[int, int]) -> Tamper:
    """Replace outputs of the first call of `hint` (by position) with the given values."""

    def tamper(w: list[int], c: Circuit) -> list[int]:
        outs = hint_outputs(c, hint)[0]
        return replay(c, w, {outs[i]: v for i, v in change.items()})

    return tamper


# max_many ---------------------------------------------------------------------------------
@FAST
@given(st.sampled_from([2, 3, 8, 20]), st.sampled_from([4, 16, 64]), st.data())
def test_max_many_matches_python(count: int, n: int, data: st.DataObject) -> None:
    xs = data.draw(st.lists(signed(n), min_size=count, max_size=count))
    res = check_circuit(max_of(count, n), [named(xs)], prove=False)
    assert from_field(res.outputs[0][0]) == max(xs)
    expected = min(max_tree_cost(count, n), max_hint_cost(count, n))
    assert res.n_constraints == expected


@pytest.mark.parametrize("count", [3, 20])  # the tournament and the hint route
def test_max_many_boundaries(count: int) -> None:
    n = 8
    lo, hi = -(1 << (n - 1)), (1 << (n - 1)) - 1
    cases = [[lo] * count, [hi] * count, [lo] * (count - 1) + [hi], [hi] + [lo] * (count - 1)]
    cases.append([0] * count)
    res = check_circuit(max_of(count, n), [named(xs) for xs in cases], prove=count == 20)
    assert [from_field(o[0]) for o in res.outputs] == [max(xs) for xs in cases]


def test_max_many_hint_route_rejects_a_max_that_is_not_the_max() -> None:
    xs = [5, -3, 17, 2, 9, 0, 1, 4, 3, 8] * 2  # long enough for the hint route
    assert max_hint_cost(len(xs), 8) < max_tree_cost(len(xs), 8)
    check_circuit(
        max_of(len(xs), 8),
        [named(xs)],
        malicious=[
            forced("max_of", {0: 9}),  # one of the values, but not the largest
            forced("max_of", {0: 18}),  # above every value, but none of them
            forced("max_of", {0: R - 200}),  # -200: below every value
        ],
        prove=False,
    )


def test_max_many_of_constants_and_of_nothing() -> None:
    assert max_many(Builder(), [3, -2, 7], 8) == 7
    with pytest.raises(BuildError, match="max_many of no value"):
        max_many(Builder(), [], 8)


# argmax -----------------------------------------------------------------------------------
@FAST
@given(st.integers(2, 9), st.booleans(), st.data())
def test_argmax_matches_python(count: int, last: bool, data: st.DataObject) -> None:
    xs = data.draw(st.lists(st.integers(-3, 3), min_size=count, max_size=count))  # ties
    res = check_circuit(argmax_of(count, 8, last), [named(xs)], prove=False)
    top = max(xs)
    want = count - 1 - xs[::-1].index(top) if last else xs.index(top)
    assert res.outputs[0] == [want]


def test_argmax_boundaries() -> None:
    n = 8
    lo, hi = -(1 << (n - 1)), (1 << (n - 1)) - 1
    cases = [[lo, lo, lo], [hi, hi, hi], [lo, hi, lo], [lo, lo, hi], [hi, lo, lo]]
    res = check_circuit(argmax_of(3, n), [named(xs) for xs in cases])
    assert [o[0] for o in res.outputs] == [0, 0, 1, 2, 0]


def test_argmax_rejects_another_index_or_a_non_one_hot_vector() -> None:
    xs = [4, 9, 9, 1]  # the first maximum is at 1
    check_circuit(
        argmax_of(len(xs), 8),
        [named(xs)],
        malicious=[
            forced("argmax_onehot", {1: 0, 2: 1}),  # the other maximum
            forced("argmax_onehot", {1: 0, 0: 1}),  # not a maximum
            forced("argmax_onehot", {1: 0}),  # all zero
            forced("argmax_onehot", {1: 2, 0: R - 1}),  # sums to 1, not boolean
        ],
        prove=False,
    )


# div_round --------------------------------------------------------------------------------
def divider(b_bits: int, q_bits: int) -> Define:
    def define(api: Builder) -> LinearCombination:
        return div_round(api, api.private_input("a"), api.private_input("b"), b_bits, q_bits)

    return define


@FAST
@given(st.integers(1, (1 << 12) - 1), st.data())
def test_div_round_matches_python(b: int, data: st.DataObject) -> None:
    q = data.draw(st.integers(0, (1 << 10) - 1))
    a = data.draw(st.integers(max(0, q * b - b // 2), q * b + (b - 1) // 2))
    res = check_circuit(divider(12, 10), [{"a": a, "b": b}], prove=False)
    assert res.outputs[0] == [(2 * a + b) // (2 * b)] == [q]


def test_div_round_boundaries() -> None:
    b_max, q_max = (1 << 12) - 1, (1 << 10) - 1
    valid = [
        {"a": 0, "b": 1},
        {"a": 1, "b": 2},  # 0.5 rounds up
        {"a": 2, "b": 4},  # a tie again
        {"a": 3, "b": 2},  # 1.5 rounds up to 2
        {"a": q_max * b_max, "b": b_max},
        {"a": q_max * b_max + (b_max - 1) // 2, "b": b_max},
    ]
    res = check_circuit(divider(12, 10), valid)
    assert [o[0] for o in res.outputs] == [0, 1, 1, 2, q_max, q_max]
    check_circuit(
        divider(12, 10),
        [{"a": 7, "b": 3}],
        invalid=[
            {"a": 5, "b": 0},  # the hint refuses a zero divisor
            {"a": (q_max + 1) * 5, "b": 5},  # quotient beyond q_bits
        ],
        prove=False,
    )


def test_div_round_rejects_a_neighbouring_quotient() -> None:
    check_circuit(
        divider(12, 10),
        [{"a": 700, "b": 9}],  # 77.8 -> 78
        malicious=[forced("div_round_var", {0: 77}), forced("div_round_var", {0: 79})],
        prove=False,
    )


def test_div_round_refuses_widths_that_could_wrap() -> None:
    with pytest.raises(BuildError, match="too wide"):
        divider(200, 50)(Builder())


def test_a_zero_divisor_has_no_witness() -> None:
    """The hint gives 0 for a zero divisor, so the range check of the remainder fails in
    the gadget (and a compiled model names the node) instead of the hint raising."""
    b = Builder()
    divider(4, 4)(b)
    with pytest.raises(WitnessError, match=r"gadget 'div_round/.*is not satisfied"):
        b.build().solve({"a": 3, "b": 0})
