"""Secrets kept out of errors and logs: RPC URLs without their keys, and registered secrets.

Hosted RPC endpoints carry API keys in the path (``/v3/<key>``), the query
(``?apikey=<key>``) or the user info (``https://user:pass@host``). Everything that shows an
RPC URL shows `redact_url` of it: scheme, host and port, with ``***`` where a path, query or
user info was; `scrub` takes the same parts out of error texts that quote the URL (the
HTTP client's exceptions do). Keys and passwords the daemon reads are registered
(`register_secret`) and `redact` replaces them in any text: the JSON logs, RPC errors,
the status page.
"""

from __future__ import annotations

import re
import threading
from urllib.parse import urlsplit

HIDDEN = "***"


def redact_url(url: str) -> str:
    """``scheme://host:port`` with ``***`` for user info, path and query."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:
        return HIDDEN
    if not parts.scheme or not host:
        return HIDDEN
    user = f"{HIDDEN}@" if parts.username or parts.password else ""
    path = f"/{HIDDEN}" if parts.path not in ("", "/") else parts.path
    query = f"?{HIDDEN}" if parts.query else ""
    fragment = f"#{HIDDEN}" if parts.fragment else ""
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{user}{host}{port}{path}{query}{fragment}"


def secret_parts(url: str) -> list[str]:
    """The parts of `url` that may hold a credential: user info, path, query, fragment."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return [url]
    userinfo = parts.netloc.rpartition("@")[0]
    found = [userinfo, parts.path if parts.path != "/" else "", parts.query, parts.fragment]
    return [p for p in found if p]


def scrub(text: str, url: str) -> str:
    """`text` with `url` shown redacted and its secret parts removed wherever they appear."""
    text = text.replace(url, redact_url(url))
    for part in sorted(secret_parts(url), key=len, reverse=True):
        text = text.replace(part, HIDDEN)
    return text


REDACTED = "[redacted]"
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
