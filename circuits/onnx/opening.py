"""Openings of commitments: the files that hold salts and committed values.

* ``weights-opening.json`` (written by ``zkoracle compile --weights private`` into the model
  directory; the model owner keeps it and never publishes it unless to open the commitment
  to an auditor)::

      {"format": "zkoracle-weights-opening/1", "commitment": "<decimal>",
       "salt": "<decimal>", "tensors": [{"name", "shape", "scale", "bits",
       "values": [quantized ints, C order]}, ...]}

* ``salts.json`` (written by ``zkoracle prove`` next to the proof when it creates salts; the
  requester keeps it to open the input or output commitment)::

      {"format": "zkoracle-salts/1", "inputs": "<decimal>", "outputs": "<decimal>"}

Every read checks the shape of what it reads and names the file and the field at fault.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from circuits.commitment import Segment, commit
from circuits.errors import FormatError
from circuits.field import R
from circuits.onnx.context import PrivateTensor

OPENING_FILE = "weights-opening.json"
OPENING_FORMAT = "zkoracle-weights-opening/1"
SALTS_FORMAT = "zkoracle-salts/1"


@dataclass(frozen=True)
class WeightsOpening:
    """The salt and the quantized values of every committed weight tensor, in order."""

    salt: int
    tensors: tuple[tuple[str, tuple[int, ...]], ...]
    bits: tuple[int, ...]

    @staticmethod
    def of(private: Sequence[PrivateTensor], salt: int) -> WeightsOpening:
        return WeightsOpening(
            salt, tuple((t.name, t.values) for t in private), tuple(t.bits for t in private)
        )

    @property
    def commitment(self) -> int:
        return commit(
            [Segment(n, b, v) for (n, v), b in zip(self.tensors, self.bits, strict=True)],
            self.salt,
        )

    def values(self) -> dict[str, tuple[int, ...]]:
        return dict(self.tensors)

    def save(self, path: Path, private: Sequence[PrivateTensor]) -> Path:
        doc = {
            "format": OPENING_FORMAT,
            "commitment": str(self.commitment),
            "salt": str(self.salt),
            "tensors": [
                {**t.to_json(), "values": list(v)}
                for t, (_, v) in zip(private, self.tensors, strict=True)
            ],
        }
        path.write_text(json.dumps(doc) + "\n")
        return path

    @staticmethod
    def load(path: str | Path, private: Sequence[PrivateTensor]) -> WeightsOpening:
        """Read an opening and check it against the model's private tensors (names, sizes,
        widths); `FormatError` names the first mismatch."""
        where = str(path)
        doc = _read_json(path)
        if doc.get("format") != OPENING_FORMAT:
            raise FormatError(where, f"format {doc.get('format')!r} is not {OPENING_FORMAT!r}")
        salt = _salt(doc.get("salt"), where, "salt")
        got = doc.get("tensors")
        if not isinstance(got, list) or len(got) != len(private):
            n = len(got) if isinstance(got, list) else "no"
            raise FormatError(where, f"{n} tensors, the model commits to {len(private)}")
        tensors = []
        for t, g in zip(private, got, strict=True):
            tensors.append((t.name, _tensor_values(g, t, where)))
        return WeightsOpening(salt, tuple(tensors), tuple(t.bits for t in private))


def _tensor_values(g: Any, t: PrivateTensor, where: str) -> tuple[int, ...]:
    if not isinstance(g, dict) or g.get("name") != t.name:
        name = g.get("name") if isinstance(g, dict) else g
        raise FormatError(where, f"tensor {name!r} found where the model has {t.name!r}")
    values = g.get("values")
    if not isinstance(values, list) or len(values) != len(t.values):
        n = len(values) if isinstance(values, list) else "no"
        raise FormatError(
            where, f"tensor {t.name!r} has {n} values, shape {list(t.shape)} takes {len(t.values)}"
        )
    half = 1 << (t.bits - 1)
    for i, v in enumerate(values):
        if not isinstance(v, int) or isinstance(v, bool) or not -half <= v < half:
            raise FormatError(
                where, f"tensor {t.name!r} value #{i} = {v!r} is not a {t.bits}-bit int"
            )
    return tuple(values)


def save_salts(path: Path, salts: Mapping[str, int]) -> Path:
    path.write_text(
        json.dumps({"format": SALTS_FORMAT, **{k: str(v) for k, v in salts.items()}}) + "\n"
    )
    return path


def load_salts(path: str | Path, needed: Sequence[str]) -> dict[str, int]:
    """The salts `needed` (e.g. "inputs", "outputs") from a salts file."""
    where = str(path)
    doc = _read_json(path)
    if doc.get("format") != SALTS_FORMAT:
        raise FormatError(where, f"format {doc.get('format')!r} is not {SALTS_FORMAT!r}")
    return {k: _salt(doc.get(k), where, k) for k in needed}


def _salt(v: Any, where: str, key: str) -> int:
    if v is None:
        raise FormatError(where, f"no {key!r} salt")
    try:
        salt = int(v)
    except (TypeError, ValueError):
        raise FormatError(where, f"{key!r} salt {v!r} is not a decimal integer") from None
    if not 0 <= salt < R:
        raise FormatError(where, f"{key!r} salt is not a field element")
    return salt


def _read_json(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    if not p.is_file():
        raise FormatError(str(p), "no such file")
    try:
        doc = json.loads(p.read_text())
    except json.JSONDecodeError as e:
        raise FormatError(str(p), f"invalid JSON at line {e.lineno} column {e.colno}") from e
    if not isinstance(doc, dict):
        raise FormatError(str(p), "expected a JSON object")
    return doc
