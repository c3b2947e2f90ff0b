"""The status page of a daemon on Anvil, over plain HTTP: the figures it shows are the
store's and the chain's, failures carry their reasons, and no secret is ever on it."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from html.parser import HTMLParser

import pytest

from oracle.daemon.metrics import DaemonMetrics, MetricsServer
from oracle.pages.status import GasUsed, scrub
from oracle.redaction import register_secret
from tests.oracle.pages.pages_stack import URL_SECRET, LiveDaemon

# One daemon for every test that reads its pages: keep them on one xdist worker.
pytestmark = [pytest.mark.anvil, pytest.mark.xdist_group("pages-daemon")]


class Rows(HTMLParser):
    """The attributes of every element carrying data-* attributes, and the page's text."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, str]] = []
        self.ids: dict[str, str] = {}
        self.text: list[str] = []
        self._id: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if any(k.startswith("data-") for k in a):
            self.rows.append(a)
        self._id = a.get("id")

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._id and data.strip():
            self.ids.setdefault(self._id, data.strip())


def _page(live: LiveDaemon) -> tuple[str, str, Rows]:
    with urllib.request.urlopen(live.url, timeout=10) as resp:
        body = resp.read().decode()
        content_type = resp.headers["Content-Type"]
    rows = Rows()
    rows.feed(body)
    return body, content_type, rows


def test_the_status_page_shows_the_stores_and_the_chains_figures(live_daemon: LiveDaemon) -> None:
    body, content_type, page = _page(live_daemon)
    assert content_type == "text/html; charset=utf-8"
    assert '<meta http-equiv="refresh"' in body
    counts = {r["data-state"]: r for r in page.rows if "data-state" in r}
    assert set(counts) == {"seen", "proving", "proved", "submitted", "confirmed", "failed"}
    store_counts = {s.value: n for s, n in live_daemon.service.store.counts().items()}
    assert re.findall(r'data-state="(\w+)"><div class="v[^"]*">(\d+)<', body) == [
        (s, str(n)) for s, n in store_counts.items()
    ]
    fulfilled = {r["data-tx"]: r for r in page.rows if "data-tx" in r}
    for name in ("good1", "good2"):
        receipt = live_daemon.fulfill_receipt(live_daemon.requests[name])
        row = fulfilled[receipt["transactionHash"].to_0x_hex()]
        assert int(row["data-fee-wei"]) == receipt["gasUsed"] * receipt["effectiveGasPrice"]
        assert int(row["data-gas"]) == receipt["gasUsed"]
        assert int(row["data-block"]) == receipt["blockNumber"]
    assert f"request {live_daemon.requests['good1']}" in body
    (failure,) = [r for r in page.rows if "data-code" in r]
    assert failure["data-code"] == "input_out_of_range"
    assert "model mlp-wide: input #0 = 8388608 does not fit 24 signed bits" in body
    (feed,) = [r for r in page.rows if "data-feed" in r]
    assert feed["data-round"] == "1" and feed["data-stale"] == "no"
    head = live_daemon.chain.w3.eth.block_number
    assert 0 < int(page.ids["head"]) <= head
    assert page.ids["confirmations"] == "0"
    assert page.ids["provers-engine"] == "local processes"
    assert int(page.ids["provers-busy"]) + int(page.ids["provers-idle"]) == 1
    assert int(page.ids["provers-proofs"]) >= 3


def test_the_status_page_never_shows_a_key_or_the_rpc_credentials(
    live_daemon: LiveDaemon,
) -> None:
    body, _, _ = _page(live_daemon)
    key = live_daemon.key.removeprefix("0x").lower()
    assert key not in body.lower()
    assert URL_SECRET not in body
    url = live_daemon.service.config.chain.url
    assert url is not None and url not in body


def test_scrub_removes_secrets_and_url_credentials() -> None:
    register_secret("0x" + "ab" * 32)
    text = (
        "rpc https://user:pa55@node.example:8545/v3/KEY?token=T failed; "
        f"key {'AB' * 32}; again http://127.0.0.1:9/x"
    )
    out = scrub(text, ("pa55",))
    assert out == (
        "rpc https://node.example:8545/… failed; key [redacted]; again http://127.0.0.1:9/…"
    )


def test_a_failing_page_is_a_500_that_names_no_detail() -> None:
    def broken() -> str:
        raise RuntimeError("details with http://u:secret@host/x")

    server = MetricsServer(DaemonMetrics().registry, lambda: (True, {}), page=broken).start()
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{server.port}/", timeout=5)
    except urllib.error.HTTPError as err:
        assert err.code == 500 and err.read() == b"status page failed: RuntimeError\n"
    else:
        raise AssertionError("expected a 500")
    finally:
        server.stop()


def test_gas_used_is_read_from_receipts_and_missing_ones_show_nothing(
    live_daemon: LiveDaemon,
) -> None:
    w3 = live_daemon.chain.w3
    receipts = [live_daemon.fulfill_receipt(live_daemon.requests[n]) for n in ("good1", "good2")]
    hashes = [r["transactionHash"].to_0x_hex() for r in receipts]
    gas = GasUsed(keep=1)
    assert gas(w3, hashes[0]) == receipts[0]["gasUsed"]
    assert gas(w3, "0x" + "00" * 32) is None and gas(w3, None) is None
    assert gas(w3, hashes[1]) == receipts[1]["gasUsed"]
    assert list(gas._known) == [hashes[1]]  # only the newest is kept (keep=1)
