"""The native prover (`circuits._native`) on bad input: every failure is a specific
`CircuitError` naming the file, never a crash and never a proof."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from circuits import _native
from circuits.builder import Builder
from circuits.errors import (
    CircuitError,
    CorruptKeyError,
    KeyMismatchError,
    UnsatisfiedConstraintError,
    VerificationInputError,
    WitnessError,
)
from circuits.field import R
from circuits.groth16.data import vk_words
from circuits.groth16.keydir import KeyInfo
from circuits.program import Circuit, Witness
from circuits.provers.native import NativeBackend, field_bytes, load_key

QUIET = lambda _m: None  # noqa: E731


def square_chain(n: int, offset: int = 0) -> Circuit:
    b = Builder()
    x = b.public_input("x")
    y = b.public_input("y")
    cur = b.private_input("s")
    with b.gadget("chain"):
        for _ in range(n):
            cur = b.mul(cur, cur) + x + offset
    b.assign_public(y, cur)
    return b.build()


@pytest.fixture(scope="module")
def backend() -> NativeBackend:
    return NativeBackend(progress=QUIET)


@pytest.fixture(scope="module")
def circuit() -> Circuit:
    return square_chain(20)


@pytest.fixture(scope="module")
def witness(circuit: Circuit) -> Witness:
    return circuit.solve({"x": 3, "s": 5})


@pytest.fixture(scope="module")
def keys(
    backend: NativeBackend, circuit: Circuit, tmp_path_factory: pytest.TempPathFactory
) -> KeyInfo:
    return backend.setup(circuit, tmp_path_factory.mktemp("native"))


def _copy(info: KeyInfo, dest: Path) -> KeyInfo:
    shutil.copytree(info.key_dir, dest)
    from circuits.groth16.keydir import load_key_info

    return load_key_info(dest)


def test_setup_records_the_reduction_and_a_hash_of_the_key(keys: KeyInfo) -> None:
    assert keys.backend == "native" and keys.is_development
    assert keys.details["qap_reduction"] == "circom"
    sidecar = keys.proving_key.with_name("proving_key.bin.sha256").read_text().strip()
    assert sidecar == keys.details["proving_key_sha256"]


def test_prove_with_any_thread_count(
    backend: NativeBackend, keys: KeyInfo, witness: Witness
) -> None:
    key = load_key(keys)
    data = field_bytes(witness.values)
    for threads in (1, 2, None):
        from circuits.groth16.data import Proof

        proof = Proof.from_bytes(key.prove(data, threads))
        assert backend.verify(keys.key_dir, witness.public, proof)


def test_threads_default_from_the_environment() -> None:
    code = "from circuits import _native; print(_native.default_threads())"
    env = {"ZKORACLE_THREADS": "3", "PYTHONPATH": str(Path(__file__).parents[3])}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "3", out.stderr


def test_corrupted_key_file_is_refused_naming_it(
    backend: NativeBackend, keys: KeyInfo, witness: Witness, tmp_path: Path
) -> None:
    info = _copy(keys, tmp_path / "k")
    data = bytearray(info.proving_key.read_bytes())
    data[len(data) // 2] ^= 0x40
    info.proving_key.write_bytes(bytes(data))
    with pytest.raises(CorruptKeyError, match=r"proving_key\.bin: content does not match"):
        backend.prove(info.key_dir, witness)


def test_truncated_key_file_is_refused_even_with_a_matching_hash(
    backend: NativeBackend, keys: KeyInfo, witness: Witness, tmp_path: Path
) -> None:
    import hashlib

    info = _copy(keys, tmp_path / "k")
    data = info.proving_key.read_bytes()[:-100]
    info.proving_key.write_bytes(data)
    with pytest.raises(CorruptKeyError, match="does not match"):
        backend.prove(info.key_dir, witness)
    sidecar = info.proving_key.with_name("proving_key.bin.sha256")
    sidecar.write_text(hashlib.sha256(data).hexdigest() + "\n")
    with pytest.raises(CorruptKeyError, match=r"proving_key\.bin.*truncated"):
        backend.prove(info.key_dir, witness)
    sidecar.unlink()
    with pytest.raises(CorruptKeyError, match="cannot read its hash file"):
        backend.prove(info.key_dir, witness)


def test_key_of_another_circuit_is_refused(
    backend: NativeBackend, keys: KeyInfo, witness: Witness, tmp_path: Path
) -> None:
    other = backend.setup(square_chain(20, offset=1), tmp_path / "other")
    info = _copy(keys, tmp_path / "k")
    for name in ("proving_key.bin", "proving_key.bin.sha256"):
        shutil.copyfile(other.key_dir / name, info.key_dir / name)
    with pytest.raises(KeyMismatchError, match=r"proving_key\.bin was made for another circuit"):
        backend.prove(info.key_dir, witness)


def test_bad_witnesses_are_refused(
    backend: NativeBackend, keys: KeyInfo, witness: Witness, circuit: Circuit
) -> None:
    values = list(witness.values)
    with pytest.raises(WitnessError, match=r"has 23 values.*has 24 wires"):
        backend.prove(keys.key_dir, values[:-1])
    with pytest.raises(WitnessError, match="not a field element"):
        backend.prove(keys.key_dir, [*values[:-1], values[-1] + R])
    bad = [*values[:-2], (values[-2] + 1) % R, values[-1]]
    with pytest.raises(UnsatisfiedConstraintError, match=r"constraint #18 \(gadget 'chain'\)"):
        backend.prove(keys.key_dir, bad, cs=circuit.cs)
    with pytest.raises(UnsatisfiedConstraintError, match="constraint #18"):
        backend.prove(keys.key_dir, bad)
    key = load_key(keys)
    with pytest.raises(WitnessError, match="witness has 31 bytes"):
        key.prove(b"\x01" * 31)
    with pytest.raises(WitnessError, match="#0 is not below r"):
        key.prove((R + 1).to_bytes(32, "little") * key.n_wires)
    assert key.first_unsatisfied(field_bytes(bad)) is not None
    assert key.first_unsatisfied(field_bytes(values)) is None


def test_malformed_verifying_keys_raise(keys: KeyInfo) -> None:
    vk = keys.verifying_key()
    words = bytearray(vk_words(vk))
    words[63] ^= 1  # alpha.y + 1: off the curve
    with pytest.raises(VerificationInputError, match="alpha is not on the curve"):
        _native.Verifier(bytes(words))
    with pytest.raises(VerificationInputError, match="14 \\+ 2k words"):
        _native.Verifier(bytes(words[:100]))


def test_errors_are_circuit_errors() -> None:
    with pytest.raises(CircuitError, match=r"/nonexistent/pk.bin: No such file"):
        _native.ProvingKey.load("/nonexistent/pk.bin", "/nonexistent/no-such.r1cs")
