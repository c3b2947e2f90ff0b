"""What the prover backend tests share: the test circuit, its assignment and the
independent verifiers that judge every proof.

The circuit has a public input that appears in no constraint (`UNUSED`): only the
input-consistency rows the backends add bind it, and changing it must still break every
proof.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from circuits.builder import Builder
from circuits.errors import BackendError
from circuits.formats.snarkjs_json import write_proof, write_public
from circuits.groth16.backend import KeyInfo
from circuits.groth16.data import Proof
from circuits.program import Circuit
from circuits.provers.snarkjs import SnarkjsBackend

try:
    import groth16py
except ImportError:  # an optional extra: one judge fewer without it
    groth16py = None  # type: ignore[assignment]

QUIET: Callable[[str], None] = lambda _m: None  # noqa: E731
UNUSED = 0  # index of the public input no constraint mentions


def make_circuit(offset: int = 0) -> Circuit:
    """binding (in no constraint), x, and y = f(s, x) computed by the circuit."""
    b = Builder()
    b.public_input("binding")
    x = b.public_input("x")
    y = b.public_input("y")
    s = b.private_input("s")
    cur = s
    with b.gadget("chain"):
        for _ in range(16):
            cur = b.mul(cur, cur) + x + offset
    b.assign_public(y, cur)
    return b.build()


ASSIGNMENT = {"binding": 123456789, "x": 3, "s": 5}


Verify = Callable[[KeyInfo, list[int], Proof], bool]


def groth16py_verify(info: KeyInfo, public: list[int], proof: Proof) -> bool:
    """groth16py's own verifier, called directly; a raise counts as a rejection."""
    assert groth16py is not None
    v = groth16py.Verifier(groth16py.VerifyingKey.from_snarkjs_file(str(info.verification_key)))
    try:
        return bool(v.verify(proof.to_bytes(), public))
    except (groth16py.EncodingError, groth16py.VerificationError):
        return False


def snarkjs_cli_verify(snarkjs: SnarkjsBackend, tmp: Path) -> Verify:
    """`snarkjs groth16 verify` on JSON files we write; exit status 0 and "OK!" accept."""

    def verify(info: KeyInfo, public: list[int], proof: Proof) -> bool:
        write_proof(tmp / "proof.json", proof)
        write_public(tmp / "public.json", public)
        try:
            lines = snarkjs.cli.run(
                [
                    "groth16",
                    "verify",
                    info.verification_key,
                    tmp / "public.json",
                    tmp / "proof.json",
                ]
            )
        except BackendError as e:
            assert re.search(
                r"Invalid proof|Public inputs are not valid|Proof commitments are not valid", str(e)
            ), e
            return False
        return lines[-1].endswith("OK!")

    return verify


VERIFIERS = ["native", "snarkjs", "python"] + (["groth16py"] if groth16py else [])
PROVERS = ["native", "snarkjs"]
