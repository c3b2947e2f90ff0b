"""What every file-based backend shares: the circuit file of its key directory (written
from a circuit, summarised, read back) and the skeleton of `KeyDirBackend`.

A backend subclasses `KeyDirBackend` and supplies its own setup, key import and the two
raw steps, `prove_values` and `verify_values`; the base adds what must be the same
everywhere: the checked proving sequence (`circuits.groth16.proving.prove_checked`), the
public-input checks before any verifier runs (a wrong count raises, an input >= r is
rejected), the refusal of another backend's keys, and the recording of a key directory.
"""

from __future__ import annotations

import hashlib
import shutil
import struct
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from circuits.constraint_system import R1CS_FILE, ConstraintSystem
from circuits.errors import BackendError, FormatError, VerificationInputError
from circuits.field import R
from circuits.formats import r1cs as r1cs_format
from circuits.formats.container import sections
from circuits.groth16.backend import CircuitSource, Progress, WitnessValues, witness_list
from circuits.groth16.data import Proof
from circuits.groth16.key_cache import KeyCache
from circuits.groth16.keydir import (
    KeyInfo,
    R1csSummary,
    load_key_info,
    new_key_info,
    write_key_info,
)
from circuits.groth16.proving import prove_checked
from circuits.program import Circuit

#: Constraint systems read back from key directories, for the Python constraint check.
_CONSTRAINTS: KeyCache[ConstraintSystem] = KeyCache(maxsize=4)


def summarize_r1cs(data: bytes, path: str) -> R1csSummary:
    """Sizes from the header section of an ``.r1cs`` file, plus its sha256."""
    header = sections(data, r1cs_format.MAGIC, path).get(1)
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


def public_inputs_valid(n_public: int, public_inputs: Sequence[int]) -> bool:
    """False if an input is not below r (no verifier may accept it); raises
    `VerificationInputError` for a wrong count (a caller's mistake, not a bad proof)."""
    if len(public_inputs) != n_public:
        raise VerificationInputError(f"expected {n_public} public inputs, got {len(public_inputs)}")
    return all(0 <= x < R for x in public_inputs)


class KeyDirBackend:
    """The part of a backend that is the same for all: see the module docstring."""

    name: str
    progress: Progress

    def prove(
        self, key_dir: str | Path, witness: WitnessValues, *, cs: ConstraintSystem | None = None
    ) -> Proof:
        """Check the witness against the circuit, prove, then verify the proof."""
        return prove_checked(self, self._info(key_dir), witness_list(witness), cs)

    def check_constraints(
        self, info: KeyInfo, values: list[int], cs: ConstraintSystem | None
    ) -> None:
        """Every constraint checked in Python (a backend with a faster check overrides)."""
        (cs if cs is not None else _CONSTRAINTS.get(info.r1cs, cs_from_r1cs)).check(values)

    def prove_values(self, info: KeyInfo, values: list[int]) -> tuple[Proof, list[int] | None]:
        """The raw prover: the proof, and the public inputs it saw if it reports them."""
        raise NotImplementedError

    def verify(self, key_dir: str | Path, public_inputs: Sequence[int], proof: Proof) -> bool:
        """True iff the proof verifies; False for a malformed proof or an input >= r.

        Any backend's key directory works: only its verification_key.json is read."""
        info = self._info(key_dir, any_backend=True)
        if not public_inputs_valid(info.n_public, public_inputs):
            return False
        return self.verify_values(info, public_inputs, proof)

    def verify_values(self, info: KeyInfo, public_inputs: Sequence[int], proof: Proof) -> bool:
        """The raw verifier, on inputs already checked."""
        raise NotImplementedError

    def _info(self, key_dir: str | Path, *, any_backend: bool = False) -> KeyInfo:
        info = load_key_info(key_dir)
        if not any_backend and info.backend != self.name:
            raise BackendError(f"{key_dir} holds {info.backend} keys, not {self.name} keys")
        return info

    def _adopt_zkey(
        self, zkey_path: str | Path, r1cs: CircuitSource, out_dir: str | Path
    ) -> tuple[Path, R1csSummary, dict[str, object]]:
        """The first steps of every `import_zkey`: the key directory, the circuit written
        into it, and the ceremony key checked against it (`circuits.provers.ceremony`)."""
        from circuits.provers.ceremony import check_zkey  # the zkey reader, only when needed

        out = Path(out_dir)
        summary = materialize_r1cs(r1cs, out)
        return out, summary, check_zkey(Path(zkey_path), summary.path)

    def _record(
        self, out: Path, kind: str, r1cs: R1csSummary, proving_key: str, details: dict[str, object]
    ) -> KeyInfo:
        """Write the key directory's ``setup.json``; its description."""
        info = new_key_info(
            key_dir=out, backend=self.name, kind=kind, r1cs=r1cs, proving_key=proving_key,
            details=details,
        )  # fmt: skip
        return write_key_info(info)
