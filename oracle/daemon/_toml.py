"""Typed reading of a parsed TOML document with errors that name the file, key and type.

Every getter records the key it read; `Table.finish` then rejects keys nobody read, so a
misspelt option fails at start instead of being silently ignored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from oracle.daemon.errors import ConfigError

T = TypeVar("T")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_BYTES32 = re.compile(r"0x[0-9a-fA-F]{64}")
_MISSING: Any = object()


def shown(value: object) -> str:
    """A short rendering of a bad value for an error message."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class Table:
    """One TOML table, located in the file as ``where`` (e.g. ``[chain]``, ``[models][0]``)."""

    def __init__(self, data: Mapping[str, Any], where: str, file: str) -> None:
        self.data = data
        self.where = where
        self.file = file
        self._read: set[str] = set()

    def key_path(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def error(self, key: str, message: str) -> ConfigError:
        return ConfigError(f"{self.file}: {self.key_path(key)}: {message}")

    def expected(self, key: str, what: str, got: object) -> ConfigError:
        return self.error(key, f"expected {what}, got {shown(got)}")

    def has(self, key: str) -> bool:
        return key in self.data

    def _get(self, key: str, what: str, default: object) -> Any:
        self._read.add(key)
        if key in self.data:
            return self.data[key]
        if default is _MISSING:
            raise self.error(key, f"missing (expected {what})")
        return default

    def integer(self, key: str, *, minimum: int = 0, default: int = _MISSING) -> int:
        what = "a non-negative integer" if minimum == 0 else f"an integer >= {minimum}"
        value = self._get(key, what, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.expected(key, what, value)
        return value

    def number(
        self,
        key: str,
        *,
        minimum: float = 0.0,
        exclusive: bool = False,
        default: float = _MISSING,
    ) -> float:
        what = f"a number {'>' if exclusive else '>='} {minimum:g}"
        value = self._get(key, what, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.expected(key, what, value)
        if value < minimum or (exclusive and value == minimum):
            raise self.expected(key, what, value)
        return float(value)

    def boolean(self, key: str, *, default: bool = _MISSING) -> bool:
        value = self._get(key, "true or false", default)
        if not isinstance(value, bool):
            raise self.expected(key, "true or false", value)
        return value

    def string(self, key: str, *, default: str = _MISSING) -> str:
        value = self._get(key, "a string", default)
        if not isinstance(value, str) or not value:
            raise self.expected(key, "a non-empty string", value)
        return value

    def strings(self, key: str, *, default: list[str] = _MISSING) -> list[str]:
        value = self._get(key, "a list of strings", default)
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.expected(key, "a list of non-empty strings", value)
        return list(value)

    def choice(self, key: str, options: Sequence[str], *, default: str = _MISSING) -> str:
        what = "one of " + ", ".join(repr(o) for o in options)
        value = self._get(key, what, default)
        if value not in options:
            raise self.expected(key, what, value)
        assert isinstance(value, str)
        return value

    def address(self, key: str) -> str:
        what = "a 0x-prefixed 20-byte hex address"
        value = self._get(key, what, _MISSING)
        if not isinstance(value, str) or not _ADDRESS.fullmatch(value):
            raise self.expected(key, what, value)
        return value

    def bytes32(self, key: str) -> bytes:
        what = "a 0x-prefixed 32-byte hex value (64 hex digits)"
        value = self._get(key, what, _MISSING)
        if not isinstance(value, str) or not _BYTES32.fullmatch(value):
            raise self.expected(key, what, value)
        return bytes.fromhex(value[2:])

    def path(
        self, key: str, base: Path, *, kind: str | None = None, default: str = _MISSING
    ) -> Path:
        """A path relative to the config file's folder; ``kind`` ("dir"/"file") must exist."""
        raw = self.string(key, default=default)
        path = Path(raw).expanduser()
        path = path if path.is_absolute() else base / path
        if kind == "dir" and not path.is_dir():
            raise self.error(key, f"expected an existing directory, got {shown(raw)} ({path})")
        if kind == "file" and not path.is_file():
            raise self.error(key, f"expected an existing file, got {shown(raw)} ({path})")
        return path

    def table(self, key: str) -> Table:
        """A sub-table; a missing one reads as empty."""
        value = self._get(key, "a table", {})
        if not isinstance(value, Mapping):
            raise self.expected(key, "a table", value)
        return Table(value, self.key_path(key) if self.where else f"[{key}]", self.file)

    def tables(self, key: str) -> list[Table]:
        """An array of tables (``[[key]]``); a missing one reads as empty."""
        value = self._get(key, "an array of tables", [])
        if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
            raise self.expected(key, f"an array of tables ([[{key}]])", value)
        base = self.key_path(key) if self.where else f"[{key}]"
        return [Table(v, f"{base}[{i}]", self.file) for i, v in enumerate(value)]

    def finish(self) -> None:
        """Reject every key that no getter read."""
        unknown = sorted(set(self.data) - self._read)
        if unknown:
            known = ", ".join(sorted(self._read)) or "none"
            if not self.where:
                raise ConfigError(f"{self.file}: [{unknown[0]}]: unknown section (known: {known})")
            raise self.error(unknown[0], f"unknown key (known keys here: {known})")
