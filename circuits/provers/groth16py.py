"""The groth16py backend (arkworks through the groth16py extension), an optional extra.

groth16py is GPL-3.0 and not a dependency of the package (``pip install
'zkoracle[groth16py]'``): this module is the only one that imports it, and the tests use it
as one more independent prover and verifier. Its key directories name it ``arkworks`` (it
was the default backend before the native one).

* setup: groth16py's native single-party setup from the ``.r1cs`` (arkworks' generator,
  which adds the input-consistency rows, so every public input is bound);
* prove: ``prove_wtns`` on an iden3 ``.wtns`` file;
* verify: groth16py's prepared verifier (a couple of milliseconds);
* import_zkey: groth16py reads a snarkjs ceremony key directly; proofs made with it verify
  under the ceremony's verifying key.

Proving keys are loaded once per process (`circuits.groth16.key_cache.KeyCache`).
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import groth16py

from circuits.errors import BackendError, VerificationInputError
from circuits.formats import wtns as wtns_format
from circuits.formats.snarkjs_json import write_vk
from circuits.groth16.backend import (
    CircuitSource,
    Progress,
    stderr_progress,
)
from circuits.groth16.data import Proof
from circuits.groth16.key_cache import KeyCache
from circuits.groth16.keydir import (
    KIND_CEREMONY,
    KIND_DEVELOPMENT,
    VK_FILE,
    KeyInfo,
)
from circuits.groth16.vk_json import vk_from_json
from circuits.provers.base import KeyDirBackend, materialize_r1cs

PROVING_KEY_FILE = "proving_key.bin"

_PROVING_KEYS: KeyCache[groth16py.ProvingKey] = KeyCache(maxsize=4)
_VERIFIERS: KeyCache[groth16py.Verifier] = KeyCache(maxsize=16)

_GROTH16PY_ERRORS = (
    groth16py.EncodingError,
    groth16py.SetupError,
    groth16py.WitnessError,
    groth16py.VerificationError,
    OSError,
)


def _load_verifier(vk_path: str) -> groth16py.Verifier:
    return groth16py.Verifier(groth16py.VerifyingKey.from_snarkjs_file(vk_path))


def _write_vk(out_dir: Path, vk: groth16py.VerifyingKey) -> None:
    """Write the key as snarkjs JSON through our own writer (one JSON layout everywhere)."""
    write_vk(out_dir / VK_FILE, vk_from_json(json.loads(vk.to_json()), "groth16py verifying key"))


class Groth16pyBackend(KeyDirBackend):
    """Groth16 with groth16py (arkworks, GPL-3.0)."""

    name = "arkworks"

    def __init__(self, *, progress: Progress | None = None) -> None:
        self.progress = progress or stderr_progress

    def setup(
        self, circuit: CircuitSource, out_dir: str | Path, *, ptau: str | Path | None = None
    ) -> KeyInfo:
        """Development setup: random toxic waste drawn and dropped inside this process.

        `ptau` is refused: arkworks samples tau itself and cannot use a powers-of-tau file;
        for a ceremony, run the snarkjs phase 2 and `import_zkey` its result."""
        if ptau is not None:
            raise BackendError(
                "the arkworks backend runs its own setup and takes no ptau; use import_zkey"
            )
        out = Path(out_dir)
        r1cs = materialize_r1cs(circuit, out)
        self.progress(f"arkworks setup for {r1cs.n_constraints} constraints ({r1cs.path})")
        t0 = time.perf_counter()
        try:
            pk, vk = groth16py.setup(str(r1cs.path))
            pk.save(str(out / PROVING_KEY_FILE))
        except _GROTH16PY_ERRORS as e:
            raise BackendError(f"arkworks setup of {r1cs.path} failed: {e}") from e
        _write_vk(out, vk)
        _PROVING_KEYS.put(out / PROVING_KEY_FILE, pk)
        self.progress(f"arkworks setup done in {time.perf_counter() - t0:.1f} s: {out}")
        details: dict[str, object] = {"prover": f"groth16py {groth16py.__version__}"}
        return self._record(out, KIND_DEVELOPMENT, r1cs, PROVING_KEY_FILE, details)

    def import_zkey(
        self, zkey_path: str | Path, r1cs: CircuitSource, out_dir: str | Path
    ) -> KeyInfo:
        """Adopt a snarkjs ceremony key for our circuit (see `circuits.provers.ceremony`)."""
        out, summary, details = self._adopt_zkey(zkey_path, r1cs, out_dir)
        try:
            pk, vk = groth16py.import_zkey(str(zkey_path))
        except _GROTH16PY_ERRORS as e:
            raise BackendError(f"cannot import {zkey_path}: {e}") from e
        if vk.n_public != summary.n_public:
            raise BackendError(
                f"{zkey_path}: verifying key has {vk.n_public} public inputs, "
                f"the circuit {summary.n_public}"
            )
        try:
            pk.save(str(out / PROVING_KEY_FILE))
        except _GROTH16PY_ERRORS as e:
            raise BackendError(f"cannot write {out / PROVING_KEY_FILE}: {e}") from e
        _write_vk(out, vk)
        _PROVING_KEYS.put(out / PROVING_KEY_FILE, pk)
        details["prover"] = f"groth16py {groth16py.__version__}"
        return self._record(out, KIND_CEREMONY, summary, PROVING_KEY_FILE, details)

    def prove_values(self, info: KeyInfo, values: list[int]) -> tuple[Proof, list[int] | None]:
        with tempfile.TemporaryDirectory(prefix="zkoracle-wtns-") as tmp:
            path = Path(tmp) / "witness.wtns"
            wtns_format.write(path, values)
            return self.prove_wtns(info.key_dir, path), None

    def prove_wtns(self, key_dir: str | Path, wtns_path: str | Path) -> Proof:
        info = self._info(key_dir)
        try:
            pk = _PROVING_KEYS.get(info.proving_key, groth16py.ProvingKey.load)
            return Proof.from_bytes(groth16py.prove_wtns(pk, str(wtns_path)))
        except _GROTH16PY_ERRORS as e:
            raise BackendError(f"arkworks proving with {info.proving_key} failed: {e}") from e

    def verify_values(self, info: KeyInfo, public_inputs: Sequence[int], proof: Proof) -> bool:
        verifier = _VERIFIERS.get(info.verification_key, _load_verifier)
        try:
            return bool(verifier.verify(proof.to_bytes(), list(public_inputs)))
        except groth16py.EncodingError:
            return False
        except (groth16py.VerificationError, OverflowError) as e:
            raise VerificationInputError(str(e)) from e
