"""Structured logs: one JSON object per line, with the record's ``extra`` fields.

No log line may carry a private key. Keys stay inside `oracle.accounts.Signer`, which
never prints them; as a second line of defence, every secret the daemon reads (a key from
the environment, a keystore password) is registered here and replaced by ``[redacted]``
in any line that would contain it, whatever the case or ``0x`` prefix.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from datetime import UTC, datetime
from typing import IO, Any

REDACTED = "[redacted]"
#: Attributes every LogRecord has: anything else on a record came from ``extra``.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}

_secrets_lock = threading.Lock()
_secret_pattern: re.Pattern[str] | None = None
_secrets: set[str] = set()


def register_secret(value: str | bytes) -> None:
    """Never let `value` (or its hex without ``0x``) appear in a log line again."""
    global _secret_pattern
    text = "0x" + value.hex() if isinstance(value, bytes) else value.strip()
    forms = {text, text.removeprefix("0x")} - {""}
    with _secrets_lock:
        _secrets.update(f for f in forms if len(f) >= 8)
        if _secrets:
            alternatives = sorted(_secrets, key=len, reverse=True)
            _secret_pattern = re.compile("|".join(map(re.escape, alternatives)), re.IGNORECASE)


def redact(text: str) -> str:
    pattern = _secret_pattern
    return pattern.sub(REDACTED, text) if pattern is not None else text


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "msg", ...extra, "exc"?}`` on one line, redacted."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in doc:
                doc[key] = value
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return redact(json.dumps(doc, default=_jsonable))


def _jsonable(value: object) -> object:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


def setup_logging(level: str = "info", stream: IO[str] | None = None) -> logging.Handler:
    """Send every log record to `stream` (stderr) as JSON lines; returns the handler."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h.formatter, JsonFormatter)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    return handler
