"""Checks that a snarkjs ``.zkey`` (from a ceremony) belongs to our circuit.

`snarkjs zkey verify` replays the whole setup against the powers of tau and is slow. What
is checked here, without the ptau, in about the time it takes to read the files:

1. the key is a Groth16 key over BN254;
2. its number of wires and of public inputs equal the ``.r1cs``'s;
3. its evaluation domain is the one snarkjs picks for the r1cs's constraint count;
4. its A and B matrices, including the input-consistency rows for the constant wire and
   every public input, equal the r1cs's coefficient for coefficient;
5. it has at least one phase-2 contribution and delta != 1 (a key without one has
   gamma = delta = the G2 generator, and anyone can forge proofs with it).

The C matrix is not stored in a zkey (it is folded into the L points): a key made for a
circuit differing only in C passes these checks. Such a key cannot prove our circuit,
and every proof is verified right after proving, so it fails at the first proof; the
full check remains `snarkjs zkey verify circuit.r1cs ceremony.ptau circuit.zkey`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from circuits.errors import BackendError
from circuits.formats import r1cs as r1cs_format
from circuits.formats import zkey as zkey_format

CHECKS = (
    "Groth16 over BN254",
    "wire count",
    "public input count",
    "domain size for the constraint count",
    "A and B matrices incl. input-consistency rows",
    "phase-2 contribution present (delta != 1)",
)


def domain_power(n_constraints: int, n_public: int) -> int:
    """log2 of the domain snarkjs uses: the least p with 2^p > n_constraints + n_public."""
    return (n_constraints + n_public).bit_length()


def expected_coefficients(r1cs: r1cs_format.R1csFile) -> dict[zkey_format.CoefKey, int]:
    """The coefficient section a zkey made from `r1cs` must hold."""
    out: dict[zkey_format.CoefKey, int] = {}
    for j, (a, b, _c) in enumerate(r1cs.constraints):
        for w, k in a.items():
            out[(0, j, w)] = k
        for w, k in b.items():
            out[(1, j, w)] = k
    m = len(r1cs.constraints)
    for s in range(r1cs.n_public + 1):
        out[(0, m + s, s)] = 1
    return out


def check_zkey(zkey_path: Path, r1cs_path: Path) -> dict[str, Any]:
    """Raise `BackendError` naming the first mismatch; return what was checked."""
    if not zkey_path.is_file():
        raise BackendError(f"no .zkey file at {zkey_path}")
    head = zkey_format.read_header(zkey_path)
    r1cs = r1cs_format.read(r1cs_path)
    where = f"{zkey_path} does not belong to {r1cs_path}"
    if head.n_vars != r1cs.n_wires:
        raise BackendError(f"{where}: the key has {head.n_vars} wires, the circuit {r1cs.n_wires}")
    if head.n_public != r1cs.n_public:
        raise BackendError(
            f"{where}: the key has {head.n_public} public inputs, the circuit {r1cs.n_public}"
        )
    power = domain_power(len(r1cs.constraints), r1cs.n_public)
    if head.domain_size != 1 << power:
        raise BackendError(
            f"{where}: the key's domain has {head.domain_size} points, the circuit's "
            f"{len(r1cs.constraints)} constraints need {1 << power}"
        )
    got = zkey_format.read_coefficients(zkey_path)
    want = expected_coefficients(r1cs)
    if got != want:
        diff = sorted(set(got.items()) ^ set(want.items()))[0]
        matrix, row, wire = diff[0]
        name = "AB"[matrix] if matrix < 2 else str(matrix)
        raise BackendError(f"{where}: matrix {name} differs at constraint {row}, wire {wire}")
    if head.n_contributions < 1 or head.delta2_is_generator:
        raise BackendError(
            f"{zkey_path} has no phase-2 contribution (delta = 1): anyone could forge proofs; "
            "contribute to it (snarkjs zkey contribute) before use"
        )
    return {
        "zkey_sha256": _sha256(zkey_path),
        "zkey_source": str(zkey_path),
        "phase2_contributions": head.n_contributions,
        "checked": list(CHECKS),
        "not_checked": "C matrix and curve points against the ptau (snarkjs zkey verify does that)",
    }


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
