"""The builder: free linear combinations, constant folding, hints, labels, wire order."""

from __future__ import annotations

import pytest

from circuits.builder import Builder
from circuits.errors import (
    BuildError,
    FieldRangeError,
    UnconstrainedHintError,
    UnsatisfiedConstraintError,
    WitnessError,
)
from circuits.field import R
from circuits.formats import r1cs
from circuits.lc import LinearCombination


def square_plus(b: Builder) -> None:
    x = b.public_input("x")
    y = b.private_input("y")
    with b.gadget("square"):
        z = b.mul(y, y)
    b.assert_equal(z, x + 3)


def test_linear_combinations_cost_nothing() -> None:
    b = Builder()
    x, y = b.public_input("x"), b.private_input("y")
    e = (x + y) * 3 - 2 * x + 7 - y
    assert b.n_constraints == 0
    assert e.terms == {x.single_wire(): 1, y.single_wire(): 2, 0: 7}


def test_terms_cancel_to_nothing() -> None:
    b = Builder()
    x = b.public_input("x")
    assert (x - x).terms == {}
    assert (x + 5 - x).is_constant()


def test_constants_fold_before_emitting() -> None:
    b = Builder()
    x = b.private_input("x")
    assert b.mul(x, 5).terms == {x.single_wire(): 5}
    assert b.mul(b.constant(2), b.constant(3)).constant_value() == 6
    b.assert_equal(b.constant(4), 4)
    b.assert_bool(b.constant(1))
    assert b.n_constraints == 0
    with pytest.raises(BuildError, match="different constants"):
        b.assert_equal(b.constant(4), 5)
    with pytest.raises(BuildError, match="assert_bool"):
        b.assert_bool(b.constant(2))


def test_product_of_wires_is_refused_outside_mul() -> None:
    b = Builder()
    x, y = b.private_input("x"), b.private_input("y")
    with pytest.raises(TypeError, match=r"Builder\.mul"):
        _ = x * y


def test_lc_has_no_truth_value() -> None:
    b = Builder()
    x = b.private_input("x")
    with pytest.raises(TypeError):
        bool(x)


def test_solve_and_check() -> None:
    b = Builder()
    square_plus(b)
    c = b.build()
    w = c.solve({"x": 6, "y": 3})
    assert w.values == [1, 6, 3, 9]
    assert w.public == [6]
    assert c.cs.n_constraints == 2


def test_unsatisfied_constraint_names_index_and_gadget() -> None:
    b = Builder()
    square_plus(b)
    c = b.build()
    w = c.solve({"x": 6, "y": 3}).values
    bad = list(w)
    bad[3] = 10  # the product wire of "square"
    with pytest.raises(UnsatisfiedConstraintError) as e:
        c.cs.check(bad)
    assert e.value.index == 0 and e.value.gadget == "square"
    with pytest.raises(UnsatisfiedConstraintError, match="constraint #1"):
        c.solve({"x": 7, "y": 3})


def test_solver_reports_missing_and_unknown_inputs() -> None:
    b = Builder()
    square_plus(b)
    c = b.build()
    with pytest.raises(WitnessError, match="'y'"):
        c.solve({"x": 6})
    with pytest.raises(WitnessError, match="unknown input"):
        c.solve({"x": 6, "y": 3, "z": 1})
    with pytest.raises(FieldRangeError, match=r"'x'.*wrap"):
        c.solve({"x": R, "y": 3})


def test_negative_inputs_are_encoded_mod_r() -> None:
    b = Builder()
    x = b.public_input("x")
    y = b.private_input("y")
    b.assert_equal(b.mul(y, y), x)
    w = b.build().solve({"x": 4, "y": -2})
    assert w.values[2] == R - 2


def test_array_inputs() -> None:
    b = Builder()
    xs = b.public_inputs("x", 3)
    b.assert_equal(xs[0] + xs[1], xs[2])
    c = b.build()
    assert c.cs.public_names == ("x[0]", "x[1]", "x[2]")
    assert c.solve({"x": [1, 2, 3]}).public == [1, 2, 3]


def test_hint_outputs_must_be_pinned_in_the_same_gadget() -> None:
    b = Builder()
    x = b.private_input("x")
    with pytest.raises(UnconstrainedHintError, match="lazy"), b.gadget("lazy"):
        b.hint("bits", [x], 4, n=4)


def test_hint_pinned_only_outside_its_gadget_is_refused() -> None:
    b = Builder()
    x = b.private_input("x")
    with pytest.raises(UnconstrainedHintError):
        with b.gadget("inner"):
            (inv,) = b.hint("inverse_or_zero", [x], 1)
        b.assert_mul(x, inv, 1)


def test_top_level_hint_is_checked_at_build() -> None:
    b = Builder()
    x = b.private_input("x")
    b.hint("inverse_or_zero", [x], 1)
    with pytest.raises(UnconstrainedHintError, match="top level"):
        b.build()


def test_unknown_hint() -> None:
    b = Builder()
    with pytest.raises(BuildError, match="unknown hint"):
        b.hint("nope", [b.private_input("x")], 1)


def test_gadget_labels_nest() -> None:
    b = Builder()
    x = b.private_input("x")
    with b.gadget("outer"):
        b.mul(x, x)
        with b.gadget("inner"):
            b.assert_bool(x)
    cs = b.build().cs
    assert [cs.gadget_of(i) for i in range(2)] == ["outer", "outer/inner"]
    assert cs.constraints_by_gadget(depth=1) == {"outer": 2}


def test_late_public_input_is_moved_before_private_wires() -> None:
    b = Builder(values={"a": 3, "out": 9})
    a = b.private_input("a")
    sq = b.mul(a, a)
    out = b.public_input("out")
    b.assert_equal(out, sq)
    c = b.build()
    assert c.cs.public_names == ("out",)
    w = c.solve({"a": 3, "out": 9})
    assert w.values[:3] == [1, 9, 3]
    assert b.witness() == w.values
    c.cs.check(w.values)
    assert c.translate(sq).evaluate(w.values) == 9
    assert sq.evaluate(b.witness()) != 9  # builder numbering differs from the circuit's


def test_assign_public_lets_the_solver_compute_outputs() -> None:
    b = Builder()
    out = b.public_input("out")
    a = b.private_input("a")
    b.assign_public(out, b.mul(a, a) + 1)
    c = b.build()
    w = c.solve({"a": 5})
    assert w.public == [26]
    assert c.solve({"a": 5, "out": 26}).public == [26]
    with pytest.raises(WitnessError, match="computes 26"):
        c.solve({"a": 5, "out": 27})


def test_assign_public_refuses_a_private_wire() -> None:
    b = Builder()
    a = b.private_input("a")
    with pytest.raises(BuildError, match="public_input"):
        b.assign_public(a, a)


def _define(b: Builder) -> None:
    x = b.public_input("x")
    ys = b.private_inputs("y", 3)
    acc = ys[0]
    for y in ys[1:]:
        with b.gadget("step"):
            acc = b.mul(acc, y + 1)
            bits = b.hint("bits", [y], 3, n=3)
            for bit in bits:
                b.assert_bool(bit)
            b.assert_equal(sum(bit * (1 << i) for i, bit in enumerate(bits)), y)
    b.assert_equal(acc, x)


def test_shape_does_not_depend_on_values() -> None:
    plain = Builder()
    _define(plain)
    valued = Builder(values={"x": 2 * 4 * 6, "y": [2, 3, 5]})
    _define(valued)
    c_plain, c_valued = plain.build(), valued.build()
    assert r1cs.encode(c_plain.cs) == r1cs.encode(c_valued.cs)
    assert valued.witness() == c_plain.solve({"x": 48, "y": [2, 3, 5]}).values


def test_eager_mode_values() -> None:
    b = Builder(values={"x": 3})
    x = b.private_input("x")
    y = b.mul(x, x + 1)
    assert b.value(y) == 12
    assert Builder().value(LinearCombination.constant(1)) is None


def test_duplicate_input_name() -> None:
    b = Builder()
    b.public_input("x")
    with pytest.raises(BuildError, match="twice"):
        b.private_input("x")


def test_build_inside_gadget_is_refused() -> None:
    b = Builder()
    with pytest.raises(BuildError, match="inside gadget"), b.gadget("g"):
        b.build()
