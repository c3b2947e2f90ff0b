"""One Jinja environment for every page: templates of this package, HTML autoescaping on,
and the filters the templates share. Nothing a page shows is trusted: model names, node
names and failure reasons all pass through the escaping."""

from __future__ import annotations

import time
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

GWEI = 10**9


def human_seconds(value: float | None) -> str:
    """0.042 -> "42 ms", 75 -> "1 min 15 s", None -> "–"."""
    if value is None:
        return "–"
    if value < 0.01:
        return f"{value * 1000:.2g} ms"
    if value < 1:
        return f"{value * 1000:.0f} ms"
    if value < 60:
        return f"{value:.2f} s"
    minutes, seconds = divmod(int(value), 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def human_bytes(value: int | None) -> str:
    if value is None:
        return "–"
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if value >= size:
            return f"{value / size:.1f} {unit}"
    return f"{value} B"


def short_hex(value: str | None, keep: int = 10) -> str:
    """0x1234…abcd for long hex strings (the full value goes in a title attribute)."""
    if not value:
        return "–"
    return value if len(value) <= 2 * keep + 2 else f"{value[: keep + 2]}…{value[-keep // 2 :]}"


def utc(value: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(value))


def thousands(value: int | float | None) -> str:
    if value is None:
        return "–"
    return f"{value:,}" if isinstance(value, int) else f"{value:,.0f}"


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("oracle.pages", "templates"),
        autoescape=select_autoescape(["html", "svg"], default=True),
        undefined=StrictUndefined,  # a misspelt field fails the page's tests, not silently
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        seconds=human_seconds, size=human_bytes, short=short_hex, utc=utc, n=thousands
    )
    env.globals["GWEI"] = GWEI
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)
