"""locate: the bits [x <= c] for sorted cut points, proved by one interval."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circuits.builder import Builder
from circuits.errors import BuildError
from circuits.field import R
from circuits.gadgets.locate import locate, locate_cost
from circuits.lc import LinearCombination
from circuits.testing import Define, check_circuit
from tests.circuits.gadgets.locate_tampers import flip, non_boolean, shift_step

FAST = settings(max_examples=60, deadline=None)


def checker(cuts: Sequence[int], n: int) -> Define:
    def define(api: Builder) -> list[LinearCombination]:
        return locate(api, api.private_input("x"), cuts, n)

    return define


def expected(x: int, cuts: Sequence[int]) -> list[int]:
    return [int(x <= c) for c in cuts]


@FAST
@given(
    st.integers(2, 40),
    st.lists(st.integers(-(2**40), 2**40), min_size=0, max_size=12, unique=True),
    st.data(),
)
def test_bits_are_exactly_the_comparisons(n: int, raw: list[int], data: st.DataObject) -> None:
    cuts = sorted(raw)
    half = 1 << (n - 1)
    xs = [data.draw(st.integers(-half, half - 1)) for _ in range(3)]
    res = check_circuit(checker(cuts, n), [{"x": x} for x in xs])
    for x, out in zip(xs, res.outputs, strict=True):
        assert out == expected(x, cuts)
    inside = sum(1 for c in cuts if -half <= c < half - 1)
    assert res.n_constraints == locate_cost(inside, n)


@pytest.mark.parametrize("n", [2, 8, 24])
def test_boundaries(n: int) -> None:
    half = 1 << (n - 1)
    cuts = sorted({-half - 5, -half, -1, 0, half - 2, half - 1, half + 3})
    xs = [-half, -half + 1, -1, 0, 1, half - 2, half - 1]
    res = check_circuit(checker(cuts, n), [{"x": x} for x in xs], [{"x": half}, {"x": -half - 1}])
    for x, out in zip(xs, res.outputs, strict=True):
        assert out == expected(x, cuts)


def test_a_witness_that_takes_another_interval_fails() -> None:
    cuts = [-100, -3, 0, 7, 50]
    tampers = [shift_step(1), shift_step(-1), shift_step(2), flip(0), flip(2), flip(4), non_boolean]
    check_circuit(checker(cuts, 16), [{"x": 2}], malicious=tampers)
    check_circuit(checker(cuts, 16), [{"x": 0}], malicious=[shift_step(1), shift_step(-1)])


def test_single_cut_uses_one_comparison_and_constants_are_free() -> None:
    res = check_circuit(checker([5], 16), [{"x": 5}, {"x": 6}])
    assert res.outputs == [[1], [0]]
    assert res.n_constraints == locate_cost(1, 16) == 18
    api = Builder()
    bits = locate(api, LinearCombination.constant(R - 4), [-5, -4, 100], 8)
    assert [b.constant_value() for b in bits] == [0, 1, 1]
    assert api.n_constraints == 0


def test_proves() -> None:
    check_circuit(checker([-7, 0, 9, 30], 12), [{"x": 9}, {"x": -2048}], prove=True)


def test_unsorted_cuts_and_bad_width_raise() -> None:
    api = Builder()
    with pytest.raises(BuildError, match="strictly increasing"):
        locate(api, api.private_input("x"), [3, 3], 8)
    with pytest.raises(BuildError, match="locate: n = 252"):
        locate(api, api.private_input("y"), [1], 252)
