"""The test helper itself: check_circuit must fail loudly whenever a check does not hold."""

from __future__ import annotations

import pytest

from circuits.builder import Builder
from circuits.field import R
from circuits.lc import LinearCombination
from circuits.program import Circuit
from circuits.testing import check_circuit, hint_outputs, replay, tamper, wire


def square(api: Builder) -> LinearCombination:
    y, x = api.public_input("y"), api.private_input("x")
    sq = api.mul(x, x)
    api.assert_equal(sq, y)
    return sq


def square_private_first(api: Builder) -> LinearCombination:
    """Inputs declared out of wire order: the builder renumbers, the checks must follow."""
    x = api.private_input("x")
    sq = api.mul(x, x)
    api.assert_equal(sq, api.public_input("y"))
    return sq


def leaky(api: Builder) -> LinearCombination:
    """A broken gadget: the "bits" hint output is pinned by nothing but a tautology."""
    x = api.private_input("x")
    with api.gadget("leaky"):
        (b,) = api.hint("bits", [x], 1, n=1)
        api.assert_mul(b, x, api.mul(b, x))
    return b


def test_valid_invalid_and_outputs() -> None:
    valid = [{"x": 3, "y": 9}, {"x": -4, "y": 16}]
    res = check_circuit(square_private_first, valid, [{"x": 3, "y": 10}, {"x": 3}])
    assert res.outputs == [[9], [16]]
    assert res.n_constraints == 2
    assert [w.public for w in res.witnesses] == [[9], [16]]


def test_unsatisfiable_valid_assignment_fails() -> None:
    with pytest.raises(Exception, match="not satisfied"):
        check_circuit(square, [{"x": 3, "y": 10}])


def test_accepted_invalid_assignment_fails() -> None:
    with pytest.raises(AssertionError, match="was accepted"):
        check_circuit(square, [{"x": 3, "y": 9}], [{"x": 2, "y": 4}])


def test_tamper_that_satisfies_the_system_fails() -> None:
    def forge(w: list[int], c: Circuit) -> list[int]:
        (out,) = hint_outputs(c, "bits")[0]
        return replay(c, w, {out: 5})

    with pytest.raises(AssertionError, match="satisfies every constraint"):
        check_circuit(leaky, [{"x": 1}], malicious=[forge])


def test_tamper_that_changes_nothing_fails() -> None:
    with pytest.raises(AssertionError, match="unchanged"):
        check_circuit(square, [{"x": 3, "y": 9}], malicious=[lambda w, c: list(w)])


def test_shape_depending_on_values_is_caught() -> None:
    def define(api: Builder) -> None:
        x = api.private_input("x")
        if api.value(x) == 3:
            api.assert_bool(x - 3)

    with pytest.raises(AssertionError, match="different constraint system"):
        check_circuit(define, [{"x": 3}])


def test_replay_recomputes_downstream_wires() -> None:
    api = Builder()
    square(api)
    circuit = api.build()
    w = circuit.solve({"x": 3, "y": 9}).values
    forged = replay(circuit, w, {2: 5})
    assert forged[wire(LinearCombination.wire(3))] == 25  # the product follows the forged input
    assert circuit.cs.first_unsatisfied(forged) == 1


def test_tamper_reduces_mod_r() -> None:
    assert tamper([1, 2, 3], LinearCombination.wire(2), -1) == [1, 2, R - 1]
    with pytest.raises(ValueError, match="not a single wire"):
        wire(LinearCombination.wire(1) + 1)


def test_needs_a_valid_assignment() -> None:
    with pytest.raises(ValueError, match="at least one valid"):
        check_circuit(square, [])


def test_prove_path_rejects_a_changed_public_input() -> None:
    res = check_circuit(square, [{"x": 5, "y": 25}], prove=True)
    assert res.witnesses[0].public == [25]
