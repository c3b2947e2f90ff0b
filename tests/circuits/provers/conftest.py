"""Fixtures of the prover backend tests: one setup and one proof per backend per session.

snarkjs runs on one prepared powers of tau of 2^8 points, made once per session with a
real contribution in a temporary cache directory.
"""

from __future__ import annotations

import pytest

from circuits.formats import wtns as wtns_format
from circuits.groth16 import verifier
from circuits.groth16.backend import KeyInfo
from circuits.groth16.data import Proof
from circuits.program import Circuit, Witness
from circuits.provers.native import NativeBackend, verify_with_key
from circuits.provers.snarkjs import SnarkjsBackend
from tests.circuits.provers.backend_harness import (
    ASSIGNMENT,
    QUIET,
    Verify,
    groth16py_verify,
    make_circuit,
    snarkjs_cli_verify,
)


@pytest.fixture(scope="session")
def snarkjs_log() -> list[str]:
    """Every progress line the session's snarkjs backend printed."""
    return []


@pytest.fixture(scope="session")
def snarkjs(tmp_path_factory: pytest.TempPathFactory, snarkjs_log: list[str]) -> SnarkjsBackend:
    """The snarkjs backend with a fresh prepared 2^8 ptau in a temporary cache."""
    cache = tmp_path_factory.mktemp("zkoracle-cache")
    backend = SnarkjsBackend(progress=snarkjs_log.append, cache_dir=cache)
    backend.ptau_for(1, 1)
    return backend


@pytest.fixture(scope="session")
def native() -> NativeBackend:
    return NativeBackend(progress=QUIET)


@pytest.fixture(scope="session")
def circuit() -> Circuit:
    return make_circuit()


@pytest.fixture(scope="session")
def witness(circuit: Circuit) -> Witness:
    return circuit.solve(ASSIGNMENT)


@pytest.fixture(scope="session")
def native_keys(
    native: NativeBackend, circuit: Circuit, tmp_path_factory: pytest.TempPathFactory
) -> KeyInfo:
    return native.setup(circuit, tmp_path_factory.mktemp("native-keys"))


@pytest.fixture(scope="session")
def sj_keys(
    snarkjs: SnarkjsBackend, circuit: Circuit, tmp_path_factory: pytest.TempPathFactory
) -> KeyInfo:
    return snarkjs.setup(circuit, tmp_path_factory.mktemp("sj-keys"))


@pytest.fixture(scope="session")
def native_proof(
    native: NativeBackend, native_keys: KeyInfo, witness: Witness, circuit: Circuit
) -> Proof:
    return native.prove(native_keys.key_dir, witness, cs=circuit.cs)


@pytest.fixture(scope="session")
def sj_proof(
    snarkjs: SnarkjsBackend,
    sj_keys: KeyInfo,
    witness: Witness,
    tmp_path_factory: pytest.TempPathFactory,
) -> Proof:
    """A snarkjs proof straight from our .wtns file (no checks of ours in between)."""
    path = tmp_path_factory.mktemp("wtns") / "witness.wtns"
    wtns_format.write(path, witness.values)
    return snarkjs.prove_wtns(sj_keys.key_dir, path)


@pytest.fixture(scope="session")
def verifiers(
    snarkjs: SnarkjsBackend, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Verify]:
    """Three independent verifiers, each called directly (no checks of ours in front)."""
    return {
        "groth16py": groth16py_verify,
        "native": lambda info, public, proof: verify_with_key(info.verifying_key(), public, proof),
        "snarkjs": snarkjs_cli_verify(snarkjs, tmp_path_factory.mktemp("verify")),
        "python": lambda info, public, proof: verifier.verify(info.verifying_key(), public, proof),
    }


@pytest.fixture(scope="session")
def proofs(
    native_keys: KeyInfo, sj_keys: KeyInfo, native_proof: Proof, sj_proof: Proof
) -> dict[str, tuple[KeyInfo, Proof]]:
    return {"native": (native_keys, native_proof), "snarkjs": (sj_keys, sj_proof)}
