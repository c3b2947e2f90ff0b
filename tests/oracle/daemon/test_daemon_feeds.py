"""Feed sources (a loopback HTTP server, a CSV file, an aggregator on Anvil) and the
round policy (heartbeat, deviation, one round in flight)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from oracle.anvil import AnvilNode
from oracle.daemon.feeds import (
    ChainlinkSource,
    CsvSource,
    FeedScheduler,
    HttpSource,
    InputShape,
    SourceError,
    deviation_percent,
)
from oracle.daemon.feeds_config import FeedConfig, SourceConfig
from oracle.daemon.jobs import State
from oracle.daemon.models_config import ModelConfig
from oracle.daemon.store import Store
from oracle.solc import compile_sources

FEED = b"\x0f" * 32
MODEL = ModelConfig("m", b"\x01" * 32, Path("unused"))


@pytest.fixture
def http_doc() -> Iterator[tuple[str, dict[str, Any]]]:
    doc: dict[str, Any] = {"data": {"features": [1.5, [-2, 0.25]], "flag": True}}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps(doc).encode() if self.path == "/f" else b"{"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", doc
    server.shutdown()
    server.server_close()


def test_http_source_reads_a_dotted_field(http_doc: tuple[str, dict[str, Any]]) -> None:
    url, _ = http_doc
    assert HttpSource(f"{url}/f", "data.features", 2).read() == [1.5, -2.0, 0.25]
    assert HttpSource(f"{url}/f", "data.features.1.0", 2).read() == [-2.0]
    with pytest.raises(SourceError, match=r"no field 'data\.missing'"):
        HttpSource(f"{url}/f", "data.missing", 2).read()
    with pytest.raises(SourceError, match="expected numbers, got a boolean"):
        HttpSource(f"{url}/f", "data.flag", 2).read()
    with pytest.raises(SourceError, match="GET"):
        HttpSource(f"{url}/broken", "", 2).read()


def test_csv_source_reads_the_last_row(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("t,a,b\n1,0.5,2\n2,0.75,-1\n\n")
    assert CsvSource(str(path), ("a", "b")).read() == [0.75, -1.0]
    assert CsvSource(str(path), ()).read() == [2.0, 0.75, -1.0]
    with pytest.raises(SourceError, match="no column 'c'"):
        CsvSource(str(path), ("c",)).read()
    path.write_text("a\nx\n")
    with pytest.raises(SourceError, match="row 1"):
        CsvSource(str(path), ()).read()


@pytest.mark.anvil
def test_chainlink_source_takes_only_fresh_complete_positive_rounds() -> None:
    source = (Path(__file__).with_name("MockAggregator.sol")).read_text()
    compiled = compile_sources({"MockAggregator.sol": source})["MockAggregator"]
    with AnvilNode() as node:
        w3 = Web3(Web3.HTTPProvider(node.url))
        dev = w3.eth.accounts[0]
        factory = w3.eth.contract(abi=compiled.abi, bytecode=compiled.bytecode)
        receipt = w3.eth.wait_for_transaction_receipt(
            factory.constructor(8).transact({"from": dev})
        )
        address = receipt["contractAddress"]
        assert address is not None
        agg = w3.eth.contract(address=address, abi=compiled.abi)

        def send(fn: Any) -> int:
            r = w3.eth.wait_for_transaction_receipt(fn.transact({"from": dev}))
            return int(w3.eth.get_block(r["blockNumber"])["timestamp"])

        send(agg.functions.setAnswer(123_450_000))
        assert ChainlinkSource(w3, address).read() == [1.2345]
        now = send(agg.functions.setAnswer(-123_450_000))
        with pytest.raises(SourceError, match="answer -123450000 is not a positive price"):
            ChainlinkSource(w3, address).read()
        assert ChainlinkSource(w3, address, positive=False).read() == [-1.2345]
        # A dead aggregator: its last answer, updated long ago.
        send(agg.functions.setRound(7, 200_000_000, now - 7200, 7))
        with pytest.raises(SourceError, match=r"round 7: stale, updated 72\d\d s ago, more than"):
            ChainlinkSource(w3, address, max_age=3600).read()
        assert ChainlinkSource(w3, address, max_age=86_400).read() == [2.0]
        send(agg.functions.setRound(8, 200_000_000, now, 7))
        with pytest.raises(SourceError, match="answered in earlier round 7"):
            ChainlinkSource(w3, address).read()
        send(agg.functions.setRound(9, 200_000_000, 0, 9))
        with pytest.raises(SourceError, match="not complete"):
            ChainlinkSource(w3, address).read()
        with pytest.raises(SourceError, match="aggregator"):
            ChainlinkSource(w3, "0x" + "00" * 19 + "01").read()


def test_quantize_and_deviation() -> None:
    shape = InputShape((8, 4), (12, 6))
    assert shape.quantize([0.5, -1.25], "f") == [128, -20]
    with pytest.raises(SourceError, match="takes 2 values, got 1"):
        shape.quantize([0.5], "f")
    with pytest.raises(SourceError, match=r"value #1 = 2\.0 does not fit 6 signed bits"):
        shape.quantize([0.5, 2.0], "f")
    assert deviation_percent([110, 0], [100, 0]) == 10.0
    assert deviation_percent([1, 0], [0, 0]) == 100.0  # relative to max(|old|, 1)


class ChainFeedState:
    """Stands in for the hub's feed record (round, updatedAt); the hub contract itself is
    exercised in test_daemon_service."""

    def __init__(self) -> None:
        self.round, self.updated_at = 0, 0
        self.w3 = None

    def feed_state(self, feed_id: bytes) -> tuple[int, int]:
        assert feed_id == FEED
        return self.round, self.updated_at


class Values:
    def __init__(self) -> None:
        self.values = [1.0]

    def read(self) -> list[float]:
        return list(self.values)


def test_rounds_follow_heartbeat_and_deviation_one_at_a_time(tmp_path: Path) -> None:
    store = Store(tmp_path / "f.db")
    chain, values, now = ChainFeedState(), Values(), [0.0]
    feed = FeedConfig(FEED, "m", heartbeat=100, deviation_percent=5, poll_interval=10,
                      source=SourceConfig("csv"))  # fmt: skip
    scheduler = FeedScheduler(
        chain,  # type: ignore[arg-type]
        store, [feed], {"m": MODEL}, sources={FEED: values},
        shapes=lambda _d: InputShape((8,), (16,)), clock=lambda: now[0],
    )  # fmt: skip
    (first,) = scheduler.tick(1, "0x01", 1000)  # never updated: due
    assert first.payload == {"feed_id": "0x" + FEED.hex(), "round": 1, "inputs": [256]}
    now[0] += 10
    assert scheduler.tick(2, "0x02", 1010) == []  # round 1 still in flight
    store.transition(first.id, State.FAILED, "test: proof failed")
    now[0] += 10
    (retry,) = scheduler.tick(3, "0x03", 1020)
    # The hub takes exactly the next round: a failed round is tried again, a new attempt.
    assert retry.payload["round"] == 1 and retry.key == first.key + ":1"
    store.transition(retry.id, State.PROVING)
    store.mark_proved(retry.id, [1], b"p", b"c")
    store.mark_confirmed(retry.id, "test")
    chain.round, chain.updated_at = 2, 1020  # another updater posted round 2 meanwhile
    now[0] += 10
    assert scheduler.tick(4, "0x04", 1030) == []  # fresh, unchanged
    assert scheduler.tick(5, "0x05", 1031) == []  # not read again before poll_interval
    values.values = [1.04]  # +4 %: under the threshold
    now[0] += 10
    assert scheduler.tick(6, "0x06", 1040) == []
    values.values = [1.1]  # +10 %
    now[0] += 10
    (moved,) = scheduler.tick(7, "0x07", 1050)
    assert moved.payload["round"] == 3 and moved.payload["inputs"] == [282]
    store.mark_failed(moved.id, "x", "test")
    values.values = [1.0]
    now[0] += 10
    (beat,) = scheduler.tick(8, "0x08", 1120)  # 100 s after the update: heartbeat
    assert beat.payload["round"] == 3


class Refusing:
    def read(self) -> list[float]:
        raise SourceError("aggregator 0xabc round 7: stale, updated 7200 s ago")


def test_a_refused_source_makes_the_feed_go_stale_visibly(tmp_path: Path) -> None:
    store = Store(tmp_path / "f.db")
    chain, now, refused = ChainFeedState(), [0.0], []
    chain.round = 4
    feed = FeedConfig(FEED, "m", heartbeat=100, deviation_percent=5, poll_interval=10,
                      source=SourceConfig("chainlink"))  # fmt: skip
    scheduler = FeedScheduler(
        chain,  # type: ignore[arg-type]
        store, [feed], {"m": MODEL}, sources={FEED: Refusing()},
        shapes=lambda _d: InputShape((8,), (16,)), clock=lambda: now[0],
        on_refused=lambda f, why: refused.append((f, why)),
    )  # fmt: skip
    for i in range(3):
        assert scheduler.tick(i, f"0x0{i}", 1000 + i) == []  # no round is posted
        now[0] += 10
    assert refused == [(FEED, "aggregator 0xabc round 7: stale, updated 7200 s ago")] * 3
    (job,) = store.jobs()  # recorded once for the round it held back
    assert job.state is State.FAILED and job.reason_code == "source_refused"
    assert job.payload["round"] == 5 and "stale" in str(job.reason)
    scheduler.sources[FEED] = Values()
    (due,) = scheduler.tick(9, "0x09", 1100)  # the source recovered: round 5 is posted
    assert due.payload["round"] == 5 and due.key != job.key
