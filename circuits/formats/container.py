"""The iden3 binary container shared by ``.r1cs``, ``.wtns`` and ``.zkey`` files.

    magic (4 bytes)  u32 version  u32 n_sections
    section: u32 type  u64 size  payload

All little-endian. `sections` splits bytes already in memory; `SectionIndex` records where
each section of an open file starts, for files (ceremony keys) too large to read whole
when only a few sections are wanted.
"""

from __future__ import annotations

import struct
from typing import BinaryIO

from circuits.errors import FormatError

_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")


class Reader:
    """A little-endian cursor over bytes that names the file when they run out."""

    def __init__(self, data: bytes, path: str) -> None:
        self.data, self.pos, self.path = data, 0, path

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise FormatError(self.path, f"truncated at byte {self.pos} (wanted {n} more bytes)")
        b = self.data[self.pos : self.pos + n]
        self.pos += n
        return b

    def u32(self) -> int:
        return int(_U32.unpack(self.take(4))[0])

    def u64(self) -> int:
        return int(_U64.unpack(self.take(8))[0])


def _kind_name(magic: bytes) -> str:
    return magic.decode(errors="replace")


def sections(data: bytes, magic: bytes, path: str) -> dict[int, bytes]:
    """Split a container into {section type: payload}."""
    rd = Reader(data, path)
    if rd.take(4) != magic:
        raise FormatError(path, f"not a {_kind_name(magic)} file (bad magic)")
    rd.u32()
    out: dict[int, bytes] = {}
    for _ in range(rd.u32()):
        kind, size = rd.u32(), rd.u64()
        if kind in out:
            raise FormatError(path, f"section {kind} appears twice")
        out[kind] = rd.take(size)
    return out


class SectionIndex:
    """Random access to the sections of an open container file."""

    def __init__(self, fh: BinaryIO, magic: bytes, path: str) -> None:
        self.fh, self.path = fh, path
        if fh.read(4) != magic:
            raise FormatError(path, f"not a {_kind_name(magic)} file (bad magic)")
        head = fh.read(8)
        if len(head) != 8:
            raise FormatError(path, "truncated in the file header")
        _, n_sections = struct.unpack("<II", head)
        self.sections: dict[int, tuple[int, int]] = {}
        for _ in range(n_sections):
            sh = fh.read(12)
            if len(sh) != 12:
                raise FormatError(path, "truncated in the section table")
            kind, size = struct.unpack("<IQ", sh)
            self.sections[kind] = (fh.tell(), size)
            fh.seek(size, 1)
        end = fh.tell()
        fh.seek(0, 2)
        if fh.tell() < end:
            raise FormatError(
                path, f"truncated: sections need {end} bytes, the file has {fh.tell()}"
            )

    def read(self, kind: int, what: str) -> bytes:
        if kind not in self.sections:
            raise FormatError(self.path, f"missing section {kind} ({what})")
        pos, size = self.sections[kind]
        self.fh.seek(pos)
        return self.fh.read(size)
