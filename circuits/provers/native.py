"""The native Groth16 backend: our arkworks prover in `circuits._native`, multi-threaded.

* setup: arkworks' generator from the ``.r1cs`` (single-party development setup), with
  circom's QAP reduction (the key records it; keys made with arkworks' own still load);
* import_zkey: a snarkjs ceremony key, checked against the circuit (`ceremony.check_zkey`)
  and point by point (on the curve, in the subgroup) by the extension, then proved with
  circom's QAP reduction, the one its H points were made for;
* prove: the witness goes to the extension in memory, 32 little-endian bytes per wire; the
  extension checks every constraint first, proves with r = s = 0 and rerandomizes the
  proof (as good as fresh randomness, one MSM fewer), and the proof is verified after;
* verify: the extension's prepared verifier, every proof point checked.

Proving keys are ``proving_key.bin``: raw Montgomery limbs that load without arithmetic,
protected by ``proving_key.bin.sha256``. Loaded keys and verifiers are cached per process.
Threads: the `threads` argument, else ``ZKORACLE_THREADS``, else every core.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from pathlib import Path

from circuits import _native
from circuits.constraint_system import ConstraintSystem
from circuits.errors import BackendError, WitnessError
from circuits.formats.snarkjs_json import write_vk
from circuits.groth16.backend import CircuitSource, Progress, stderr_progress
from circuits.groth16.data import Proof, VerifyingKey, vk_from_words, vk_words
from circuits.groth16.key_cache import KeyCache
from circuits.groth16.keydir import (
    KIND_CEREMONY,
    KIND_DEVELOPMENT,
    VK_FILE,
    KeyInfo,
    R1csSummary,
    load_key_info,
)
from circuits.provers.base import (
    KeyDirBackend,
    cs_from_r1cs,
    materialize_r1cs,
    public_inputs_valid,
)

PROVING_KEY_FILE = "proving_key.bin"
NAME = "native"

_KEYS: KeyCache[_native.ProvingKey] = KeyCache(maxsize=4)
_VERIFIERS: KeyCache[_native.Verifier] = KeyCache(maxsize=16)


def field_bytes(values: Sequence[int], what: str = "witness") -> bytes:
    """32 little-endian bytes per value (values must be in [0, 2^256))."""
    try:
        return b"".join([v.to_bytes(32, "little") for v in values])
    except OverflowError as e:
        raise WitnessError(f"{what}: a value is negative or wider than 256 bits") from e


def load_key(info: KeyInfo) -> _native.ProvingKey:
    """The key directory's proving key, loaded once per process."""
    return _KEYS.get(info.proving_key, lambda path: _native.ProvingKey.load(path, str(info.r1cs)))


def _verifier(vk_path: str) -> _native.Verifier:
    from circuits.groth16.vk_json import read_vk_file

    return _native.Verifier(vk_words(read_vk_file(vk_path)))


def _pk_details(pk_path: Path, key: _native.ProvingKey) -> dict[str, object]:
    digest = hashlib.sha256(pk_path.read_bytes()).hexdigest()
    return {
        "prover": f"zkoracle-native {_native.__version__} (arkworks 0.5)",
        "qap_reduction": key.reduction,
        "proving_key_sha256": digest,
    }


class NativeBackend(KeyDirBackend):
    """Groth16 with the native extension."""

    name = NAME

    def __init__(self, *, progress: Progress | None = None, threads: int | None = None) -> None:
        self.progress = progress or stderr_progress
        self.threads = threads

    def setup(
        self, circuit: CircuitSource, out_dir: str | Path, *, ptau: str | Path | None = None
    ) -> KeyInfo:
        """Development setup: random toxic waste drawn and dropped inside this process.

        `ptau` is refused: arkworks samples tau itself; for a ceremony, run the snarkjs
        phase 2 and `import_zkey` its result."""
        if ptau is not None:
            raise BackendError("the native backend runs its own setup and takes no ptau")
        out = Path(out_dir)
        r1cs = materialize_r1cs(circuit, out)
        self.progress(f"native setup for {r1cs.n_constraints} constraints ({r1cs.path})")
        t0 = time.perf_counter()
        pk_path = out / PROVING_KEY_FILE
        key = _native.setup(str(r1cs.path), str(pk_path), self.threads)
        return self._finish(out, key, r1cs, KIND_DEVELOPMENT, {}, t0)

    def import_zkey(
        self, zkey_path: str | Path, r1cs: CircuitSource, out_dir: str | Path
    ) -> KeyInfo:
        """Adopt a snarkjs ceremony key for our circuit (see `circuits.provers.ceremony`)."""
        out, summary, details = self._adopt_zkey(zkey_path, r1cs, out_dir)
        t0 = time.perf_counter()
        key = _native.import_zkey(str(zkey_path), str(summary.path), str(out / PROVING_KEY_FILE))
        return self._finish(out, key, summary, KIND_CEREMONY, details, t0)

    def _finish(
        self,
        out: Path,
        key: _native.ProvingKey,
        r1cs: R1csSummary,
        kind: str,
        details: dict[str, object],
        t0: float,
    ) -> KeyInfo:
        pk_path = out / PROVING_KEY_FILE
        write_vk(out / VK_FILE, vk_from_words(key.vk_bytes()))
        _KEYS.put(pk_path, key)
        self.progress(f"native keys ready in {time.perf_counter() - t0:.1f} s: {out}")
        details = {**details, **_pk_details(pk_path, key)}
        return self._record(out, kind, r1cs, PROVING_KEY_FILE, details)

    def check_constraints(
        self, info: KeyInfo, values: list[int], cs: ConstraintSystem | None
    ) -> None:
        row = load_key(info).first_unsatisfied(field_bytes(values), self.threads)
        if row is not None:
            # The Python system names the constraint's gadget; it raises for this witness.
            (cs if cs is not None else cs_from_r1cs(str(info.r1cs))).check(values)
            raise BackendError(f"constraint #{row} of {info.r1cs} is not satisfied")

    def prove_values(self, info: KeyInfo, values: list[int]) -> tuple[Proof, list[int] | None]:
        data = load_key(info).prove(field_bytes(values), self.threads)
        return Proof.from_bytes(data), None

    def prove_wtns(self, key_dir: str | Path, wtns_path: str | Path) -> Proof:
        from circuits.formats import wtns as wtns_format

        info = self._info(key_dir)
        return self.prove_values(info, wtns_format.read(wtns_path))[0]

    def verify_values(self, info: KeyInfo, public_inputs: Sequence[int], proof: Proof) -> bool:
        verifier = _VERIFIERS.get(info.verification_key, _verifier)
        return bool(verifier.verify(field_bytes(public_inputs, "public inputs"), proof.to_bytes()))


def verify_with_key(vk: VerifyingKey, public_inputs: Sequence[int], proof: Proof) -> bool:
    """Verify against a verifying key in memory (every point checked by the extension)."""
    if not public_inputs_valid(vk.n_public, public_inputs):
        return False
    v = _native.Verifier(vk_words(vk))
    return bool(v.verify(field_bytes(public_inputs, "public inputs"), proof.to_bytes()))


def verify_proof_files(model_dir: str | Path, public_path: Path, proof_path: Path) -> bool:
    """Whether the snarkjs public and proof files verify under the verification key of
    `model_dir` (the native verifier; nothing of the compiler is imported). Missing files
    raise `FormatError` naming them."""
    from circuits.errors import FormatError
    from circuits.formats.snarkjs_json import read_proof, read_public, read_vk

    for p in (proof_path, public_path):
        if not p.is_file():
            raise FormatError(str(p), "no such file (write it with `zkoracle prove`)")
    vk = read_vk(load_key_info(model_dir).verification_key)
    return verify_with_key(vk, read_public(public_path), read_proof(proof_path))
