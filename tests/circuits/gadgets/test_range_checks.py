"""Range checks: assert_unsigned and assert_signed."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circuits.builder import Builder
from circuits.errors import BuildError
from circuits.field import R
from circuits.gadgets.bits import assert_signed, assert_unsigned
from circuits.lc import Operand
from circuits.program import Circuit
from circuits.testing import Define, Tamper, check_circuit, hint_outputs, replay

Gadget = Callable[[Builder, Operand, int], None]
FAST = settings(max_examples=60, deadline=None)
WIDTHS = [1, 2, 8, 64, 252]


def checker(gadget: Gadget, n: int) -> Define:
    def define(api: Builder) -> None:
        gadget(api, api.private_input("x"), n)

    return define


def compensated(i: int, delta: int) -> Tamper:
    """Bit i + 2 delta, bit i+1 - delta: same recomposition, non-boolean digits."""

    def tamper(w: list[int], c: Circuit) -> list[int]:
        (bits,) = hint_outputs(c, "bits")
        return replay(c, w, {bits[i]: w[bits[i]] + 2 * delta, bits[i + 1]: w[bits[i + 1]] - delta})

    return tamper


def flip_top(w: list[int], c: Circuit) -> list[int]:
    (bits,) = hint_outputs(c, "bits")
    return replay(c, w, {bits[-1]: 1 - w[bits[-1]]})


def tampers(n: int) -> list[Tamper]:
    if n == 1:
        return [flip_top]
    return [flip_top, compensated(0, 1), compensated(0, -1), compensated(n - 2, 1)]


@FAST
@given(st.sampled_from(WIDTHS), st.data())
def test_unsigned_accepts_exactly_n_bit_values(n: int, data: st.DataObject) -> None:
    x = data.draw(st.integers(0, (1 << n) - 1))
    bad = data.draw(st.one_of(st.integers(1 << n, R - 1), st.integers(-(1 << 64), -1)))
    res = check_circuit(checker(assert_unsigned, n), [{"x": x}], [{"x": bad}], prove=False)
    assert res.n_constraints == n + 1


@pytest.mark.parametrize("n", WIDTHS)
def test_unsigned_boundaries(n: int) -> None:
    check_circuit(
        checker(assert_unsigned, n),
        [{"x": 0}, {"x": (1 << n) - 1}],
        [{"x": 1 << n}, {"x": R - 1}, {"x": -1}],
        malicious=tampers(n),
    )


@FAST
@given(st.sampled_from(WIDTHS), st.data())
def test_signed_accepts_exactly_the_signed_range(n: int, data: st.DataObject) -> None:
    half = 1 << (n - 1)
    x = data.draw(st.integers(-half, half - 1))
    bad = data.draw(st.one_of(st.integers(half, 1 << 253), st.integers(-(1 << 253), -half - 1)))
    res = check_circuit(checker(assert_signed, n), [{"x": x}], [{"x": bad}], prove=False)
    assert res.n_constraints == n + 1


@pytest.mark.parametrize("n", WIDTHS)
def test_signed_boundaries(n: int) -> None:
    half = 1 << (n - 1)
    valid = [{"x": -half}, {"x": half - 1}, {"x": 0}, {"x": R - 1}]  # r - 1 encodes -1
    check_circuit(
        checker(assert_signed, n),
        valid,
        [{"x": half}, {"x": -half - 1}, {"x": 1 << n}, {"x": R - half - 1}],
        malicious=tampers(n),
    )


def test_out_of_range_value_cannot_be_forged() -> None:
    """A prover claiming x = 2^8 with the honest (truncated) bits breaks the recomposition."""

    def forge(w: list[int], c: Circuit) -> list[int]:
        return replay(c, w, {1: 256})

    check_circuit(checker(assert_unsigned, 8), [{"x": 255}], malicious=[forge])


def test_range_check_proves() -> None:
    def define(api: Builder) -> None:
        assert_signed(api, api.public_input("x"), 16)

    check_circuit(define, [{"x": -32768}, {"x": 32767}], prove=True)


def test_constant_in_range_is_free_and_out_of_range_fails_at_build() -> None:
    api = Builder()
    assert_unsigned(api, 255, 8)
    assert_signed(api, -128, 8)
    assert api.n_constraints == 0
    with pytest.raises(BuildError, match="does not fit"):
        assert_signed(api, 128, 8)


@pytest.mark.parametrize("gadget", [assert_unsigned, assert_signed])
@pytest.mark.parametrize("n", [0, 253, -1])
def test_bad_width_raises_naming_the_gadget(gadget: Gadget, n: int) -> None:
    api = Builder()
    with pytest.raises(BuildError, match=rf"{gadget.__name__}: n = {n} is out of range \[1, 252\]"):
        gadget(api, api.private_input("x"), n)
