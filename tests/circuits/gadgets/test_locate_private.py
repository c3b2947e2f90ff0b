"""locate_private and assert_sorted_within: the bits [x <= c] for committed cut points."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circuits.builder import Builder
from circuits.field import R
from circuits.gadgets.locate_private import (
    assert_sorted_within,
    locate_private,
    locate_private_cost,
    sorted_cost,
)
from circuits.lc import LinearCombination
from circuits.testing import Define, check_circuit
from tests.circuits.gadgets.locate_tampers import flip, shift_step

FAST = settings(max_examples=40, deadline=None)


def checker(m: int, n: int) -> Define:
    def define(api: Builder) -> list[LinearCombination]:
        cuts = api.private_inputs("c", m)
        assert_sorted_within(api, cuts, n)
        return locate_private(api, api.private_input("x"), cuts, n)

    return define


def assignment(x: int, cuts: Sequence[int]) -> dict[str, int | list[int]]:
    return {"x": x, "c": list(cuts)}


@FAST
@given(st.integers(2, 30), st.lists(st.integers(0, 2**30), min_size=1, max_size=8), st.data())
def test_bits_are_exactly_the_comparisons(n: int, raw: list[int], data: st.DataObject) -> None:
    half = 1 << (n - 1)
    cuts = sorted(-half - 1 + r % (2 * half + 1) for r in raw)  # duplicates allowed
    xs = [data.draw(st.integers(-half, half - 1)) for _ in range(3)]
    res = check_circuit(checker(len(cuts), n), [assignment(x, cuts) for x in xs], prove=False)
    for x, out in zip(xs, res.outputs, strict=True):
        assert out == [int(x <= c) for c in cuts]
    assert res.n_constraints == sorted_cost(len(cuts), n) + locate_private_cost(len(cuts), n)


def test_unsorted_or_out_of_range_cuts_are_refused() -> None:
    n = 8
    valid = [assignment(3, [-129, -5, -5, 0, 127]), assignment(-128, [-1, 2, 3, 4, 5])]
    invalid = [
        assignment(3, [-5, -6, 0, 1, 2]),  # a descent
        assignment(3, [-130, -5, 0, 1, 2]),  # below lo - 1
        assignment(3, [-5, 0, 1, 2, 128]),  # above hi
        assignment(3, [-5, 0, 1, 2, R - 1]),  # a "negative" wrap of a huge value
    ]
    check_circuit(checker(5, n), valid, invalid)


def test_a_witness_that_takes_another_interval_fails() -> None:
    cuts = [-100, -3, -3, 7, 50]
    tampers = [shift_step(1), shift_step(-1), shift_step(2), flip(0), flip(2), flip(4)]
    check_circuit(checker(5, 16), [assignment(2, cuts)], malicious=tampers)
    # on a duplicate cut: the empty interval between the equal cuts is refused too
    check_circuit(checker(5, 16), [assignment(-3, cuts)], malicious=[shift_step(1), flip(2)])


@pytest.mark.parametrize("n", [4, 16])
def test_proves_at_the_range_ends(n: int) -> None:
    half = 1 << (n - 1)
    cuts = [-half - 1, -half, 0, half - 1, half - 1]
    check_circuit(checker(5, n), [assignment(-half, cuts), assignment(half - 1, cuts)])
