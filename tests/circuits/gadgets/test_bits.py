"""Bit decomposition: to_bits, from_bits, the alias check at 254 bits, assert_bits_le."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circuits.builder import Builder
from circuits.errors import BuildError
from circuits.field import R
from circuits.gadgets.bits import (
    ALIAS_CHECK_CONSTRAINTS,
    assert_bits_le,
    bits_le_constraints,
    from_bits,
    to_bits,
    to_signed_bits,
)
from circuits.lc import LinearCombination
from circuits.program import Circuit
from circuits.testing import Define, Tamper, check_circuit, hint_outputs, replay

FAST = settings(max_examples=60, deadline=None)


def bits_circuit(n: int) -> Define:
    def define(api: Builder) -> list[LinearCombination]:
        return to_bits(api, api.private_input("x"), n)

    return define


def bit_wires(c: Circuit) -> tuple[int, ...]:
    (wires,) = hint_outputs(c, "bits")
    return wires


@FAST
@given(st.sampled_from([1, 2, 8, 64, 253]), st.data())
def test_to_bits_matches_python(n: int, data: st.DataObject) -> None:
    x = data.draw(st.integers(0, (1 << n) - 1))
    res = check_circuit(bits_circuit(n), [{"x": x}], prove=False)
    assert res.outputs[0] == [(x >> i) & 1 for i in range(n)]
    assert res.n_constraints == n + 1


@pytest.mark.parametrize("n", [1, 8, 253])
def test_to_bits_boundaries(n: int) -> None:
    top = (1 << n) - 1
    invalid = [{"x": -1}] + ([{"x": 1 << n}] if n < 253 else [{"x": R - 1}])
    res = check_circuit(bits_circuit(n), [{"x": 0}, {"x": top}], invalid)
    assert res.outputs[1] == [1] * n


def test_alias_check_costs_253_constraints() -> None:
    assert ALIAS_CHECK_CONSTRAINTS == 253
    res = check_circuit(bits_circuit(254), [{"x": 0}, {"x": 5}, {"x": 1 << 253}, {"x": R - 1}])
    assert res.n_constraints == 254 + 1 + 253
    assert res.outputs[3] == [((R - 1) >> i) & 1 for i in range(254)]
    assert res.circuit.cs.constraints_by_gadget() == {"to_bits": 255, "to_bits/alias": 253}


@FAST
@given(st.integers(0, (1 << 254) - R - 1))
def test_alias_representation_x_plus_r_is_rejected(x: int) -> None:
    """The bits of x + r are boolean and recompose to x mod r: only the alias check stops them."""

    def alias(w: list[int], c: Circuit) -> list[int]:
        forged = replay(c, w, {b: ((x + R) >> i) & 1 for i, b in enumerate(bit_wires(c))})
        j = c.cs.first_unsatisfied(forged)
        assert j is not None and c.cs.gadget_of(j) == "to_bits/alias"
        return forged

    check_circuit(bits_circuit(254), [{"x": x}], malicious=[alias], prove=False)


def flip(i: int) -> Tamper:
    def tamper(w: list[int], c: Circuit) -> list[int]:
        b = bit_wires(c)[i]
        return replay(c, w, {b: 1 - w[b]})

    return tamper


def non_boolean(i: int) -> Tamper:
    """bit i + 2 and bit i+1 - 1: the recomposition still holds, booleanity must fail."""

    def tamper(w: list[int], c: Circuit) -> list[int]:
        bits = bit_wires(c)
        return replay(c, w, {bits[i]: w[bits[i]] + 2, bits[i + 1]: w[bits[i + 1]] - 1})

    return tamper


@pytest.mark.parametrize("n", [8, 254])
def test_tampered_bits_are_rejected(n: int) -> None:
    tampers = [flip(0), flip(n - 1), non_boolean(0), non_boolean(n - 2)]
    check_circuit(bits_circuit(n), [{"x": 0b10110}], malicious=tampers)


def test_to_bits_proves() -> None:
    def define(api: Builder) -> list[LinearCombination]:
        return to_bits(api, api.public_input("x"), 254)

    check_circuit(define, [{"x": R - 1}, {"x": 12345}], prove=True)


@pytest.mark.parametrize("c", range(1, 40))
def test_assert_bits_le_exhaustive(c: int) -> None:
    m = c.bit_length()

    def define(api: Builder) -> None:
        bits = api.private_inputs("b", m)
        for b in bits:
            api.assert_bool(b)
        assert_bits_le(api, bits, c)

    api = Builder()
    define(api)
    circuit = api.build()
    assert circuit.cs.n_constraints == m + bits_le_constraints(c)
    for v in range(1 << m):
        w = circuit.solve({"b": [(v >> i) & 1 for i in range(m)]}, check=False)
        assert circuit.cs.is_satisfied(w.values) == (v <= c), (c, v)


def test_from_bits_is_free() -> None:
    api = Builder()
    bits = api.private_inputs("b", 3)
    lc = from_bits(bits)
    assert api.n_constraints == 0
    assert lc.evaluate([1, 1, 0, 1]) == 5


def test_constants_fold() -> None:
    api = Builder()
    assert [b.constant_value() for b in to_bits(api, 6, 4)] == [0, 1, 1, 0]
    assert [b.constant_value() for b in to_signed_bits(api, -1, 4)] == [1, 1, 1, 0]
    assert api.n_constraints == 0
    with pytest.raises(BuildError, match="to_bits: the constant 16 does not fit in n = 4"):
        to_bits(api, 16, 4)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda api, x: to_bits(api, x, 0), r"to_bits: n = 0 is out of range \[1, 254\]"),
        (lambda api, x: to_bits(api, x, 255), r"to_bits: n = 255"),
        (lambda api, x: to_bits(api, x, True), r"to_bits: n must be an int"),
        (lambda api, x: to_signed_bits(api, x, 253), r"to_signed_bits: n = 253"),
        (lambda api, x: assert_bits_le(api, [x, x], 4), r"assert_bits_le: got 2 bits"),
        (lambda api, x: assert_bits_le(api, [], 0), r"assert_bits_le: c = 0"),
    ],
)
def test_preconditions_raise_at_build_time(call: object, message: str) -> None:
    api = Builder()
    x = api.private_input("x")
    with pytest.raises(BuildError, match=message):
        call(api, x)  # type: ignore[operator]
