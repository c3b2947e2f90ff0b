"""The circuit file of a key directory: written from a circuit, summarised, read back."""

from __future__ import annotations

import hashlib
import shutil
import struct
from dataclasses import replace
from pathlib import Path

from circuits.constraint_system import R1CS_FILE, ConstraintSystem
from circuits.errors import BackendError, FormatError
from circuits.field import R
from circuits.formats import r1cs as r1cs_format
from circuits.formats.container import sections
from circuits.groth16.backend import CircuitSource
from circuits.groth16.keydir import R1csSummary
from circuits.program import Circuit


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
