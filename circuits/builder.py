"""The circuit builder: a gnark-style API that records an R1CS and its witness program.

    b = Builder()
    x = b.public_input("x")
    y = b.private_input("y")
    with b.gadget("square"):
        z = b.mul(y, y)          # one constraint
    b.assert_equal(z, x + 3)     # one constraint; `x + 3` itself is free
    circuit = b.build()

Linear combinations (`+`, `-`, scaling) cost nothing. Only `mul`, `assert_equal`,
`assert_mul` and `assert_bool` emit constraints, and they fold constants first: a product
with a constant is a scaling, an assertion between constants is checked at once.

The shape of the circuit never depends on values: a `Builder(values=...)` evaluates every
wire as it goes (handy for debugging a gadget) and records exactly the same constraints as
a `Builder()` without values. Hints compute private wires outside the constraint system.

What the builder checks about hints, and only this: when a gadget scope closes (and at
`build()` for hints outside any gadget), every hint output created in that scope appears
in at least one constraint emitted in that scope; otherwise it raises
`UnconstrainedHintError`. That catches a forgotten pin, not a weak one: a constraint can
mention a wire without determining it. Whether the constraints determine every hint
output is tested, not checked here: `circuits.testing.check_circuit` runs each gadget test
with malicious hints and with `assert_pinned` (each internal wire of a valid witness
perturbed alone must break a constraint), and the model tests run `assert_pinned` on every
compiled model they solve.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from circuits.constraint_system import ConstraintSystem
from circuits.errors import BuildError, UnconstrainedHintError
from circuits.field import R
from circuits.hints import get_hint
from circuits.lc import LinearCombination, Operand, Terms
from circuits.program import (
    Circuit,
    HintOp,
    MulOp,
    Op,
    flatten_assignment,
    permutation,
    renumber,
    run_op,
)

_ONE: Terms = {0: 1}


@dataclass
class _Scope:
    name: str
    first_constraint: int
    hint_wires: list[int] = field(default_factory=list)


class Builder:
    """Records constraints and the witness program of one circuit."""

    def __init__(self, values: Mapping[str, int | Sequence[int]] | None = None) -> None:
        self._n_wires = 1
        self._public: list[tuple[str, int]] = []
        self._private_inputs: list[tuple[str, int]] = []
        self._derived_public: set[str] = set()
        self._names: set[str] = set()
        self._a: list[Terms] = []
        self._b: list[Terms] = []
        self._c: list[Terms] = []
        self._gids: list[int] = []
        self._gadget_names: list[str] = [""]
        self._gadget_index: dict[str, int] = {"": 0}
        self._scopes: list[_Scope] = [_Scope("", 0)]
        self._gid = 0
        self._program: list[Op] = []
        self._private_allocated = False
        self._in_order = True
        self._assignment = flatten_assignment(values) if values is not None else None
        self._values: list[int] | None = [1] if values is not None else None
        self._missing: set[str] = set()
        self._built = False

    # wires -----------------------------------------------------------------------------
    def _new_wire(self) -> int:
        w = self._n_wires
        self._n_wires += 1
        if self._values is not None:
            self._values.append(0)
        return w

    def _declare(self, name: str) -> int:
        if self._built:
            raise BuildError("the circuit is already built")
        if name in self._names:
            raise BuildError(f"input {name!r} is declared twice")
        self._names.add(name)
        w = self._new_wire()
        if self._values is not None and self._assignment is not None and name in self._assignment:
            self._values[w] = self._assignment[name]
        return w

    def public_input(self, name: str) -> LinearCombination:
        """Declare the next public input (public inputs keep their declaration order)."""
        w = self._declare(name)
        if self._private_allocated:
            self._in_order = False
        self._public.append((name, w))
        self._require_value(name)
        return LinearCombination.wire(w)

    def public_inputs(self, name: str, n: int) -> list[LinearCombination]:
        """Declare public inputs name[0] .. name[n-1]."""
        return [self.public_input(f"{name}[{i}]") for i in range(n)]

    def private_input(self, name: str) -> LinearCombination:
        """Declare a private input: a witness value the prover supplies."""
        w = self._declare(name)
        if len(self._private_inputs) + len(self._public) + 1 != w:
            self._in_order = False
        self._private_allocated = True
        self._private_inputs.append((name, w))
        self._require_value(name)
        return LinearCombination.wire(w)

    def private_inputs(self, name: str, n: int) -> list[LinearCombination]:
        """Declare private inputs name[0] .. name[n-1]."""
        return [self.private_input(f"{name}[{i}]") for i in range(n)]

    def _require_value(self, name: str) -> None:
        if self._assignment is not None and name not in self._assignment:
            self._missing.add(name)

    def _internal(self) -> int:
        self._private_allocated = True
        return self._new_wire()

    def constant(self, v: int) -> LinearCombination:
        """The constant v (no wire, no constraint)."""
        return LinearCombination.constant(v)

    @property
    def one(self) -> LinearCombination:
        return LinearCombination({0: 1})

    # constraints -----------------------------------------------------------------------
    def _emit(self, a: Terms, b: Terms, c: Terms) -> None:
        self._a.append(a)
        self._b.append(b)
        self._c.append(c)
        self._gids.append(self._gid)

    def mul(self, x: Operand, y: Operand) -> LinearCombination:
        """x * y. Constrains out = x*y (1 constraint); free when x or y is constant."""
        x, y = _lc(x), _lc(y)
        if x.is_constant():
            return y.scale(x.constant_value())
        if y.is_constant():
            return x.scale(y.constant_value())
        # The hot path of every circuit: wire allocation and recording inlined.
        out = self._n_wires
        self._n_wires = out + 1
        self._private_allocated = True
        tx, ty, tout = x.terms, y.terms, {out: 1}
        self._a.append(tx)
        self._b.append(ty)
        self._c.append(tout)
        self._gids.append(self._gid)
        op: MulOp = (out, tx, ty)
        self._program.append(op)
        if self._values is not None:
            self._values.append(0)
            run_op(op, self._values)
        return LinearCombination(tout)

    def assert_mul(self, x: Operand, y: Operand, z: Operand) -> None:
        """Constrains x * y = z (1 constraint; folded to `assert_equal` if x or y is constant)."""
        x, y, z = _lc(x), _lc(y), _lc(z)
        if x.is_constant() or y.is_constant():
            self.assert_equal(x * y, z)
            return
        self._emit(x.terms, y.terms, z.terms)

    def assert_equal(self, x: Operand, y: Operand) -> None:
        """Constrains x = y (1 constraint; none if both are constant, which must be equal)."""
        d = _lc(x) - _lc(y)
        if d.is_constant():
            if d.constant_value():
                raise BuildError(
                    f"assert_equal between different constants in {self.gadget_path!r}"
                )
            return
        self._emit(d.terms, _ONE, {})

    def assert_zero(self, x: Operand) -> None:
        """Constrains x = 0 (1 constraint)."""
        self.assert_equal(x, 0)

    def assert_bool(self, x: Operand) -> None:
        """Constrains x * (x - 1) = 0, i.e. x in {0, 1} (1 constraint)."""
        x = _lc(x)
        if x.is_constant():
            if x.constant_value() not in (0, 1):
                raise BuildError(f"assert_bool on the constant {x.constant_value()}")
            return
        w = x.single_wire()
        minus_one = {w: 1, 0: R - 1} if w is not None else (x - 1).terms
        self._emit(x.terms, minus_one, {})

    # hints -----------------------------------------------------------------------------
    def hint(
        self, name: str, inputs: Sequence[Operand], n_outputs: int, **params: int
    ) -> list[LinearCombination]:
        """New private wires computed by the registered hint `name`. Constrains nothing:
        the calling gadget must pin every output (that each one appears in a constraint of
        the gadget is checked when the gadget closes; see the module docstring)."""
        get_hint(name)
        ins = tuple(_lc(v).terms for v in inputs)
        outs = tuple(self._internal() for _ in range(n_outputs))
        self._scopes[-1].hint_wires.extend(outs)
        self._record(HintOp(name, ins, outs, tuple(sorted(params.items()))))
        return [LinearCombination.wire(w) for w in outs]

    def assign_public(self, public: LinearCombination, value: Operand) -> None:
        """Make a declared public input carry `value` (e.g. a model output).

        Constrains public = value (1 constraint); the solver computes the public wire, so
        callers need not supply it (if they do, it must match)."""
        w = public.single_wire()
        names = {wire: n for n, wire in self._public}
        if w is None or w not in names:
            raise BuildError("assign_public takes a public input declared with public_input")
        self._derived_public.add(names[w])
        self._missing.discard(names[w])
        value = _lc(value)
        self._record(HintOp("copy", (value.terms,), (w,), ()))
        with self.gadget("assign_public"):
            self.assert_equal(public, value)

    def _record(self, op: Op) -> None:
        self._program.append(op)
        if self._values is not None:
            run_op(op, self._values)

    # gadgets ---------------------------------------------------------------------------
    @property
    def gadget_path(self) -> str:
        return self._scopes[-1].name

    @contextmanager
    def gadget(self, name: str) -> Iterator[None]:
        """Label the constraints emitted inside; checks the hints of the scope on exit."""
        parent = self._scopes[-1].name
        path = f"{parent}/{name}" if parent else name
        if path not in self._gadget_index:
            self._gadget_index[path] = len(self._gadget_names)
            self._gadget_names.append(path)
        scope = _Scope(path, len(self._a))
        self._scopes.append(scope)
        outer_gid, self._gid = self._gid, self._gadget_index[path]
        try:
            yield
        finally:
            self._scopes.pop()
            self._gid = outer_gid
        self._check_hints(scope)

    def _check_hints(self, scope: _Scope) -> None:
        if not scope.hint_wires:
            return
        used: set[int] = set()
        for t in (self._a, self._b, self._c):
            for terms in t[scope.first_constraint :]:
                used.update(terms)
        missing = [w for w in scope.hint_wires if w not in used]
        if missing:
            raise UnconstrainedHintError(scope.name or "<top level>", missing)

    # values ----------------------------------------------------------------------------
    def value(self, x: Operand) -> int | None:
        """The value of x when the builder was given values, else None."""
        if self._values is None:
            return None
        return _lc(x).evaluate(self._values)

    @property
    def n_constraints(self) -> int:
        return len(self._a)

    # result ----------------------------------------------------------------------------
    def build(self) -> Circuit:
        """Freeze the constraint system and the witness program."""
        if len(self._scopes) != 1:
            raise BuildError(f"build() inside gadget {self.gadget_path!r}")
        self._check_hints(self._scopes[0])
        self._built = True
        cs = ConstraintSystem(
            n_wires=self._n_wires,
            public_names=tuple(n for n, _ in self._public),
            private_input_names=tuple(n for n, _ in self._private_inputs),
            a=self._a,
            b=self._b,
            c=self._c,
            gadgets=self._gids,
            gadget_names=tuple(self._gadget_names),
        )
        circuit = Circuit(
            cs=cs,
            program=tuple(self._program),
            derived_public=frozenset(self._derived_public),
            input_wires=tuple(w for _, w in self._public + self._private_inputs),
        )
        if not self._in_order:
            circuit = renumber(circuit)
        return circuit

    def witness(self) -> list[int]:
        """The full witness, for a builder given values (wire order of `build()`)."""
        if self._values is None:
            raise BuildError("this builder was created without values")
        if self._missing:
            raise BuildError(f"no value given for input(s) {sorted(self._missing)}")
        if self._in_order:
            return list(self._values)
        inputs = [w for _, w in self._public + self._private_inputs]
        out = [0] * len(self._values)
        for old, new in enumerate(permutation(len(self._values), inputs)):
            out[new] = self._values[old]
        return out


def _lc(x: Operand) -> LinearCombination:
    if isinstance(x, LinearCombination):
        return x
    if isinstance(x, int) and not isinstance(x, bool):
        return LinearCombination.constant(x % R)
    raise TypeError(f"expected a linear combination or an int, got {type(x).__name__}")
