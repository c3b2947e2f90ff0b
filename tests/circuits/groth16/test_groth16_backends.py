"""The Groth16 backends (native, snarkjs through node), crossed.

Every proof is judged by independent verifiers: the native extension, snarkjs, the
pure-Python verifier and, when the optional extra is installed, groth16py. The test
circuit has a public input that appears in no constraint: only the input-consistency rows
the backends add bind it, and changing it must still break every proof.

snarkjs runs on one prepared powers of tau of 2^8 points, made once per session with a
real contribution in a temporary cache directory.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Callable
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
from circuits.formats import wtns as wtns_format
from circuits.formats import zkey as zkey_format
from circuits.formats.snarkjs_json import read_vk, write_proof, write_public
from circuits.groth16 import verifier
from circuits.groth16.backend import (
    KIND_CEREMONY,
    KIND_DEVELOPMENT,
    Backend,
    KeyInfo,
    backend_for,
    get_backend,
    load_key_info,
)
from circuits.groth16.data import Proof
from circuits.program import Circuit, Witness
from circuits.provers.native import NativeBackend, verify_with_key
from circuits.provers.snarkjs import SnarkjsBackend

try:
    import groth16py
except ImportError:  # an optional extra: one judge fewer without it
    groth16py = None  # type: ignore[assignment]

pytestmark = pytest.mark.snarkjs

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


# fixtures ------------------------------------------------------------------------------
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


@pytest.fixture(scope="module")
def native() -> NativeBackend:
    return NativeBackend(progress=QUIET)


@pytest.fixture(scope="module")
def circuit() -> Circuit:
    return make_circuit()


@pytest.fixture(scope="module")
def witness(circuit: Circuit) -> Witness:
    return circuit.solve(ASSIGNMENT)


@pytest.fixture(scope="module")
def native_keys(
    native: NativeBackend, circuit: Circuit, tmp_path_factory: pytest.TempPathFactory
) -> KeyInfo:
    return native.setup(circuit, tmp_path_factory.mktemp("native-keys"))


@pytest.fixture(scope="module")
def sj_keys(
    snarkjs: SnarkjsBackend, circuit: Circuit, tmp_path_factory: pytest.TempPathFactory
) -> KeyInfo:
    return snarkjs.setup(circuit, tmp_path_factory.mktemp("sj-keys"))


@pytest.fixture(scope="module")
def native_proof(
    native: NativeBackend, native_keys: KeyInfo, witness: Witness, circuit: Circuit
) -> Proof:
    return native.prove(native_keys.key_dir, witness, cs=circuit.cs)


@pytest.fixture(scope="module")
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


Verify = Callable[[KeyInfo, list[int], Proof], bool]


def _groth16py(info: KeyInfo, public: list[int], proof: Proof) -> bool:
    """groth16py's own verifier, called directly; a raise counts as a rejection."""
    assert groth16py is not None
    v = groth16py.Verifier(groth16py.VerifyingKey.from_snarkjs_file(str(info.verification_key)))
    try:
        return bool(v.verify(proof.to_bytes(), public))
    except (groth16py.EncodingError, groth16py.VerificationError):
        return False


def _snarkjs_cli(snarkjs: SnarkjsBackend, tmp: Path) -> Verify:
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


@pytest.fixture(scope="module")
def verifiers(
    snarkjs: SnarkjsBackend, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Verify]:
    """Three independent verifiers, each called directly (no checks of ours in front)."""
    return {
        "groth16py": _groth16py,
        "native": lambda info, public, proof: verify_with_key(info.verifying_key(), public, proof),
        "snarkjs": _snarkjs_cli(snarkjs, tmp_path_factory.mktemp("verify")),
        "python": lambda info, public, proof: verifier.verify(info.verifying_key(), public, proof),
    }


@pytest.fixture(scope="module")
def proofs(
    native_keys: KeyInfo, sj_keys: KeyInfo, native_proof: Proof, sj_proof: Proof
) -> dict[str, tuple[KeyInfo, Proof]]:
    return {"native": (native_keys, native_proof), "snarkjs": (sj_keys, sj_proof)}


VERIFIERS = ["native", "snarkjs", "python"] + (["groth16py"] if groth16py else [])
PROVERS = ["native", "snarkjs"]


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


# ceremony keys -------------------------------------------------------------------------
@pytest.mark.slow
def test_zkey_imported_into_arkworks_proves_under_the_zkeys_verifying_key(
    native: NativeBackend,
    snarkjs: SnarkjsBackend,
    sj_keys: KeyInfo,
    witness: Witness,
    tmp_path: Path,
) -> None:
    info = native.import_zkey(sj_keys.proving_key, sj_keys.r1cs, tmp_path / "imported")
    assert info.kind == KIND_CEREMONY and not info.is_development
    assert info.details["phase2_contributions"] == 1
    assert info.verifying_key() == sj_keys.verifying_key()
    proof = native.prove(info.key_dir, witness)
    assert snarkjs.verify(sj_keys.key_dir, witness.public, proof)
    assert verifier.verify(sj_keys.verifying_key(), witness.public, proof)


@pytest.mark.slow
def test_zkey_imported_into_snarkjs_proves(
    snarkjs: SnarkjsBackend, sj_keys: KeyInfo, witness: Witness, circuit: Circuit, tmp_path: Path
) -> None:
    info = snarkjs.import_zkey(sj_keys.proving_key, circuit, tmp_path / "imported")
    assert info.kind == KIND_CEREMONY
    proof = snarkjs.prove(info.key_dir, witness, cs=circuit.cs)
    assert verifier.verify(sj_keys.verifying_key(), witness.public, proof)


def test_zkey_of_another_circuit_is_refused(
    native: NativeBackend, sj_keys: KeyInfo, tmp_path: Path
) -> None:
    b = Builder()
    b.public_input("binding")
    b.public_input("x")
    b.public_input("y")
    b.private_input("s")
    with pytest.raises(BackendError, match="does not belong to"):
        native.import_zkey(sj_keys.proving_key, b.build(), tmp_path / "a")
    with pytest.raises(BackendError, match="matrix A differs at constraint"):
        native.import_zkey(sj_keys.proving_key, make_circuit(offset=1), tmp_path / "b")


def test_zkey_without_phase2_contribution_is_refused(
    native: NativeBackend, snarkjs: SnarkjsBackend, sj_keys: KeyInfo, tmp_path: Path
) -> None:
    z0 = tmp_path / "circuit_0000.zkey"
    snarkjs.cli.run(["groth16", "setup", sj_keys.r1cs, sj_keys.details["ptau"], z0], outputs=[z0])
    head = zkey_format.read_header(z0)
    assert head.n_contributions == 0 and head.delta2_is_generator
    with pytest.raises(BackendError, match="no phase-2 contribution"):
        native.import_zkey(z0, sj_keys.r1cs, tmp_path / "keys")


def test_zkey_header_matches_the_circuit(sj_keys: KeyInfo, circuit: Circuit) -> None:
    head = zkey_format.read_header(sj_keys.proving_key)
    assert (head.n_vars, head.n_public) == (circuit.cs.n_wires, circuit.cs.n_public)
    assert head.domain_size == 32  # 17 constraints + 3 public inputs < 32
    assert head.n_contributions == 1 and not head.delta2_is_generator


# snarkjs tooling -----------------------------------------------------------------------
def test_ptau_is_made_once_and_reused(snarkjs: SnarkjsBackend, sj_keys: KeyInfo) -> None:
    cached = sorted(p.name for p in snarkjs.ptau_cache.dir.glob("*.ptau"))
    assert cached == ["pot8_final.ptau"]
    assert sj_keys.details["ptau"] == str(snarkjs.ptau_cache.path(8))
    assert snarkjs.ptau_for(200, 5) == snarkjs.ptau_cache.path(8)


def test_slow_snarkjs_steps_report_progress(sj_keys: KeyInfo, snarkjs_log: list[str]) -> None:
    steps = [m for m in snarkjs_log if not m.startswith("  ")]
    for i, step in enumerate(["new", "contribute", "prepare phase2"]):
        assert steps[2 * i].startswith(f"powers of tau 2^8: {step}")
        assert re.fullmatch(rf"powers of tau 2\^8: {step} done in [\d.]+ s", steps[2 * i + 1])
    assert any(m.startswith("  snarkjs: Starting section: tauG1") for m in snarkjs_log)
    assert "snarkjs setup: phase-2 contribution" in steps
    assert any(m.startswith("snarkjs setup done in") for m in steps)


def test_circuit_too_big_for_the_given_ptau_is_refused(
    snarkjs: SnarkjsBackend, tmp_path: Path
) -> None:
    b = Builder()
    s = b.private_input("s")
    for _ in range(300):
        s = b.mul(s, s)
    b.assert_zero(s)
    with pytest.raises(BackendError, match="circuit too big"):
        snarkjs.setup(b.build(), tmp_path, ptau=snarkjs.ptau_cache.path(8))


def test_missing_snarkjs_says_to_run_npm_ci(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZKORACLE_DEVNET_DIR", str(tmp_path))
    with pytest.raises(BackendError, match=f"run `npm ci` in {re.escape(str(tmp_path))}"):
        SnarkjsBackend(progress=QUIET)


def test_arkworks_takes_no_ptau(native: NativeBackend, circuit: Circuit, tmp_path: Path) -> None:
    with pytest.raises(BackendError, match="takes no ptau"):
        native.setup(circuit, tmp_path, ptau=tmp_path / "x.ptau")


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


@pytest.mark.parametrize(("section", "name"), [(5, "A"), (7, "B2"), (9, "H")])
def test_zkey_point_off_the_curve_is_refused(
    native: NativeBackend, sj_keys: KeyInfo, tmp_path: Path, section: int, name: str
) -> None:
    from circuits.errors import InvalidPointError
    from circuits.formats.container import SectionIndex

    bad = tmp_path / "bad.zkey"
    data = bytearray(sj_keys.proving_key.read_bytes())
    with open(sj_keys.proving_key, "rb") as fh:
        start, _size = SectionIndex(fh, b"zkey", "zkey").sections[section]
    data[start + 32] ^= 1  # the first point's y (x.c1 for G2): no longer on the curve
    bad.write_bytes(bytes(data))
    with pytest.raises(InvalidPointError, match=rf"bad\.zkey: {name}\[0\] is not on the curve"):
        native.import_zkey(bad, sj_keys.r1cs, tmp_path / "keys")
    assert not (tmp_path / "keys" / "proving_key.bin").exists()
