"""The piecewise-polynomial gadget: its outputs are the plan's, at every boundary of the
domain and in both tails, and a prover cannot round an output to a neighbouring step."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from circuits.approx import make_plan
from circuits.builder import Builder
from circuits.field import from_field
from circuits.gadgets.piecewise import output_bound, piecewise, piecewise_cost
from circuits.lc import LinearCombination
from circuits.program import HintOp
from circuits.testing import check_circuit, replay

FEW = settings(max_examples=10, deadline=None)


def bits_of(v: int, n: int) -> list[int]:
    return [(v >> i) & 1 for i in range(n)]


@FEW
@given(
    data=st.data(),
    drop=st.sampled_from([0, 3]),
    func=st.sampled_from(["sigmoid", "softplus", "tanh"]),
)
def test_piecewise_gadget_matches_the_plan(data: st.DataObject, drop: int, func: str) -> None:
    bound = 20 << (10 + drop)  # reaches both tails at scale 10
    lo, hi = (-bound) >> drop, bound >> drop
    plan = make_plan(func, 10, 10, lo, hi, midpoint=drop > 0)
    xs = data.draw(st.lists(st.integers(-bound, bound), min_size=1, max_size=3))
    xs += [-bound, bound, (plan.lo << drop) - 1, plan.lo << drop]

    def define(api: Builder) -> list[LinearCombination]:
        return [piecewise(api, plan, api.private_input(f"x{i}"), drop) for i in range(len(xs))]

    res = check_circuit(define, [{f"x{i}": x for i, x in enumerate(xs)}], prove=False)
    assert [from_field(v) for v in res.outputs[0]] == [plan.evaluate(x >> drop) for x in xs]
    assert res.n_constraints == len(xs) * piecewise_cost(plan, drop)
    assert max(abs(plan.evaluate(x >> drop)) for x in xs) <= output_bound(plan)


def test_piecewise_rejects_a_close_but_wrong_output() -> None:
    plan = make_plan("sigmoid", 10, 10, -(20 << 10), 20 << 10)
    width = plan.shift + max((-plan.y_min - 1).bit_length(), plan.y_max.bit_length()) + 1

    def define(api: Builder) -> LinearCombination:
        return piecewise(api, plan, api.private_input("x"))

    def lie(by: int) -> Callable[[list[int], Any], list[int]]:
        def forge(values: list[int], circuit: Any) -> list[int]:
            program = circuit.program
            outs = next(
                o.outs for o in program if isinstance(o, HintOp) and o.params == (("n", width),)
            )
            value = sum(values[w] << i for i, w in enumerate(outs))
            return replay(circuit, values, dict(zip(outs, bits_of(value + by, width), strict=True)))

        return forge

    step = 1 << plan.shift
    check_circuit(define, [{"x": 1234}], malicious=[lie(step), lie(-step), lie(1)], prove=False)


def test_piecewise_boundaries() -> None:
    """Both ends of the domain and one past them (the tails), zero, and the widest inputs
    of the calibrated range. Proved with arkworks only: through snarkjs a circuit of this
    size needs powers of tau of 2^10, minutes to prepare on two cores; the smaller gadgets'
    tests prove on every backend."""
    bound = 20 << 10
    plan = make_plan("tanh", 10, 10, -bound, bound)
    top = plan.lo + (1 << plan.m) - 1
    xs = sorted({-bound, plan.lo - 1, plan.lo, 0, top, top + 1, bound})
    xs = [x for x in xs if -bound <= x <= bound]

    def define(api: Builder) -> list[LinearCombination]:
        return [piecewise(api, plan, api.private_input(f"x{i}")) for i in range(len(xs))]

    res = check_circuit(define, [{f"x{i}": x for i, x in enumerate(xs)}], backends=["arkworks"])
    assert [from_field(v) for v in res.outputs[0]] == [plan.evaluate(x) for x in xs]
