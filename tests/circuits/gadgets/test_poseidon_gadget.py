"""The Poseidon gadget: equal to the value implementation, exact cost, tamper-proof."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circuits.builder import Builder
from circuits.errors import BuildError
from circuits.field import R
from circuits.gadgets.poseidon import poseidon_constraints, poseidon_hash
from circuits.lc import LinearCombination
from circuits.poseidon import poseidon
from circuits.program import Circuit
from circuits.testing import Define, check_circuit, replay, wire


def hasher(n: int) -> Define:
    def define(api: Builder) -> LinearCombination:
        return poseidon_hash(api, api.private_inputs("x", n))

    return define


def _digest_of_other_input(w: list[int], c: Circuit) -> list[int]:
    """A prover claiming the digest of other inputs: change an S-box output in place."""
    target = c.cs.n_public + 1 + 5  # a multiplication wire of the first round
    return replay(c, w, {target: (w[target] + 1) % R})


@pytest.mark.parametrize("n", [1, 2, 16])
def test_equals_values_and_costs_exactly(n: int) -> None:
    xs = [[0] * n, [R - 1] * n, [(1 << 248) - 1 - i for i in range(n)]]
    if n == 16:  # the widest hash: one boundary case keeps the eager rebuilds short
        xs = xs[1:2]
    res = check_circuit(hasher(n), [{"x": list(x)} for x in xs])
    assert res.n_constraints == poseidon_constraints(n)
    assert [o[0] for o in res.outputs] == [poseidon(list(x)) for x in xs]


def test_published_counts() -> None:
    assert poseidon_constraints(2) == 240
    assert poseidon_constraints(16) == 609


@settings(max_examples=6, deadline=None)
@given(st.lists(st.integers(0, R - 1), min_size=1, max_size=4))
def test_random_inputs(xs: list[int]) -> None:
    res = check_circuit(hasher(len(xs)), [{"x": xs}])
    assert res.outputs[0] == [poseidon(xs)]


def test_a_changed_intermediate_wire_is_caught() -> None:
    check_circuit(hasher(2), [{"x": [1, 2]}], malicious=[_digest_of_other_input])


def test_the_output_is_pinned() -> None:
    """The digest cannot be claimed for other inputs: bind it to a public wire and tamper."""

    def define(api: Builder) -> LinearCombination:
        out = api.public_input("h")
        api.assign_public(out, poseidon_hash(api, api.private_inputs("x", 2)))
        return out

    def forge(w: list[int], c: Circuit) -> list[int]:
        forged = list(w)
        forged[wire(1)] = poseidon([1, 3])  # the digest of other inputs
        return forged

    check_circuit(define, [{"x": [1, 2]}], malicious=[forge])


def test_constant_inputs_fold() -> None:
    api = Builder()
    out = poseidon_hash(api, [1, 2])
    assert out.is_constant() and out.constant_value() == poseidon([1, 2])
    assert api.n_constraints == 0


@pytest.mark.parametrize("n", [0, 17])
def test_arity_is_checked_when_built(n: int) -> None:
    with pytest.raises(BuildError, match=r"1\.\.16"):
        poseidon_hash(Builder(), [1] * n)
