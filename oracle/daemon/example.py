"""The annotated example configuration shipped with the package, and a filled-in copy of it.

``oracle.example.toml`` (next to this module) lists every key the daemon reads, with its
default and what it does. `fill_example` keeps its comments and order and replaces the
values of a given chain, hub, account and models; the example's ``[[feeds]]`` part is kept
commented out (a feed needs a source only its operator knows).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources

EXAMPLE_NAME = "oracle.example.toml"
_MODELS_MARK = "# One [[models]] table"
_FEEDS_MARK = "# One [[feeds]] table"
_HEADER = re.compile(r"^\[+([a-z_.]+)\]+\s*$")
_ASSIGN = re.compile(r"^([a-z_]+) = ")


def example_text() -> str:
    """The annotated example configuration, as shipped."""
    return resources.files("oracle.daemon").joinpath(EXAMPLE_NAME).read_text()


@dataclass(frozen=True)
class ModelEntry:
    name: str
    model_id: bytes
    artifacts: str


def toml_value(value: str | int | float | bool) -> str:
    """A TOML literal (a JSON string is a valid TOML basic string)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value)


def _set_values(lines: Sequence[str], values: Mapping[tuple[str, str], str]) -> list[str]:
    """Replace the active ``key = value`` lines of ``(table, key)`` in `values`."""
    out, table = [], ""
    for line in lines:
        header = _HEADER.match(line)
        if header:
            table = header.group(1)
        assign = _ASSIGN.match(line)
        if assign and (table, assign.group(1)) in values:
            line = f"{assign.group(1)} = {values[table, assign.group(1)]}"
        out.append(line)
    return out


def fill_example(
    values: Mapping[tuple[str, str], str | int | float | bool], models: Sequence[ModelEntry]
) -> str:
    """The example with `values` (``(table, key) -> value``) and one ``[[models]]`` table
    per entry of `models`; the feeds part is commented out."""
    text = example_text()
    head, rest = text.split(_MODELS_MARK, 1)
    model_part, feed_part = rest.split(_FEEDS_MARK, 1)
    model_part = _MODELS_MARK + model_part
    literal = {k: toml_value(v) for k, v in values.items()}
    blocks = []
    for i, m in enumerate(models):
        entry = {
            ("models", "name"): toml_value(m.name),
            ("models", "id"): toml_value("0x" + m.model_id.hex()),
            ("models", "artifacts"): toml_value(m.artifacts),
        }
        lines = _set_values(model_part.splitlines(), entry)
        # The explanations once; later tables carry the values only.
        blocks.append("\n".join(lines if i == 0 else [ln for ln in lines if _ASSIGN.match(ln)
                                                        or ln.startswith("[[")]))  # fmt: skip
    commented = [
        ln if not ln.strip() or ln.startswith("#") else f"# {ln}"
        for ln in (_FEEDS_MARK + feed_part).splitlines()
    ]
    parts = ["\n".join(_set_values(head.splitlines(), literal)), *blocks, "\n".join(commented)]
    return "\n".join(p.rstrip("\n") + "\n" for p in parts)
