"""What every file-based backend shares: the circuit file of its key directory (written
from a circuit, summarised, read back) and the skeleton of `KeyDirBackend`.

A backend subclasses `KeyDirBackend` and supplies its own setup, key import and two raw
steps, `prove_values` and `verify_values`. The base adds what must be the same everywhere:
the refusal of another backend's keys, the recording of a key directory, the public-input
checks before any verifier runs (a wrong count raises, an input >= r is rejected), and the
one proving sequence, which never skips a step:

1. the witness has one canonical field element per wire and starts with 1;
2. it satisfies every constraint (`check_constraints`: in Python by default, where the
   constraint system names the first violated constraint and its gadget);
3. the prover runs; if it reports public inputs, they must be the witness's;
4. the fresh proof verifies under the key directory's verifying key.
"""

from __future__ import annotations

import hashlib
import shutil
import struct
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from circuits.constraint_system import R1CS_FILE, ConstraintSystem
from circuits.errors import BackendError, FormatError, VerificationInputError, WitnessError
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


def check_shape(info: KeyInfo, values: Sequence[int], cs: ConstraintSystem | None) -> None:
    """Refuse a witness of the wrong length or with a value outside [0, r)."""
    if len(values) != info.n_wires:
        raise WitnessError(
            f"witness has {len(values)} values, "
            f"the circuit of {info.key_dir} has {info.n_wires} wires"
        )
    if values and values[0] != 1:
        raise WitnessError(f"witness value #0 is {values[0]}, the constant wire must be 1")
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
        """Check the witness, prove, and verify the fresh proof (the module docstring's
        sequence); `cs`, when given, names a violated constraint's gadget."""
        info, values = self._info(key_dir), witness_list(witness)
        check_shape(info, values, cs)
        self.check_constraints(info, values, cs)
        proof, proved_public = self.prove_values(info, values)
        public = values[1 : info.n_public + 1]
        if proved_public is not None and proved_public != public:
            raise BackendError(f"the prover reported public inputs {proved_public}, not {public}")
        if not self.verify(info.key_dir, public, proof):
            raise BackendError(
                f"the fresh proof does not verify under {info.verification_key}: the key is broken"
            )
        return proof

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
