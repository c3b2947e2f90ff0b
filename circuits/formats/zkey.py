"""snarkjs Groth16 ``.zkey`` files: the parts needed to check a key against a circuit.

A zkey is an iden3 binary container (magic ``"zkey"``, version 1), little-endian:

    "zkey"  u32 version = 1  u32 n_sections
    section: u32 type  u64 size  payload
      type 1, header:   u32 protocol (1 = Groth16)
      type 2, Groth16:  u32 n8q, q, u32 n8r, r, u32 n_vars, u32 n_public, u32 domain_size,
                        alpha1, beta1 (G1), beta2, gamma2 (G2), delta1 (G1), delta2 (G2);
                        points are uncompressed, little-endian Montgomery form
      type 3 IC, 5 A, 6 B1, 7 B2, 8 C, 9 H: curve points (not read here)
      type 4, coefficients: u32 n, then n x (u32 matrix (0 = A, 1 = B), u32 constraint,
                        u32 signal, 32 bytes value); a value is stored as c * R^2 mod r
                        with R = 2^256 mod r, so c = value / R^2
      type 10, contributions: 64-byte circuit hash, u32 n_contributions, ...

The coefficient section lists the A and B matrices of the circuit plus one A entry
(signal s, constraint n_constraints + s) for the constant wire and every public input:
the input-consistency rows snarkjs adds so that every public input is bound.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from py_ecc.optimized_bn128.optimized_curve import G2, normalize

from circuits.errors import FormatError
from circuits.field import Q, R
from circuits.formats.container import SectionIndex

MAGIC = b"zkey"
GROTH16 = 1
_R2_INV = pow(pow(2, 512, R), R - 2, R)
_COEF = struct.Struct("<III32s")
_FQ_BYTES = 32
_G1_BYTES = 2 * _FQ_BYTES
_G2_BYTES = 4 * _FQ_BYTES
_MONT_INV_Q = pow(pow(2, 256, Q), Q - 2, Q)

#: (matrix, constraint, signal) -> coefficient in standard form.
CoefKey = tuple[int, int, int]


@dataclass(frozen=True)
class ZkeyHeader:
    """Sizes of the circuit a zkey was made for, and its phase-2 contribution count."""

    n_vars: int
    n_public: int
    domain_size: int
    n_contributions: int
    delta2_is_generator: bool


def _u32(data: bytes, pos: int) -> int:
    return int(struct.unpack_from("<I", data, pos)[0])


def _parse_groth_header(data: bytes, path: str) -> tuple[int, int, int, bytes]:
    """(n_vars, n_public, domain_size, delta2 bytes) from section 2, checking the curve."""
    try:
        n8q = _u32(data, 0)
        q = int.from_bytes(data[4 : 4 + n8q], "little")
        pos = 4 + n8q
        n8r = _u32(data, pos)
        r = int.from_bytes(data[pos + 4 : pos + 4 + n8r], "little")
        pos += 4 + n8r
        n_vars, n_public, domain_size = struct.unpack_from("<III", data, pos)
    except struct.error as e:
        raise FormatError(path, "truncated Groth16 header section") from e
    if q != Q or r != R:
        raise FormatError(path, "the key is not over BN254 (bn128)")
    pos += 12 + 3 * _G1_BYTES + 2 * _G2_BYTES  # alpha1, beta1, beta2, gamma2, delta1
    delta2 = data[pos : pos + _G2_BYTES]
    if len(delta2) != _G2_BYTES:
        raise FormatError(path, "truncated Groth16 header section")
    return n_vars, n_public, domain_size, delta2


def _is_g2_generator(point: bytes) -> bool:
    """True when the Montgomery-form G2 point is the standard generator (delta = 1)."""
    gx, gy = normalize(G2)
    want = [int(c) for c in (*gx.coeffs, *gy.coeffs)]
    got = [
        int.from_bytes(point[i : i + _FQ_BYTES], "little") * _MONT_INV_Q % Q
        for i in range(0, _G2_BYTES, _FQ_BYTES)
    ]
    return got == want


def read_header(path: str | Path) -> ZkeyHeader:
    """The circuit sizes and contribution count of a Groth16 zkey."""
    with open(path, "rb") as fh:
        box = SectionIndex(fh, MAGIC, str(path))
        proto = box.read(1, "protocol header")
        if len(proto) < 4 or _u32(proto, 0) != GROTH16:
            raise FormatError(str(path), "not a Groth16 zkey (protocol id is not 1)")
        n_vars, n_public, domain, delta2 = _parse_groth_header(
            box.read(2, "Groth16 header"), str(path)
        )
        contrib = box.read(10, "contributions")
        if len(contrib) < 68:
            raise FormatError(str(path), "truncated contributions section")
        n_contrib = _u32(contrib, 64)
    return ZkeyHeader(n_vars, n_public, domain, n_contrib, _is_g2_generator(delta2))


def read_coefficients(path: str | Path) -> dict[CoefKey, int]:
    """The A and B coefficients of a zkey, {(matrix, constraint, signal): c}, standard form."""
    with open(path, "rb") as fh:
        data = SectionIndex(fh, MAGIC, str(path)).read(4, "coefficients")
    if len(data) < 4:
        raise FormatError(str(path), "truncated coefficients section")
    n = _u32(data, 0)
    if len(data) != 4 + n * _COEF.size:
        raise FormatError(
            str(path),
            f"coefficients section holds {len(data)} bytes, expected {4 + n * _COEF.size}",
        )
    out: dict[CoefKey, int] = {}
    for matrix, constraint, signal, raw in _COEF.iter_unpack(data[4:]):
        key = (matrix, constraint, signal)
        c = int.from_bytes(raw, "little") * _R2_INV % R
        out[key] = (out.get(key, 0) + c) % R
    return out
