"""Ceremony keys and the snarkjs tooling: zkeys imported into either backend (and the
malformed or foreign ones refused), and the powers of tau snarkjs needs.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from circuits.builder import Builder
from circuits.errors import (
    BackendError,
    InvalidPointError,
)
from circuits.formats import zkey as zkey_format
from circuits.formats.container import SectionIndex
from circuits.groth16 import verifier
from circuits.groth16.backend import (
    KIND_CEREMONY,
    KeyInfo,
)
from circuits.program import Circuit, Witness
from circuits.provers.native import NativeBackend
from circuits.provers.snarkjs import SnarkjsBackend
from tests.circuits.provers.backend_harness import (
    QUIET,
    make_circuit,
)

pytestmark = pytest.mark.snarkjs


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


@pytest.mark.parametrize(("section", "name"), [(5, "A"), (7, "B2"), (9, "H")])
def test_zkey_point_off_the_curve_is_refused(
    native: NativeBackend, sj_keys: KeyInfo, tmp_path: Path, section: int, name: str
) -> None:
    bad = tmp_path / "bad.zkey"
    data = bytearray(sj_keys.proving_key.read_bytes())
    with open(sj_keys.proving_key, "rb") as fh:
        start, _size = SectionIndex(fh, b"zkey", "zkey").sections[section]
    data[start + 32] ^= 1  # the first point's y (x.c1 for G2): no longer on the curve
    bad.write_bytes(bytes(data))
    with pytest.raises(InvalidPointError, match=rf"bad\.zkey: {name}\[0\] is not on the curve"):
        native.import_zkey(bad, sj_keys.r1cs, tmp_path / "keys")
    assert not (tmp_path / "keys" / "proving_key.bin").exists()


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
