"""Test helpers for circuits and gadgets: one `check_circuit` that runs a circuit through
every path a real witness takes, and the tools to forge malicious witnesses.

    def define(api: Builder) -> LinearCombination:
        x = api.private_input("x")
        return rescale(api, x, 8, 16)

    result = check_circuit(define, valid=[{"x": 1000}], invalid=[{"x": 1 << 40}],
                           malicious=[lambda w, c: tamper(w, 2, w[2] ^ 1)])
    assert result.outputs[0] == [3]

A malicious witness models a prover that replaces hint outputs with values of its choice;
`replay` recomputes everything downstream of such a change honestly, so the only thing a
test learns is whether the constraints themselves catch the lie.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Union

from circuits.builder import Builder
from circuits.constraint_system import ConstraintSystem
from circuits.errors import FieldRangeError, WitnessError
from circuits.field import R
from circuits.formats import r1cs as r1cs_format
from circuits.lc import LinearCombination
from circuits.program import Circuit, HintOp, Witness, run_op, written_wires

Assignment = Mapping[str, Union[int, Sequence[int]]]  # noqa: UP007
Returned = Union[LinearCombination, Sequence[LinearCombination], None]  # noqa: UP007
Define = Callable[[Builder], Returned]
Tamper = Callable[[list[int], Circuit], list[int]]


@dataclass(frozen=True)
class Checked:
    """What `check_circuit` established: the circuit, the honest witness of every valid
    assignment, and the field values of what `define` returned under each of them."""

    circuit: Circuit
    witnesses: list[Witness]
    outputs: list[list[int]]

    @property
    def n_constraints(self) -> int:
        return self.circuit.cs.n_constraints


def check_circuit(
    define: Define,
    valid: Sequence[Assignment],
    invalid: Sequence[Assignment] | None = None,
    *,
    malicious: Sequence[Tamper] | None = None,
    prove: bool = True,
    backends: Sequence[str] | None = None,
) -> Checked:
    """Build `define` and check it end to end; raise AssertionError on any failure.

    * every valid assignment solves and satisfies every constraint; building with those
      values (eager mode) gives a byte-identical ``.r1cs`` and the same witness;
    * in every valid witness each internal wire (hint outputs, products) is pinned
      (`assert_pinned`: changing it alone breaks a constraint);
    * every invalid assignment is refused by `Circuit.solve`;
    * every tamper, applied to the honest witness of ``valid[0]``, must change it and leave
      the system unsatisfied;
    * unless ``prove=False`` (property tests that run many assignments), a Groth16 setup,
      proof and verification succeed through each of `backends` (default:
      `check_backends()`), and verification fails for a changed public input: for every
      valid witness on the first backend, for the first one on the others (they run the
      same circuit).
    """
    if not valid:
        raise ValueError("check_circuit needs at least one valid assignment")
    builder = Builder()
    define(builder)
    circuit = builder.build()
    encoded = r1cs_format.encode(circuit.cs)
    checked = [_check_valid(define, circuit, encoded, a) for a in valid]
    witnesses = [w for w, _ in checked]
    for w in witnesses:
        assert_pinned(circuit, w.values)
    for a in invalid or []:
        _check_invalid(circuit, a)
    for i, fn in enumerate(malicious or []):
        _check_malicious(circuit, witnesses[0], fn, i)
    if prove:
        for i, backend in enumerate(check_backends() if backends is None else backends):
            prove_and_verify(circuit, witnesses if i == 0 else witnesses[:1], backend)
    return Checked(circuit, witnesses, [out for _, out in checked])


#: Set to 1 to have `check_circuit` prove through snarkjs too (`make test-full`).
ENV_ALL_BACKENDS = "ZKORACLE_CHECK_ALL_BACKENDS"


def check_backends() -> tuple[str, ...]:
    """The backends `check_circuit` proves on by default: every registered backend that
    runs in this process (native, and groth16py when installed); snarkjs as well with
    ``ZKORACLE_CHECK_ALL_BACKENDS=1``. A snarkjs proof is a node process of several seconds,
    so the default run leaves it to the tests that cross-check the backends on one circuit."""
    import importlib.util
    import os

    from circuits.groth16.backend import BACKENDS

    every = os.environ.get(ENV_ALL_BACKENDS) == "1"
    chosen = []
    for name in BACKENDS:
        if name == "snarkjs" and not every:
            continue
        if name == "groth16py" and importlib.util.find_spec("groth16py") is None:
            continue
        chosen.append(name)
    return tuple(chosen)


def _check_valid(
    define: Define, circuit: Circuit, encoded: bytes, assignment: Assignment
) -> tuple[Witness, list[int]]:
    """The solved witness and the values of what `define` returned. The returned
    combinations use the builder's wire ids from before `build()`, which may renumber
    them, so they are read through the eager builder rather than from the witness."""
    witness = circuit.solve(assignment)
    eager = Builder(values=assignment)
    outputs = [eager.value(lc) or 0 for lc in _as_list(define(eager))]
    eager_circuit = eager.build()
    assert r1cs_format.encode(eager_circuit.cs) == encoded, (
        f"building with values {assignment} gives a different constraint system"
    )
    assert eager.witness() == witness.values, (
        f"eager witness differs from the solved one for {assignment}"
    )
    return witness, outputs


def _check_invalid(circuit: Circuit, assignment: Assignment) -> None:
    try:
        circuit.solve(assignment)
    except (WitnessError, FieldRangeError):
        return
    raise AssertionError(f"invalid assignment {assignment} was accepted")


def _check_malicious(circuit: Circuit, honest: Witness, fn: Tamper, index: int) -> None:
    forged = fn(list(honest.values), circuit)
    assert forged != honest.values, f"tamper #{index} left the witness unchanged"
    assert len(forged) == len(honest.values), f"tamper #{index} changed the witness length"
    j = circuit.cs.first_unsatisfied(forged)
    assert j is not None, f"tamper #{index} produced a witness that satisfies every constraint"


def _as_list(returned: Returned) -> list[LinearCombination]:
    if returned is None:
        return []
    if isinstance(returned, LinearCombination):
        return [returned]
    return list(returned)


# the under-constraint scan ----------------------------------------------------------------
def unpinned_wires(cs: ConstraintSystem, witness: Sequence[int]) -> list[int]:
    """Internal wires (neither public nor a private input: hint outputs and products)
    whose value + 1 (alone) still satisfies every constraint. A private input is the
    prover's to choose, so it is not scanned.

    Per wire, only the constraints that mention it are re-checked, and from their cached
    <A,w>, <B,w>, <C,w>: adding 1 to wire v shifts each by its coefficient of v."""
    touching: dict[int, list[tuple[int, int, int, int]]] = {}
    sums = []
    for j, terms in enumerate(zip(cs.a, cs.b, cs.c, strict=True)):
        sums.append(tuple(sum(k * witness[w] for w, k in t.items()) % R for t in terms))
        for v in set(terms[0]) | set(terms[1]) | set(terms[2]):
            touching.setdefault(v, []).append(
                (j, terms[0].get(v, 0), terms[1].get(v, 0), terms[2].get(v, 0))
            )
    out = []
    for v in range(1 + cs.n_public + len(cs.private_input_names), cs.n_wires):
        for j, ka, kb, kc in touching.get(v, []):
            a, b, c = sums[j]
            if ((a + ka) * (b + kb) - (c + kc)) % R:
                break
        else:
            out.append(v)
    return out


def free_inverses(circuit: Circuit, witness: Sequence[int]) -> set[int]:
    """The inverse wire of every `is_zero` whose input is 0: any value satisfies
    x * inv = 0 there, and the gadget's output (1 - x * inv = 1) does not depend on it.
    This is the one freedom a correct witness may have."""
    out = set()
    for op in circuit.program:
        if isinstance(op, HintOp) and op.name == "is_zero":
            (terms,) = op.ins
            if sum(k * witness[w] for w, k in terms.items()) % R == 0:
                out.add(op.outs[1])
    return out


def assert_pinned(circuit: Circuit, witness: Sequence[int]) -> None:
    """Every internal wire of a satisfying witness is pinned: changing it alone breaks a
    constraint (but for `free_inverses`)."""
    free = set(unpinned_wires(circuit.cs, witness)) - free_inverses(circuit, witness)
    assert not free, (
        f"{len(free)} private wire(s) can change alone without breaking a constraint: "
        f"{sorted(free)[:10]}"
    )


# forging witnesses ----------------------------------------------------------------------
def wire(x: int | LinearCombination) -> int:
    """The wire index of a single-wire linear combination (or the index itself)."""
    if isinstance(x, int):
        return x
    w = x.single_wire()
    if w is None:
        raise ValueError(f"{x!r} is not a single wire")
    return w


def tamper(values: Sequence[int], at: int | LinearCombination, new_value: int) -> list[int]:
    """A copy of `values` with wire `at` set to `new_value` (signed, reduced mod r)."""
    out = list(values)
    out[wire(at)] = new_value % R
    return out


def hint_outputs(circuit: Circuit, name: str) -> list[tuple[int, ...]]:
    """The output wires of every call of hint `name`, in program order."""
    return [op.outs for op in circuit.program if isinstance(op, HintOp) and op.name == name]


def replay(circuit: Circuit, values: Sequence[int], forced: Mapping[int, int]) -> list[int]:
    """Re-run the witness program from the inputs of `values`, but with the wires in
    `forced` (typically hint outputs, see `hint_outputs`) set to the given values, signed
    or not, as soon as they are written: a malicious prover's witness, honest everywhere
    downstream of its lies."""
    fixed = {w: v % R for w, v in forced.items()}
    out = list(values)
    for w, v in fixed.items():
        out[w] = v
    for op in circuit.program:
        run_op(op, out)
        for w in written_wires(op):
            if w in fixed:
                out[w] = fixed[w]
    return out


# proving --------------------------------------------------------------------------------
def prove_and_verify(
    circuit: Circuit, witnesses: Sequence[Witness], backend: str = "native"
) -> None:
    """Groth16 setup for `circuit` with `backend`, then prove and verify every witness;
    a proof must not verify once its first public input is changed."""
    from circuits.groth16.backend import get_backend

    groth16 = get_backend(backend, progress=lambda _: None)
    with tempfile.TemporaryDirectory(prefix="zk-check-") as tmp:
        info = groth16.setup(circuit, Path(tmp) / "keys")
        for i, w in enumerate(witnesses):
            proof = groth16.prove(info.key_dir, w, cs=circuit.cs)
            assert groth16.verify(info.key_dir, w.public, proof), (
                f"proof of witness #{i} does not verify"
            )
            if w.public:
                wrong = [(w.public[0] + 1) % R, *w.public[1:]]
                assert not groth16.verify(info.key_dir, wrong, proof), (
                    f"proof #{i} verifies a changed public input"
                )
