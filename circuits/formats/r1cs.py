"""iden3 ``.r1cs`` files (version 1), as written by circom and read by snarkjs.

Binary layout, little-endian, field elements in standard (not Montgomery) form:

    "r1cs"  u32 version = 1  u32 n_sections
    section: u32 type  u64 size  payload
      type 1, header: u32 n8 = 32, n8 bytes prime r, u32 n_wires, u32 n_pub_out,
                      u32 n_pub_in, u32 n_prv_in, u64 n_labels, u32 n_constraints
      type 2, constraints: for each constraint, A then B then C, each
                      u32 n_terms followed by n_terms x (u32 wire, n8 bytes coefficient)
      type 3, wire -> label: n_wires x u64 label id

We write every public input as a public *input* (n_pub_out = 0), in declaration order, and
the private inputs of the builder as n_prv_in. Labels are the wire ids.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from circuits.constraint_system import ConstraintSystem
from circuits.errors import FormatError
from circuits.field import R
from circuits.formats.container import Reader, sections
from circuits.lc import Terms
from circuits.program import gc_paused

MAGIC = b"r1cs"
N8 = 32
_U32 = struct.Struct("<I")
_PRIME = R.to_bytes(N8, "little")


def _constraints_payload(cs: ConstraintSystem) -> bytes:
    # One- and two-term maps, the bulk of any circuit, are encoded inline: this loop is most
    # of the cost of writing a large circuit. A product x*x puts the same map in A and B, so
    # a map equal (by identity) to the previous one reuses its bytes; a cache of every map
    # costs more in lookups than it saves.
    coef_cache: dict[int, bytes] = {}
    pack_head = struct.Struct("<II").pack
    pack = _U32.pack
    coef_get = coef_cache.get
    parts: list[bytes] = []
    add = parts.append
    prev: Terms | None = None
    enc = b""
    for lcs in zip(cs.a, cs.b, cs.c, strict=True):
        for terms in lcs:
            if terms is not prev:
                prev = terms
                n = len(terms)
                if n == 1:
                    ((w, k),) = terms.items()
                    kb = coef_get(k) or coef_cache.setdefault(k, k.to_bytes(N8, "little"))
                    enc = pack_head(1, w) + kb
                elif n == 2:
                    (w1, k1), (w2, k2) = terms.items()
                    if w1 > w2:
                        w1, k1, w2, k2 = w2, k2, w1, k1
                    kb1 = coef_get(k1) or coef_cache.setdefault(k1, k1.to_bytes(N8, "little"))
                    kb2 = coef_get(k2) or coef_cache.setdefault(k2, k2.to_bytes(N8, "little"))
                    enc = pack_head(2, w1) + kb1 + pack(w2) + kb2
                else:
                    enc = pack(n) + b"".join(
                        [pack(w) + terms[w].to_bytes(N8, "little") for w in sorted(terms)]
                    )
            add(enc)
    return b"".join(parts)


def encode(cs: ConstraintSystem) -> bytes:
    """The bytes of the ``.r1cs`` file of `cs`."""
    with gc_paused():
        return _encode(cs)


def _encode(cs: ConstraintSystem) -> bytes:
    header = (
        _U32.pack(N8)
        + _PRIME
        + struct.pack(
            "<IIIIQI",
            cs.n_wires,
            0,
            cs.n_public,
            len(cs.private_input_names),
            cs.n_wires,
            cs.n_constraints,
        )
    )
    constraints = _constraints_payload(cs)
    labels = struct.pack(f"<{cs.n_wires}Q", *range(cs.n_wires))
    out = [MAGIC, struct.pack("<II", 1, 3)]
    for kind, payload in ((1, header), (2, constraints), (3, labels)):
        out.append(struct.pack("<IQ", kind, len(payload)))
        out.append(payload)
    return b"".join(out)


def write(path: str | Path, cs: ConstraintSystem) -> None:
    Path(path).write_bytes(encode(cs))


@dataclass(frozen=True)
class R1csFile:
    """The content of a ``.r1cs`` file."""

    n_wires: int
    n_pub_out: int
    n_pub_in: int
    n_prv_in: int
    n_labels: int
    constraints: list[tuple[Terms, Terms, Terms]]

    @property
    def n_public(self) -> int:
        return self.n_pub_out + self.n_pub_in


def decode(data: bytes, path: str = "<r1cs>") -> R1csFile:
    secs = sections(data, MAGIC, path)
    if 1 not in secs or 2 not in secs:
        raise FormatError(path, "missing header (1) or constraints (2) section")
    hd = Reader(secs[1], path)
    n8 = hd.u32()
    if n8 != N8 or int.from_bytes(hd.take(n8), "little") != R:
        raise FormatError(path, "the field is not the BN254 scalar field")
    n_wires, n_out, n_in, n_prv = hd.u32(), hd.u32(), hd.u32(), hd.u32()
    n_labels, m = hd.u64(), hd.u32()
    rd = Reader(secs[2], path)
    constraints: list[tuple[Terms, Terms, Terms]] = []
    for _ in range(m):
        lcs = []
        for _ in range(3):
            terms: Terms = {}
            for _ in range(rd.u32()):
                w = rd.u32()
                if w >= n_wires:
                    raise FormatError(
                        path, f"constraint {len(constraints)} uses wire {w} >= n_wires {n_wires}"
                    )
                terms[w] = int.from_bytes(rd.take(N8), "little")
            lcs.append(terms)
        constraints.append((lcs[0], lcs[1], lcs[2]))
    return R1csFile(n_wires, n_out, n_in, n_prv, n_labels, constraints)


def read(path: str | Path) -> R1csFile:
    return decode(Path(path).read_bytes(), str(path))
