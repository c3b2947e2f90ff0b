"""iden3 ``.wtns`` witness files (version 2), as written by circom's witness calculator.

Binary layout, little-endian, field elements in standard form:

    "wtns"  u32 version = 2  u32 n_sections = 2
    section type 1, header: u32 n8 = 32, n8 bytes prime r, u32 n_witness
    section type 2, values: n_witness x n8 bytes
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from pathlib import Path

from circuits.errors import FormatError
from circuits.field import R
from circuits.formats.container import sections

MAGIC = b"wtns"
N8 = 32


def encode(values: Sequence[int]) -> bytes:
    header = struct.pack("<I", N8) + R.to_bytes(N8, "little") + struct.pack("<I", len(values))
    body = b"".join([v.to_bytes(N8, "little") for v in values])
    return b"".join(
        [
            MAGIC,
            struct.pack("<II", 2, 2),
            struct.pack("<IQ", 1, len(header)),
            header,
            struct.pack("<IQ", 2, len(body)),
            body,
        ]
    )


def write(path: str | Path, values: Sequence[int]) -> None:
    Path(path).write_bytes(encode(values))


def decode(data: bytes, path: str = "<wtns>") -> list[int]:
    secs = sections(data, MAGIC, path)
    if 1 not in secs or 2 not in secs:
        raise FormatError(path, "missing header (1) or values (2) section")
    hd = secs[1]
    if len(hd) < 8 or struct.unpack("<I", hd[:4])[0] != N8:
        raise FormatError(path, "field elements are not 32 bytes")
    if int.from_bytes(hd[4:36], "little") != R:
        raise FormatError(path, "the field is not the BN254 scalar field")
    (n,) = struct.unpack("<I", hd[36:40])
    body = secs[2]
    if len(body) != n * N8:
        raise FormatError(path, f"values section holds {len(body)} bytes, expected {n * N8}")
    values = [int.from_bytes(body[i : i + N8], "little") for i in range(0, len(body), N8)]
    for i, v in enumerate(values):
        if v >= R:
            raise FormatError(path, f"value #{i} is not reduced modulo r")
    return values


def read(path: str | Path) -> list[int]:
    return decode(Path(path).read_bytes(), str(path))
