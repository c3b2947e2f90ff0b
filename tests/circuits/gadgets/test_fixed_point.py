"""Fixed point: rescale, rescale_relu, round_rescale, relu, div_floor_const."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circuits.builder import Builder
from circuits.errors import BuildError
from circuits.field import R, from_field
from circuits.gadgets.fixed_point import div_floor_const, relu, rescale, rescale_relu, round_rescale
from circuits.lc import LinearCombination, Operand
from circuits.program import Circuit
from circuits.testing import Define, Tamper, check_circuit, hint_outputs, replay

FAST = settings(max_examples=60, deadline=None)
SHAPES = [(0, 8), (1, 1), (1, 8), (8, 16), (16, 32), (30, 222), (200, 52)]
X = 1  # wire of the single private input "x"


def signed(n: int) -> st.SearchStrategy[int]:
    return st.integers(-(1 << (n - 1)), (1 << (n - 1)) - 1)


def unary(
    gadget: Callable[..., LinearCombination | tuple[LinearCombination, LinearCombination]],
    *params: int,
) -> Define:
    def define(api: Builder) -> LinearCombination | list[LinearCombination]:
        out = gadget(api, api.private_input("x"), *params)
        return list(out) if isinstance(out, tuple) else out

    return define


def decoded(outputs: list[int]) -> list[int]:
    return [from_field(v) for v in outputs]


# attacks on the decomposition -----------------------------------------------------------
def shifted_quotient(k: int, t: int) -> Tamper:
    """q' = q + t with remainder rem - t 2^k: the high bits encode q' (boolean), bit 0 absorbs
    the difference so x = q' 2^k + rem' still holds in the field. Booleanity must fail."""

    def forge(w: list[int], c: Circuit) -> list[int]:
        bits = hint_outputs(c, "bits")[0]
        q_bits = len(bits) - k
        u = sum(w[b] << i for i, b in enumerate(bits[k:]))
        u2 = (u + t) % (1 << q_bits)
        forced = {b: (u2 >> i) & 1 for i, b in enumerate(bits[k:])}
        forced[bits[0]] = w[bits[0]] + (u - u2) * (1 << k)
        forged = replay(c, w, forced)
        assert c.cs.first_unsatisfied(forged) == 0, "bit 0's booleanity should be the failure"
        return forged

    return forge


def overflowing_quotient(w: list[int], c: Circuit) -> list[int]:
    """x one past the largest accepted value, claimed with the top digit 2 and all others 0."""
    bits = hint_outputs(c, "bits")[0]
    forced = {b: 0 for b in bits}
    forced[bits[-1]] = 2
    forced[X] = w[X] + 1
    return replay(c, w, forced)


def flip(index: int) -> Tamper:
    def forge(w: list[int], c: Circuit) -> list[int]:
        b = hint_outputs(c, "bits")[0][index]
        return replay(c, w, {b: 1 - w[b]})

    return forge


# rescale --------------------------------------------------------------------------------
@FAST
@given(st.sampled_from(SHAPES), st.data())
def test_rescale_matches_floor_division(shape: tuple[int, int], data: st.DataObject) -> None:
    k, q_bits = shape
    x = data.draw(signed(k + q_bits))
    tampers = [flip(0), flip(-1)] + [shifted_quotient(k, t) for t in (1, -1, 5) if k]
    res = check_circuit(unary(rescale, k, q_bits), [{"x": x}], malicious=tampers, prove=False)
    assert decoded(res.outputs[0]) == [x >> k]
    assert res.n_constraints == k + q_bits + 1


@FAST
@given(st.integers(1, 1 << 20), st.integers(-(1 << 20), 1 << 20).filter(bool))
def test_wrong_remainder_with_adjusted_quotient_is_rejected(x: int, t: int) -> None:
    check_circuit(
        unary(rescale, 8, 24), [{"x": x}], malicious=[shifted_quotient(8, t)], prove=False
    )


@pytest.mark.parametrize(("k", "q_bits"), SHAPES)
def test_rescale_boundaries(k: int, q_bits: int) -> None:
    top = 1 << (k + q_bits - 1)
    # valid[0] is the witness the tampers start from
    valid = [top - 1, 0, -1, -top, R - 1]
    if q_bits > 1:
        valid += [(1 << k) - 1, 1 << k, -(1 << k)]
    invalid = [top, -top - 1, 2 * top, R - top - 1]
    res = check_circuit(
        unary(rescale, k, q_bits),
        [{"x": x} for x in valid],
        [{"x": x} for x in invalid],
        malicious=[overflowing_quotient] if k + q_bits > 1 else [],
    )
    assert [decoded(o)[0] for o in res.outputs] == [from_field(x % R) >> k for x in valid]


def test_overflowing_quotient_is_rejected() -> None:
    top = 1 << 23
    check_circuit(
        unary(rescale, 8, 16), [{"x": top - 1}], [{"x": top}], malicious=[overflowing_quotient]
    )


@FAST
@given(st.sampled_from(SHAPES), st.data())
def test_rescale_relu_matches_python(shape: tuple[int, int], data: st.DataObject) -> None:
    k, q_bits = shape
    x = data.draw(signed(k + q_bits))
    res = check_circuit(
        unary(rescale_relu, k, q_bits), [{"x": x}], malicious=[flip(-1)], prove=False
    )
    assert decoded(res.outputs[0]) == [x >> k, max(x >> k, 0)]
    assert res.n_constraints == k + q_bits + 2


@FAST
@given(st.sampled_from([(1, 8), (8, 16), (16, 32)]), st.data())
def test_round_rescale_rounds_half_up(shape: tuple[int, int], data: st.DataObject) -> None:
    k, q_bits = shape
    x = data.draw(signed(k + q_bits - 1))
    tampers = [shifted_quotient(k, 1), shifted_quotient(k, -1)]
    res = check_circuit(unary(round_rescale, k, q_bits), [{"x": x}], malicious=tampers, prove=False)
    assert decoded(res.outputs[0]) == [(x + (1 << (k - 1))) >> k]
    assert res.n_constraints == k + q_bits + 1


def test_round_rescale_ties_and_k0() -> None:
    res = check_circuit(unary(round_rescale, 2, 8), [{"x": x} for x in (2, 6, -2, -6, 5, -5)])
    assert [decoded(o)[0] for o in res.outputs] == [1, 2, 0, -1, 1, -1]
    res = check_circuit(unary(round_rescale, 0, 8), [{"x": -128}, {"x": 127}], [{"x": 128}])
    assert [decoded(o)[0] for o in res.outputs] == [-128, 127]


# relu -----------------------------------------------------------------------------------
@FAST
@given(st.sampled_from([1, 8, 64, 252]), st.data())
def test_relu_matches_python(n: int, data: st.DataObject) -> None:
    x = data.draw(signed(n))
    res = check_circuit(unary(relu, n), [{"x": x}], malicious=[flip(-1)], prove=False)
    assert decoded(res.outputs[0]) == [max(x, 0)]
    assert res.n_constraints == n + 2


@pytest.mark.parametrize("n", [1, 8, 252])
def test_relu_boundaries(n: int) -> None:
    half = 1 << (n - 1)
    res = check_circuit(
        unary(relu, n),
        [{"x": -half}, {"x": half - 1}, {"x": R - 1}],
        [{"x": half}, {"x": -half - 1}],
    )
    assert [decoded(o)[0] for o in res.outputs] == [0, half - 1, 0]


# div_floor_const ------------------------------------------------------------------------
def shifted_div(t: int) -> Tamper:
    def forge(w: list[int], c: Circuit) -> list[int]:
        (q,) = hint_outputs(c, "floor_div_const")[0]
        return replay(c, w, {q: w[q] + t})

    return forge


@FAST
@given(
    st.sampled_from([3, 5, 6, 7, 10, 100, 255, 1000, (1 << 40) + 1]),
    st.sampled_from([1, 8, 16]),
    st.data(),
)
def test_div_floor_const_matches_python(d: int, q_bits: int, data: st.DataObject) -> None:
    half = 1 << (q_bits - 1)
    x = data.draw(st.integers(-half * d, half * d - 1))
    tampers = [shifted_div(t) for t in (1, -1, 2, R - 1 - half)]
    res = check_circuit(
        unary(div_floor_const, d, q_bits), [{"x": x}], malicious=tampers, prove=False
    )
    assert decoded(res.outputs[0]) == [x // d]
    m = (d - 1).bit_length()
    assert res.n_constraints == 2 * m + q_bits + 3


def test_div_floor_const_needs_both_remainder_bounds() -> None:
    """d = 5, x = 7: q = 1, rem = 2. Claiming q = 0 gives rem = 7 < 2^3, which only the
    upper bound d - 1 - rem >= 0 rejects."""
    res = check_circuit(
        unary(div_floor_const, 5, 8),
        [{"x": 7}, {"x": -640}, {"x": 639}],
        [{"x": 640}, {"x": -641}],
        malicious=[shifted_div(-1), shifted_div(1)],
    )
    assert [decoded(o)[0] for o in res.outputs] == [1, -128, 127]


@pytest.mark.parametrize("d", [1, 2, 4, 1 << 10])
def test_div_by_power_of_two_is_a_rescale(d: int) -> None:
    k = d.bit_length() - 1
    res = check_circuit(
        unary(div_floor_const, d, 8), [{"x": x} for x in (-128 * d, 127 * d + d - 1, -1, 0)]
    )
    assert [decoded(o)[0] for o in res.outputs] == [-128, 127, -1, 0]
    assert res.n_constraints == k + 8 + 1


def test_fixed_point_proves() -> None:
    def define(api: Builder) -> list[LinearCombination]:
        x = api.public_input("x")
        q, r = rescale_relu(api, x, 8, 16)
        return [q, r, div_floor_const(api, x, 10, 24), relu(api, x - 3, 32)]

    check_circuit(define, [{"x": 123456}, {"x": -654321}], prove=True)


def test_constants_fold() -> None:
    api = Builder()
    assert from_field(rescale(api, -1000, 4, 8).constant_value()) == -63
    assert div_floor_const(api, 17, 5, 8).constant_value() == 3
    assert from_field(div_floor_const(api, -17, 5, 8).constant_value()) == -4
    assert api.n_constraints == 0
    with pytest.raises(BuildError, match="div_floor_const: the constant quotient 200"):
        div_floor_const(api, 1000, 5, 8)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda api, x: rescale(api, x, -1, 8), r"rescale: k = -1"),
        (lambda api, x: rescale(api, x, 8, 0), r"rescale: q_bits = 0"),
        (lambda api, x: rescale(api, x, 200, 53), r"rescale: k \+ q_bits = 253 exceeds 252"),
        (lambda api, x: rescale_relu(api, x, 252, 1), r"rescale_relu: k = 252"),
        (lambda api, x: round_rescale(api, x, 4, 249), r"round_rescale: k \+ q_bits = 253"),
        (lambda api, x: relu(api, x, 253), r"relu: n = 253"),
        (lambda api, x: div_floor_const(api, x, 0, 8), r"div_floor_const: d = 0"),
        (lambda api, x: div_floor_const(api, x, -3, 8), r"div_floor_const: d = -3"),
        (lambda api, x: div_floor_const(api, x, 5, 250), r"div_floor_const: q_bits \+ bit length"),
    ],
)
def test_preconditions_raise_at_build_time(
    call: Callable[[Builder, Operand], object], message: str
) -> None:
    api = Builder()
    with pytest.raises(BuildError, match=message):
        call(api, api.private_input("x"))
