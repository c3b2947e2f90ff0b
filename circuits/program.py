"""A compiled circuit: its constraint system plus the witness program that solves it.

The witness program is the list of operations the builder recorded, in order:

* a `MulOp` ``(out, a, b)``: w[out] = <a, w> * <b, w>;
* a `HintOp` ``(name, ins, outs, params)``: the registered hint `name` applied to the
  values of the linear combinations ``ins`` writes the output wires ``outs``.

A `MulOp` is a plain tuple, read by unpacking: the builder records one per product and the
solver replays them in its inner loop, where a named tuple's construction would cost about
a microsecond per constraint. Hints are rarer and carry more fields, so they are named.

Solving assigns the declared inputs, then replays the program. Nothing in the program
depends on values, so one compiled circuit serves every witness.

Building, solving and encoding a circuit allocate millions of small dicts, tuples and ints
and free none of them until the end, so CPython's generational collector would run full
passes over a heap with no garbage in it (up to a quarter of the time at 2^18
constraints); `gc_paused` switches it off around such bulk work. None of these objects
form reference cycles, so reference counting frees them all.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NamedTuple

from circuits.constraint_system import ConstraintSystem
from circuits.errors import FieldRangeError, WitnessError
from circuits.field import R
from circuits.hints import get_hint
from circuits.lc import LinearCombination, Terms


@contextmanager
def gc_paused() -> Iterator[None]:
    """Disable the cyclic collector inside the block (nesting-safe), then restore it."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


#: w[out] = <a, w> * <b, w>, as (out, a, b).
MulOp = tuple[int, Terms, Terms]


class HintOp(NamedTuple):
    """The registered hint `name` on the values of `ins` writes the wires `outs`."""

    name: str
    ins: tuple[Terms, ...]
    outs: tuple[int, ...]
    params: tuple[tuple[str, int], ...]


Op = MulOp | HintOp


def run_op(op: Op, values: list[int]) -> None:
    """Execute one program operation on the value list in place."""
    if not isinstance(op, HintOp):
        out, ta, tb = op
        va = 0
        for w, k in ta.items():
            va += k * values[w]
        vb = 0
        for w, k in tb.items():
            vb += k * values[w]
        values[out] = va * vb % R
        return
    name, ins, outs, params = op
    args = [sum(k * values[w] for w, k in t.items()) % R for t in ins]
    try:
        res = get_hint(name)(*args, **dict(params))
    except (ArithmeticError, ValueError) as e:
        raise WitnessError(f"hint {name!r} failed on inputs {args}: {e}") from e
    if len(res) != len(outs):
        raise WitnessError(f"hint {name!r} returned {len(res)} values, expected {len(outs)}")
    for w, v in zip(outs, res, strict=True):
        values[w] = v % R


def written_wires(op: Op) -> tuple[int, ...]:
    """The wires an operation assigns."""
    if isinstance(op, HintOp):
        return op.outs
    out, _, _ = op
    return (out,)


def flatten_assignment(values: Mapping[str, int | Sequence[int]]) -> dict[str, int]:
    """{"x": [1, 2], "y": 3} -> {"x[0]": 1, "x[1]": 2, "y": 3}, as field elements.

    Signed values are encoded v mod r; any |v| >= r is refused (it would wrap)."""
    out: dict[str, int] = {}
    for name, v in values.items():
        items = (
            [(name, v)] if isinstance(v, int) else [(f"{name}[{i}]", x) for i, x in enumerate(v)]
        )
        for n, x in items:
            if not isinstance(x, int) or isinstance(x, bool):
                raise WitnessError(f"input {n!r}: expected an integer, got {type(x).__name__}")
            if not -R < x < R:
                raise FieldRangeError(
                    f"input {n!r} = {x} is outside (-r, r) and would wrap modulo r"
                )
            out[n] = x % R
    return out


@dataclass(frozen=True)
class Witness:
    """A full assignment of the wires; ``values[1 : n_public + 1]`` are the public inputs."""

    values: list[int]
    n_public: int

    @property
    def public(self) -> list[int]:
        return self.values[1 : self.n_public + 1]


@dataclass(frozen=True, eq=False)
class Circuit:
    """A constraint system with the program that computes its witness."""

    cs: ConstraintSystem
    program: tuple[Op, ...]
    derived_public: frozenset[str]
    input_wires: tuple[int, ...]
    #: old wire -> new wire when `build()` had to move public inputs forward, else None.
    wire_map: tuple[int, ...] | None = None

    def translate(self, x: LinearCombination) -> LinearCombination:
        """A linear combination taken from the builder, in this circuit's wire numbering."""
        if self.wire_map is None:
            return x
        m = self.wire_map
        return LinearCombination({m[w]: k for w, k in x.terms.items()})

    def solve(
        self, assignment: Mapping[str, int | Sequence[int]], *, check: bool = True
    ) -> Witness:
        """Compute the witness from the inputs; by default also check every constraint."""
        flat = flatten_assignment(assignment)
        cs = self.cs
        names = cs.public_names + cs.private_input_names
        known = set(names)
        unknown = sorted(set(flat) - known)
        if unknown:
            raise WitnessError(f"unknown input(s) {unknown}; the circuit takes {list(names)}")
        values = [0] * cs.n_wires
        values[0] = 1
        for name, w in zip(names, self.input_wires, strict=True):
            if name in flat:
                values[w] = flat[name]
            elif name not in self.derived_public:
                raise WitnessError(f"no value given for input {name!r}")
        with gc_paused():
            # typed loosely on purpose: an exact type test and unpacking, no isinstance
            program: tuple[Any, ...] = self.program
            for op in program:
                if type(op) is tuple:  # a MulOp, most operations: inlined, as in `run_op`
                    out, ta, tb = op
                    va = 0
                    for w, k in ta.items():
                        va += k * values[w]
                    vb = 0
                    for w, k in tb.items():
                        vb += k * values[w]
                    values[out] = va * vb % R
                else:
                    run_op(op, values)
        for name, w in zip(names, self.input_wires, strict=True):
            if name in self.derived_public and name in flat and flat[name] != values[w]:
                raise WitnessError(
                    f"public input {name!r} was given {flat[name]} "
                    f"but the circuit computes {values[w]}"
                )
        if check:
            cs.check(values)
        return Witness(values, cs.n_public)


def permutation(n_wires: int, input_wires: Sequence[int]) -> list[int]:
    """perm[old] = new, putting the inputs (public, then private) right after wire 0."""
    perm = list(range(n_wires))
    taken = set(input_wires)
    nxt = len(input_wires) + 1
    for i, w in enumerate(input_wires):
        perm[w] = i + 1
    for w in range(1, n_wires):
        if w not in taken:
            perm[w] = nxt
            nxt += 1
    return perm


def renumber(circuit: Circuit) -> Circuit:
    """Reorder wires as 1, public inputs, private inputs, then internal wires."""
    cs = circuit.cs
    n_inputs = len(circuit.input_wires)
    perm = permutation(cs.n_wires, circuit.input_wires)

    def t(terms: Terms) -> Terms:
        return {perm[w]: k for w, k in terms.items()}

    def op(o: Op) -> Op:
        if isinstance(o, HintOp):
            return o._replace(ins=tuple(t(x) for x in o.ins), outs=tuple(perm[w] for w in o.outs))
        out, a, b = o
        return (perm[out], t(a), t(b))

    new_cs = ConstraintSystem(
        n_wires=cs.n_wires,
        public_names=cs.public_names,
        private_input_names=cs.private_input_names,
        a=[t(x) for x in cs.a],
        b=[t(x) for x in cs.b],
        c=[t(x) for x in cs.c],
        gadgets=cs.gadgets,
        gadget_names=cs.gadget_names,
    )
    return Circuit(
        cs=new_cs,
        program=tuple(op(o) for o in circuit.program),
        derived_public=circuit.derived_public,
        input_wires=tuple(range(1, n_inputs + 1)),
        wire_map=tuple(perm),
    )
