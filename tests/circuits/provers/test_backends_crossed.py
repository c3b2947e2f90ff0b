"""The Groth16 prover backends (native, snarkjs through node), crossed.

Every proof is judged by independent verifiers (`backend_harness`): the native
extension, snarkjs, the pure-Python verifier and, when the optional extra is installed,
groth16py. Key directories, the witness checks before proving and the check after it.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest

from circuits.builder import Builder
from circuits.errors import (
    BackendError,
    UnsatisfiedConstraintError,
    VerificationInputError,
    WitnessError,
)
from circuits.field import Q, R
from circuits.formats import r1cs as r1cs_format
from circuits.formats.snarkjs_json import read_vk
from circuits.groth16.backend import (
    KIND_DEVELOPMENT,
    Backend,
    KeyInfo,
    backend_for,
    get_backend,
    load_key_info,
)
from circuits.groth16.data import Proof
from circuits.program import Circuit, Witness
from circuits.provers.native import NativeBackend
from circuits.provers.snarkjs import SnarkjsBackend
from tests.circuits.provers.backend_harness import (
    PROVERS,
    QUIET,
    UNUSED,
    VERIFIERS,
    Verify,
    make_circuit,
)

pytestmark = pytest.mark.snarkjs


# registry and key directories ----------------------------------------------------------
def test_registry_names_both_backends_and_defaults_to_arkworks() -> None:
    assert get_backend(progress=QUIET).name == "native"
    assert isinstance(get_backend("snarkjs", progress=QUIET), SnarkjsBackend)
    with pytest.raises(
        BackendError, match=r"unknown Groth16 backend 'gnark'.*native, snarkjs, groth16py"
    ):
        get_backend("gnark")


@pytest.mark.parametrize("prover", PROVERS)
def test_setup_describes_itself(
    prover: str, proofs: dict[str, tuple[KeyInfo, Proof]], circuit: Circuit
) -> None:
    info, _ = proofs[prover]
    assert info.kind == KIND_DEVELOPMENT and info.is_development
    assert "one machine saw the toxic waste" in info.kind
    on_disk = json.loads((info.key_dir / "setup.json").read_text())
    assert on_disk["backend"] == prover and on_disk["kind"] == KIND_DEVELOPMENT
    assert on_disk["n_constraints"] == circuit.cs.n_constraints == 17
    assert on_disk["n_public"] == 3 and on_disk["n_wires"] == circuit.cs.n_wires
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", on_disk["timestamp"])
    assert on_disk["r1cs_sha256"] == hashlib.sha256(r1cs_format.encode(circuit.cs)).hexdigest()
    assert (info.key_dir / "circuit.r1cs").read_bytes() == r1cs_format.encode(circuit.cs)
    assert info.proving_key.is_file()
    assert info.proving_key.name == {"native": "proving_key.bin", "snarkjs": "circuit.zkey"}[prover]
    assert load_key_info(info.key_dir) == info
    assert backend_for(info.key_dir, progress=QUIET).name == prover
    assert info.verifying_key().n_public == 3


def test_a_directory_without_keys_is_refused(
    native: NativeBackend, tmp_path: Path, witness: Witness
) -> None:
    with pytest.raises(BackendError, match=r"no setup\.json.*run the setup first"):
        native.prove(tmp_path, witness)


def test_a_backend_refuses_the_other_backends_proving_key(
    native: NativeBackend,
    snarkjs: SnarkjsBackend,
    native_keys: KeyInfo,
    sj_keys: KeyInfo,
    witness: Witness,
) -> None:
    with pytest.raises(BackendError, match="holds snarkjs keys, not native keys"):
        native.prove(sj_keys.key_dir, witness)
    with pytest.raises(BackendError, match="holds native keys, not snarkjs keys"):
        snarkjs.prove(native_keys.key_dir, witness)


# proofs, crossed -----------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("check", VERIFIERS)
@pytest.mark.parametrize("prover", PROVERS)
def test_every_verifier_accepts_every_backends_proof(
    prover: str,
    check: str,
    proofs: dict[str, tuple[KeyInfo, Proof]],
    verifiers: dict[str, Verify],
    witness: Witness,
) -> None:
    info, proof = proofs[prover]
    assert verifiers[check](info, witness.public, proof)


@pytest.mark.slow
@pytest.mark.parametrize("check", VERIFIERS)
@pytest.mark.parametrize("prover", PROVERS)
def test_a_public_input_in_no_constraint_is_still_bound(
    prover: str,
    check: str,
    proofs: dict[str, tuple[KeyInfo, Proof]],
    verifiers: dict[str, Verify],
    witness: Witness,
) -> None:
    info, proof = proofs[prover]
    public = list(witness.public)
    public[UNUSED] = (public[UNUSED] + 1) % R
    assert not verifiers[check](info, public, proof)


def _tampered(proof: Proof, public: list[int]) -> dict[str, tuple[Proof, list[int]]]:
    x = public[1]
    return {
        "A off the curve": (
            Proof(a=(proof.a[0], (proof.a[1] + 1) % Q), b=proof.b, c=proof.c),
            public,
        ),
        "A and C swapped": (Proof(a=proof.c, b=proof.b, c=proof.a), public),
        "public x changed": (proof, [public[0], x + 1, public[2]]),
        "public x + r": (proof, [public[0], x + R, public[2]]),
    }


@pytest.mark.slow
@pytest.mark.parametrize("check", VERIFIERS)
@pytest.mark.parametrize("prover", PROVERS)
def test_every_verifier_rejects_tampering(
    prover: str,
    check: str,
    proofs: dict[str, tuple[KeyInfo, Proof]],
    verifiers: dict[str, Verify],
    witness: Witness,
) -> None:
    info, proof = proofs[prover]
    for what, (bad_proof, public) in _tampered(proof, list(witness.public)).items():
        assert not verifiers[check](info, public, bad_proof), what


@pytest.mark.parametrize("prover", PROVERS)
def test_wrong_number_of_public_inputs_raises(
    prover: str, proofs: dict[str, tuple[KeyInfo, Proof]], witness: Witness
) -> None:
    info, proof = proofs[prover]
    backend: Backend = get_backend(prover, progress=QUIET)
    with pytest.raises(VerificationInputError, match="expected 3 public inputs, got 2"):
        backend.verify(info.key_dir, witness.public[:2], proof)


def test_snarkjs_proof_of_our_files_verifies_under_the_native_backend(
    native: NativeBackend, sj_keys: KeyInfo, sj_proof: Proof, witness: Witness
) -> None:
    assert native.verify(sj_keys.key_dir, witness.public, sj_proof)


# witness checks ------------------------------------------------------------------------
@pytest.mark.parametrize("prover", PROVERS)
@pytest.mark.parametrize("pass_cs", [True, False])
def test_unsatisfying_witness_is_refused_before_proving(
    prover: str,
    pass_cs: bool,
    proofs: dict[str, tuple[KeyInfo, Proof]],
    circuit: Circuit,
    witness: Witness,
) -> None:
    info, _ = proofs[prover]
    values = list(witness.values)
    values[-3] = (values[-3] + 1) % R
    backend = get_backend(prover, progress=QUIET)
    with pytest.raises(UnsatisfiedConstraintError) as err:
        backend.prove(info.key_dir, values, cs=circuit.cs if pass_cs else None)
    if pass_cs:
        assert err.value.gadget == "chain"


def test_malformed_witnesses_are_refused(
    native: NativeBackend, native_keys: KeyInfo, witness: Witness, circuit: Circuit
) -> None:
    with pytest.raises(WitnessError, match=f"has {circuit.cs.n_wires - 1} values"):
        native.prove(native_keys.key_dir, witness.values[:-1])
    with pytest.raises(WitnessError, match="not a field element"):
        native.prove(native_keys.key_dir, [*witness.values[:-1], witness.values[-1] + R])
    b = Builder()
    b.public_input("only")
    with pytest.raises(BackendError, match="is not the one of"):
        native.prove(native_keys.key_dir, witness, cs=b.build().cs)


def test_a_proof_that_does_not_verify_is_never_returned(
    native: NativeBackend, native_keys: KeyInfo, witness: Witness, tmp_path: Path
) -> None:
    """A key directory whose verifying key belongs to another setup: the prover runs, the
    fresh proof fails verification, and prove raises instead of returning it."""
    broken = tmp_path / "broken"
    shutil.copytree(native_keys.key_dir, broken)
    other = native.setup(make_circuit(), tmp_path / "other")
    shutil.copyfile(other.verification_key, broken / "verification_key.json")
    with pytest.raises(BackendError, match="does not verify"):
        native.prove(broken, witness)


def test_proving_keys_are_loaded_once_per_file(
    native: NativeBackend, circuit: Circuit, witness: Witness, tmp_path: Path
) -> None:
    from circuits.provers import native as native_module

    info = native.setup(circuit, tmp_path)
    cache = native_module._KEYS
    cache.clear()
    before = cache.loads
    for _ in range(3):
        native.prove(info.key_dir, witness)
    assert cache.loads == before + 1
    info.proving_key.write_bytes(info.proving_key.read_bytes())  # same key, new mtime
    native.prove(info.key_dir, witness)
    assert cache.loads == before + 2


def test_groth16py_is_imported_by_the_arkworks_module_only() -> None:
    root = Path(__file__).parents[3]
    pattern = re.compile(r"^\s*(import|from)\s+groth16py\b", re.MULTILINE)
    offenders = [
        str(p.relative_to(root))
        for pkg in ("circuits", "oracle", "scripts")
        for p in (root / pkg).rglob("*.py")
        if pattern.search(p.read_text())
    ]
    assert offenders == ["circuits/provers/groth16py.py"]


def test_verifying_key_json_is_the_same_layout_for_both_backends(
    native_keys: KeyInfo, sj_keys: KeyInfo
) -> None:
    for info in (native_keys, sj_keys):
        obj = json.loads(info.verification_key.read_text())
        assert set(obj) == {
            "protocol",
            "curve",
            "nPublic",
            "vk_alpha_1",
            "vk_beta_2",
            "vk_gamma_2",
            "vk_delta_2",
            "IC",
        }
        assert read_vk(info.verification_key) == info.verifying_key()
