"""The ``[[feeds]]`` part of the configuration: what a push feed reads and when it updates.

A feed is updated when ``heartbeat`` seconds have passed since its last update, or when a
source value moved by more than ``deviation_percent`` relative to the value of the last
update. Sources:

* ``http``: GET ``url``, take the number or list of numbers at the dotted ``field``;
* ``csv``: the last row of ``path``, the named ``columns`` (default: every column);
* ``chainlink``: ``latestRoundData()`` of an aggregator at ``address``, scaled by its
  ``decimals()``;
* ``onchain``: a feed declared on the ``OnchainInputFeeds`` contract at ``address``: the
  contract reads its sources itself, so the daemon takes the newest round of each
  aggregator at the block it targets, has the contract build the inputs of those rounds,
  proves on them and sends ``update`` with the same round ids (to that contract).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from eth_utils.address import to_checksum_address

from oracle.daemon._toml import Table

SourceKind = Literal["http", "csv", "chainlink", "onchain"]


@dataclass(frozen=True)
class SourceConfig:
    kind: SourceKind
    url: str | None = None  # http
    field: str | None = None  # http: dotted path into the JSON document ("" = the root)
    timeout: float = 5.0  # http: seconds
    path: Path | None = None  # csv
    columns: tuple[str, ...] = ()  # csv: empty = every column
    address: str | None = None  # chainlink: aggregator; onchain: OnchainInputFeeds


@dataclass(frozen=True)
class FeedConfig:
    feed_id: bytes
    model: str  # name of a [[models]] entry
    heartbeat: float  # seconds
    deviation_percent: float
    poll_interval: float  # seconds between two reads of the source
    source: SourceConfig


def _read_source(t: Table, base: Path) -> SourceConfig:
    kind = t.choice("kind", ("http", "csv", "chainlink", "onchain"))
    if kind == "http":
        url = t.string("url")
        if not url.startswith(("http://", "https://")):
            raise t.expected("url", "an http:// or https:// URL", url)
        source = SourceConfig(
            "http",
            url=url,
            field=t.string("field", default=""),
            timeout=t.number("timeout", minimum=0.0, exclusive=True, default=5.0),
        )
    elif kind == "csv":
        source = SourceConfig(
            "csv",
            path=t.path("path", base, kind="file"),
            columns=tuple(t.strings("columns", default=[])),
        )
    else:
        address = to_checksum_address(t.address("address"))
        source = SourceConfig("onchain" if kind == "onchain" else "chainlink", address=address)
    t.finish()
    return source


def read_feeds(tables: list[Table], base: Path, model_names: set[str]) -> tuple[FeedConfig, ...]:
    feeds: list[FeedConfig] = []
    for t in tables:
        feed_id = t.bytes32("id")
        model = t.string("model")
        if model not in model_names:
            known = ", ".join(sorted(model_names)) or "none configured"
            raise t.expected("model", f"the name of a [[models]] entry ({known})", model)
        if any(f.feed_id == feed_id for f in feeds):
            raise t.error("id", f"feed id 0x{feed_id.hex()} is listed twice")
        feed = FeedConfig(
            feed_id=feed_id,
            model=model,
            heartbeat=t.number("heartbeat", minimum=0.0, exclusive=True),
            deviation_percent=t.number("deviation_percent", default=0.5),
            poll_interval=t.number("poll_interval", minimum=0.0, exclusive=True, default=15.0),
            source=_read_source(t.table("source"), base),
        )
        t.finish()
        feeds.append(feed)
    return tuple(feeds)
