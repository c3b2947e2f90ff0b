"""The one proving sequence every backend runs: check the witness, prove, check the proof.

A backend supplies three steps (`ProverSteps`): a constraint check, the raw prover and its
verifier. `prove_checked` adds what must never be skipped, in this order:

1. the witness has one canonical field element per wire and starts with 1;
2. it satisfies every constraint (the backend's check; on failure the constraint system
   names the first violated constraint and its gadget);
3. the prover runs; if it reports public inputs, they must be the witness's;
4. the fresh proof verifies under the key directory's verifying key.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from circuits.constraint_system import ConstraintSystem
from circuits.errors import BackendError, WitnessError
from circuits.field import R
from circuits.groth16.data import Proof
from circuits.groth16.keydir import KeyInfo


class ProverSteps(Protocol):
    def check_constraints(
        self, info: KeyInfo, values: list[int], cs: ConstraintSystem | None
    ) -> None:
        """Raise `UnsatisfiedConstraintError` if the witness violates a constraint."""
        ...

    def prove_values(self, info: KeyInfo, values: list[int]) -> tuple[Proof, list[int] | None]:
        """The proof, and the public inputs the prover saw if it reports them."""
        ...

    def verify(self, key_dir: str, public_inputs: Sequence[int], proof: Proof) -> bool: ...


def check_shape(info: KeyInfo, values: Sequence[int], cs: ConstraintSystem | None) -> None:
    """Refuse a witness of the wrong length or with a value outside [0, r)."""
    if len(values) != info.n_wires:
        raise WitnessError(
            f"witness has {len(values)} values, "
            f"the circuit of {info.key_dir} has {info.n_wires} wires"
        )
    if values and values[0] != 1:
        raise WitnessError(f"witness value #0 is {values[0]}, the constant wire must be 1")
    for i, v in enumerate(values):
        if not 0 <= v < R:
            raise WitnessError(f"witness value #{i} = {v} is not a field element in [0, r)")
    if cs is not None and (cs.n_wires, cs.n_public, cs.n_constraints) != (
        info.n_wires,
        info.n_public,
        info.n_constraints,
    ):
        raise BackendError(
            f"the constraint system passed to prove ({cs.n_wires} wires, {cs.n_public} public, "
            f"{cs.n_constraints} constraints) is not the one of {info.key_dir} "
            f"({info.n_wires} wires, {info.n_public} public, {info.n_constraints} constraints)"
        )


def prove_checked(
    steps: ProverSteps, info: KeyInfo, values: list[int], cs: ConstraintSystem | None
) -> Proof:
    """Check the witness, prove, and verify the fresh proof."""
    check_shape(info, values, cs)
    steps.check_constraints(info, values, cs)
    proof, proved_public = steps.prove_values(info, values)
    public = values[1 : info.n_public + 1]
    if proved_public is not None and proved_public != public:
        raise BackendError(f"the prover reported public inputs {proved_public}, not {public}")
    if not steps.verify(str(info.key_dir), public, proof):
        raise BackendError(
            f"the fresh proof does not verify under {info.verification_key}: the key is broken"
        )
    return proof
