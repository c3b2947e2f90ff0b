"""The Groth16 backend interface, the key directory layout and the backend registry.

A key directory, written by `Backend.setup` or `Backend.import_zkey`, holds:

* ``circuit.r1cs``: the constraint system the keys belong to (iden3 format);
* the proving key: ``proving_key.bin`` (arkworks) or ``circuit.zkey`` (snarkjs);
* ``verification_key.json``: the snarkjs JSON verifying key, the same for every backend;
* ``setup.json``: how the keys were made (`KeyInfo`), including a one-line ``kind`` that
  says whether one machine saw the toxic waste (development) or the key comes from a
  ceremony.

Both backends add the input-consistency rows of Groth16, as libsnark does: one extra row
``A = x_i, B = 0, C = 0`` for the constant wire and for each public input. It is trivially
satisfied, but it gives every public input its own term in the QAP, so a public input that
appears in no constraint of the circuit is still bound by a proof (the tests change such an
input and check that all three verifiers reject).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import struct
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TypedDict

from circuits.constraint_system import R1CS_FILE, ConstraintSystem
from circuits.errors import BackendError, FormatError, WitnessError
from circuits.field import R
from circuits.formats import r1cs as r1cs_format
from circuits.formats.snarkjs_json import read_vk
from circuits.groth16.data import Proof, VerifyingKey
from circuits.program import Circuit, Witness

KIND_DEVELOPMENT = (
    "development single-party setup: one machine saw the toxic waste; "
    "use a multi-party ceremony .zkey for production"
)
KIND_CEREMONY = "imported ceremony key"

VK_FILE = "verification_key.json"
SETUP_FILE = "setup.json"

DEFAULT_BACKEND = "arkworks"
BACKENDS = ("arkworks", "snarkjs")

#: A circuit given to `setup`: an ``.r1cs`` path, a built circuit or its constraint system.
CircuitSource = str | Path | Circuit | ConstraintSystem
#: A witness given to `prove`: the full wire assignment, wire 0 first.
WitnessValues = Sequence[int] | Witness
#: Receives one human-readable line per step of slow work.
Progress = Callable[[str], None]


def stderr_progress(message: str) -> None:
    """The default progress sink: one line on standard error."""
    print(f"zkoracle: {message}", file=sys.stderr, flush=True)


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
        return read_vk(self.verification_key)

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


def get_backend(name: str = DEFAULT_BACKEND, *, progress: Progress | None = None) -> Backend:
    """The backend called `name` ("arkworks" or "snarkjs")."""
    if name == "arkworks":
        from circuits.groth16.arkworks import ArkworksBackend

        return ArkworksBackend(progress=progress)
    if name == "snarkjs":
        from circuits.groth16.snarkjs import SnarkjsBackend

        return SnarkjsBackend(progress=progress)
    raise BackendError(f"unknown Groth16 backend {name!r}; choose one of {', '.join(BACKENDS)}")


def backend_for(key_dir: str | Path, *, progress: Progress | None = None) -> Backend:
    """The backend that wrote the key directory (read from its setup.json)."""
    return get_backend(load_key_info(key_dir).backend, progress=progress)


# key directories -------------------------------------------------------------------------
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


@dataclass(frozen=True)
class R1csSummary:
    """The sizes and digest of an ``.r1cs`` file."""

    path: Path
    sha256: str
    n_wires: int
    n_public: int
    n_constraints: int


def summarize_r1cs(data: bytes, path: str) -> R1csSummary:
    """Sizes from the header section of an ``.r1cs`` file, plus its sha256."""
    header = r1cs_format.sections(data, r1cs_format.MAGIC, path).get(1)
    if header is None or len(header) < 4 + 32 + 28:
        raise FormatError(path, "missing or truncated header section")
    n8 = struct.unpack_from("<I", header, 0)[0]
    if n8 != 32 or int.from_bytes(header[4:36], "little") != R:
        raise FormatError(path, "the field is not the BN254 scalar field")
    n_wires, n_out, n_in, _n_prv, _n_labels, n_constraints = struct.unpack_from(
        "<IIIIQI", header, 36
    )
    digest = hashlib.sha256(data).hexdigest()
    return R1csSummary(Path(path), digest, n_wires, n_out + n_in, n_constraints)


def materialize_r1cs(circuit: CircuitSource, out_dir: Path) -> R1csSummary:
    """Write the circuit as ``out_dir/circuit.r1cs`` (copying a given file) and summarise it."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / R1CS_FILE
    if isinstance(circuit, str | Path):
        src = Path(circuit)
        if not src.is_file():
            raise BackendError(f"no .r1cs file at {src}")
        data = src.read_bytes()
        summary = summarize_r1cs(data, str(src))
        if src.resolve() != target.resolve():
            shutil.copyfile(src, target)
    else:
        cs = circuit.cs if isinstance(circuit, Circuit) else circuit
        data = r1cs_format.encode(cs)
        target.write_bytes(data)
        summary = summarize_r1cs(data, str(target))
    return replace(summary, path=target)


# witness checks --------------------------------------------------------------------------
def witness_list(witness: WitnessValues) -> list[int]:
    return list(witness.values) if isinstance(witness, Witness) else list(witness)


def check_witness(
    info: KeyInfo,
    values: list[int],
    cs: ConstraintSystem | None,
    load_cs: Callable[[], ConstraintSystem],
) -> None:
    """Refuse a witness that does not satisfy the key's circuit, before any proving.

    The witness must have one canonical value per wire, start with 1 and satisfy every
    constraint of `cs` (or of the key directory's ``circuit.r1cs`` when `cs` is None)."""
    if len(values) != info.n_wires:
        raise WitnessError(
            f"witness has {len(values)} values, "
            f"the circuit of {info.key_dir} has {info.n_wires} wires"
        )
    for i, v in enumerate(values):
        if not 0 <= v < R:
            raise WitnessError(f"witness value #{i} = {v} is not a field element in [0, r)")
    if cs is not None and (cs.n_wires, cs.n_public, cs.n_constraints) != (
        info.n_wires,
        info.n_public,
        info.n_constraints,
    ):
        raise BackendError(
            f"the constraint system passed to prove ({cs.n_wires} wires, {cs.n_public} public, "
            f"{cs.n_constraints} constraints) is not the one of {info.key_dir} "
            f"({info.n_wires} wires, {info.n_public} public, {info.n_constraints} constraints)"
        )
    (cs if cs is not None else load_cs()).check(values)


def cs_from_r1cs(path: str) -> ConstraintSystem:
    """A ConstraintSystem read back from an ``.r1cs`` file (gadget labels are lost)."""
    f = r1cs_format.read(path)
    n_pub = f.n_public
    return ConstraintSystem(
        n_wires=f.n_wires,
        public_names=tuple(f"public[{i}]" for i in range(n_pub)),
        private_input_names=tuple(f"private[{i}]" for i in range(f.n_prv_in)),
        a=[c[0] for c in f.constraints],
        b=[c[1] for c in f.constraints],
        c=[c[2] for c in f.constraints],
        gadgets=[0] * len(f.constraints),
        gadget_names=("",),
    )
