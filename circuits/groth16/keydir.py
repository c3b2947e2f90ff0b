"""Key directories: what they hold and their description file, ``setup.json``.

A key directory, written by a backend's `setup` or `import_zkey`, holds:

* ``circuit.r1cs``: the constraint system the keys belong to (iden3 format);
* the proving key, named in setup.json (``proving_key.bin`` for the native backend,
  ``circuit.zkey`` for snarkjs);
* ``verification_key.json``: the snarkjs JSON verifying key, the same for every backend;
* ``setup.json``: how the keys were made (`KeyInfo`), including a one-line ``kind`` that
  says whether one machine saw the toxic waste (development) or the key comes from a
  ceremony.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypedDict

from circuits.constraint_system import R1CS_FILE
from circuits.errors import BackendError, FormatError
from circuits.groth16.data import VerifyingKey
from circuits.groth16.vk_json import read_vk_file

KIND_DEVELOPMENT = (
    "development single-party setup: one machine saw the toxic waste; "
    "use a multi-party ceremony .zkey for production"
)
KIND_CEREMONY = "imported ceremony key"

VK_FILE = "verification_key.json"
SETUP_FILE = "setup.json"


class SetupJson(TypedDict):
    backend: str
    kind: str
    r1cs_sha256: str
    n_constraints: int
    n_public: int
    n_wires: int
    timestamp: str
    proving_key: str
    verification_key: str
    details: dict[str, Any]


@dataclass(frozen=True)
class R1csSummary:
    """The sizes and digest of an ``.r1cs`` file."""

    path: Path
    sha256: str
    n_wires: int
    n_public: int
    n_constraints: int


@dataclass(frozen=True)
class KeyInfo:
    """What a key directory holds and how its keys were made (the content of setup.json)."""

    key_dir: Path
    backend: str
    kind: str
    r1cs_sha256: str
    n_constraints: int
    n_public: int
    n_wires: int
    timestamp: str
    proving_key: Path
    verification_key: Path
    details: dict[str, Any]

    @property
    def r1cs(self) -> Path:
        return self.key_dir / R1CS_FILE

    @property
    def is_development(self) -> bool:
        return self.kind == KIND_DEVELOPMENT

    def verifying_key(self) -> VerifyingKey:
        return read_vk_file(self.verification_key)

    def to_json(self) -> SetupJson:
        return {
            "backend": self.backend,
            "kind": self.kind,
            "r1cs_sha256": self.r1cs_sha256,
            "n_constraints": self.n_constraints,
            "n_public": self.n_public,
            "n_wires": self.n_wires,
            "timestamp": self.timestamp,
            "proving_key": self.proving_key.name,
            "verification_key": self.verification_key.name,
            "details": self.details,
        }


def load_key_info(key_dir: str | Path) -> KeyInfo:
    """Read setup.json of a key directory."""
    d = Path(key_dir)
    path = d / SETUP_FILE
    if not path.is_file():
        raise BackendError(f"{d} is not a key directory (no {SETUP_FILE}): run the setup first")
    try:
        obj = json.loads(path.read_text())
        return KeyInfo(
            key_dir=d,
            backend=str(obj["backend"]),
            kind=str(obj["kind"]),
            r1cs_sha256=str(obj["r1cs_sha256"]),
            n_constraints=int(obj["n_constraints"]),
            n_public=int(obj["n_public"]),
            n_wires=int(obj["n_wires"]),
            timestamp=str(obj["timestamp"]),
            proving_key=d / str(obj["proving_key"]),
            verification_key=d / str(obj["verification_key"]),
            details=dict(obj.get("details", {})),
        )
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as e:
        raise FormatError(str(path), f"not a key directory description: {e}") from e


def write_key_info(info: KeyInfo) -> KeyInfo:
    (info.key_dir / SETUP_FILE).write_text(json.dumps(info.to_json(), indent=1) + "\n")
    return info


def new_key_info(
    *,
    key_dir: Path,
    backend: str,
    kind: str,
    r1cs: R1csSummary,
    proving_key: str,
    details: dict[str, Any],
) -> KeyInfo:
    """A KeyInfo stamped now, for the circuit summarised by `r1cs`."""
    return KeyInfo(
        key_dir=key_dir,
        backend=backend,
        kind=kind,
        r1cs_sha256=r1cs.sha256,
        n_constraints=r1cs.n_constraints,
        n_public=r1cs.n_public,
        n_wires=r1cs.n_wires,
        timestamp=datetime.now(UTC).isoformat(timespec="seconds"),
        proving_key=key_dir / proving_key,
        verification_key=key_dir / VK_FILE,
        details=details,
    )
