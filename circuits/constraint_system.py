"""The frozen rank-1 constraint system and its satisfaction check.

A constraint system over F_r has wires w_0 = 1, then the public inputs w_1..w_l in their
declared order, then every private wire. Constraint j holds when

    <A_j, w> * <B_j, w> = <C_j, w>   (mod r)

Each constraint remembers the gadget (a path such as ``"rescale/range"``) that emitted
it, so a failing witness is reported with the constraint index and its origin.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from circuits.errors import UnsatisfiedConstraintError, WitnessError
from circuits.field import R
from circuits.lc import Terms

#: The file name of a constraint system (iden3 ``.r1cs``) in a model or key directory.
R1CS_FILE = "circuit.r1cs"


@dataclass(frozen=True, eq=False)
class ConstraintSystem:
    """An R1CS instance. Treat every field as read-only: it is shared, not copied.

    * ``n_wires``: number of wires including w_0 = 1;
    * ``public_names``: names of the public inputs w_1..w_l, in order;
    * ``private_input_names``: names of the private inputs, which come right after them;
    * ``a``, ``b``, ``c``: per constraint, the term maps {wire: coefficient};
    * ``gadgets``: per constraint, an index into ``gadget_names``.
    """

    n_wires: int
    public_names: tuple[str, ...]
    private_input_names: tuple[str, ...]
    a: Sequence[Terms]
    b: Sequence[Terms]
    c: Sequence[Terms]
    gadgets: Sequence[int]
    gadget_names: tuple[str, ...]

    @property
    def n_public(self) -> int:
        return len(self.public_names)

    @property
    def n_constraints(self) -> int:
        return len(self.a)

    def gadget_of(self, index: int) -> str:
        return self.gadget_names[self.gadgets[index]]

    def first_unsatisfied(self, witness: Sequence[int]) -> int | None:
        """Index of the first constraint the witness violates, or None."""
        if len(witness) != self.n_wires:
            raise WitnessError(
                f"witness has {len(witness)} values, the circuit {self.n_wires} wires"
            )
        if witness[0] != 1:
            raise WitnessError(f"witness[0] must be 1 (the constant wire), got {witness[0]}")
        for j, (ta, tb, tc) in enumerate(zip(self.a, self.b, self.c, strict=True)):
            va = sum(k * witness[w] for w, k in ta.items())
            vb = sum(k * witness[w] for w, k in tb.items())
            vc = sum(k * witness[w] for w, k in tc.items())
            if (va * vb - vc) % R:
                return j
        return None

    def check(self, witness: Sequence[int]) -> None:
        """Raise `UnsatisfiedConstraintError` (index, gadget, values) on the first failure."""
        j = self.first_unsatisfied(witness)
        if j is None:
            return
        va, vb, vc = (
            sum(k * witness[w] for w, k in t[j].items()) % R for t in (self.a, self.b, self.c)
        )
        raise UnsatisfiedConstraintError(j, self.gadget_of(j), va, vb, vc)

    def is_satisfied(self, witness: Sequence[int]) -> bool:
        return self.first_unsatisfied(witness) is None

    def constraints_by_gadget(self, depth: int | None = None) -> dict[str, int]:
        """Constraint counts per gadget path, optionally cut to the first `depth` parts."""
        counts: dict[str, int] = {}
        for g in self.gadgets:
            name = self.gadget_names[g]
            if depth is not None:
                name = "/".join(name.split("/")[:depth])
            counts[name] = counts.get(name, 0) + 1
        return counts
