"""The Groth16 backend interface and the registry of backends.

A backend makes keys (`setup`, `import_zkey`), proves and verifies; key directories are
described in `circuits.groth16.keydir`. Backends are named in a registry of import paths
and imported on first use, so a process that only verifies never imports a prover, and
this module (below `circuits.formats` in the package's layers) depends on none of them:

* ``native``, the default: our arkworks prover (`circuits._native`), multi-threaded;
* ``snarkjs``: the pinned snarkjs CLI, for interoperability with the circom ecosystem;
* ``groth16py``: the groth16py extension (GPL-3.0, an optional extra), kept as one more
  independent judge in the tests; key directories it wrote name it ``arkworks``.

Every backend adds the input-consistency rows of Groth16, as libsnark does: one extra row
``A = x_i, B = 0, C = 0`` for the constant wire and for each public input. It is trivially
satisfied, but it gives every public input its own term in the QAP, so a public input that
appears in no constraint of the circuit is still bound by a proof.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from circuits.constraint_system import R1CS_FILE, ConstraintSystem
from circuits.errors import BackendError
from circuits.groth16.data import Proof
from circuits.groth16.keydir import (
    KIND_CEREMONY,
    KIND_DEVELOPMENT,
    SETUP_FILE,
    VK_FILE,
    KeyInfo,
    R1csSummary,
    load_key_info,
    new_key_info,
    write_key_info,
)
from circuits.program import Circuit, Witness

__all__ = [
    "BACKENDS",
    "DEFAULT_BACKEND",
    "KIND_CEREMONY",
    "KIND_DEVELOPMENT",
    "R1CS_FILE",
    "SETUP_FILE",
    "VK_FILE",
    "Backend",
    "CircuitSource",
    "KeyInfo",
    "Progress",
    "R1csSummary",
    "WitnessValues",
    "backend_for",
    "get_backend",
    "load_key_info",
    "new_key_info",
    "register_backend",
    "stderr_progress",
    "witness_list",
    "write_key_info",
]

DEFAULT_BACKEND = "native"

#: name -> "module:class" of the backend; the class takes a keyword-only `progress`.
_REGISTRY: dict[str, str] = {
    "native": "circuits.provers.native:NativeBackend",
    "snarkjs": "circuits.provers.snarkjs:SnarkjsBackend",
    "groth16py": "circuits.provers.groth16py:Groth16pyBackend",
    # key directories written before the native backend existed
    "arkworks": "circuits.provers.groth16py:Groth16pyBackend",
}
#: The names a user chooses from (aliases left out).
BACKENDS = ("native", "snarkjs", "groth16py")

#: A circuit given to `setup`: an ``.r1cs`` path, a built circuit or its constraint system.
CircuitSource = str | Path | Circuit | ConstraintSystem
#: A witness given to `prove`: the full wire assignment, wire 0 first.
WitnessValues = Sequence[int] | Witness
#: Receives one human-readable line per step of slow work.
Progress = Callable[[str], None]


def stderr_progress(message: str) -> None:
    """The default progress sink: one line on standard error."""
    print(f"zkoracle: {message}", file=sys.stderr, flush=True)


def witness_list(witness: WitnessValues) -> list[int]:
    return list(witness.values) if isinstance(witness, Witness) else list(witness)


class Backend(Protocol):
    """A Groth16 prover over BN254 that reads iden3 ``.r1cs`` / ``.wtns`` files."""

    name: str

    def setup(
        self, circuit: CircuitSource, out_dir: str | Path, *, ptau: str | Path | None = None
    ) -> KeyInfo:
        """Run a development setup for the circuit and write a key directory."""
        ...

    def import_zkey(
        self, zkey_path: str | Path, r1cs: CircuitSource, out_dir: str | Path
    ) -> KeyInfo:
        """Adopt a snarkjs ceremony ``.zkey`` after checking it belongs to the circuit."""
        ...

    def prove(
        self, key_dir: str | Path, witness: WitnessValues, *, cs: ConstraintSystem | None = None
    ) -> Proof:
        """Check the witness, prove, and verify the fresh proof (raises `BackendError`)."""
        ...

    def prove_wtns(self, key_dir: str | Path, wtns_path: str | Path) -> Proof:
        """Run the prover on a ``.wtns`` file as is: no check before or after."""
        ...

    def verify(self, key_dir: str | Path, public_inputs: Sequence[int], proof: Proof) -> bool:
        """Verify a proof under the key directory's verifying key."""
        ...


def register_backend(name: str, target: str) -> None:
    """Make `get_backend(name)` import and build ``target`` ("module:class")."""
    if ":" not in target:
        raise BackendError(f"backend target {target!r} is not 'module:class'")
    _REGISTRY[name] = target


def get_backend(name: str = DEFAULT_BACKEND, *, progress: Progress | None = None) -> Backend:
    """The backend called `name` (see `BACKENDS`)."""
    target = _REGISTRY.get(name)
    if target is None:
        choices = ", ".join(BACKENDS)
        raise BackendError(f"unknown Groth16 backend {name!r}; choose one of {choices}")
    module, _, attr = target.partition(":")
    try:
        cls = getattr(importlib.import_module(module), attr)
    except ImportError as e:
        raise BackendError(f"the {name} backend is not available: {e}") from e
    backend: Backend = cls(progress=progress)
    return backend


def backend_for(key_dir: str | Path, *, progress: Progress | None = None) -> Backend:
    """The backend that wrote the key directory (read from its setup.json)."""
    return get_backend(load_key_info(key_dir).backend, progress=progress)
