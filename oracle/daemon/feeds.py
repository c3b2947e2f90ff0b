"""Push feeds: read a data source, decide when a new round is due, turn it into a job.

A round is due when the feed has never been updated, when its last on-chain update is
``heartbeat`` seconds old (chain time, the clock the contract's staleness checks use), or
when a quantized input moved by more than ``deviation_percent`` from the inputs of the
last round this daemon posted. One round per feed is in flight at a time; its number is
exactly the on-chain round + 1, the only round the hub takes (a round posted meanwhile by
another updater makes ours ``RoundNotNext``, which the submitter settles as done; a round
that failed is tried again under the same number, as a new attempt).

Sources return real numbers; they are quantized with the model's input scales
(``round(x * 2^scale)``) and range-checked against its input bit width before any proof.
"""

from __future__ import annotations

import csv
import json
import logging
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from web3 import Web3

from oracle.daemon.errors import DaemonError
from oracle.daemon.feeds_config import FeedConfig, SourceConfig
from oracle.daemon.jobs import FINAL, Job, Kind, NewJob, State, feed_key
from oracle.daemon.models_config import ModelConfig
from oracle.daemon.store import Store
from oracle.hub import Hub

log = logging.getLogger(__name__)

_AGGREGATOR_ABI = [
    {"type": "function", "name": "decimals", "stateMutability": "view", "inputs": [],
     "outputs": [{"name": "", "type": "uint8"}]},
    {"type": "function", "name": "latestRoundData", "stateMutability": "view", "inputs": [],
     "outputs": [{"name": "roundId", "type": "uint80"}, {"name": "answer", "type": "int256"},
                 {"name": "startedAt", "type": "uint256"}, {"name": "updatedAt", "type": "uint256"},
                 {"name": "answeredInRound", "type": "uint80"}]},
]  # fmt: skip


#: The hub counts rounds in uint64.
MAX_ROUND = 2**64 - 1


class SourceError(DaemonError):
    """A feed's data source could not be read or gave unusable values."""


class Source(Protocol):
    def read(self) -> list[float]: ...


def _numbers(value: Any, where: str) -> list[float]:
    if isinstance(value, bool):
        raise SourceError(f"{where}: expected numbers, got a boolean")
    if isinstance(value, int | float):
        return [float(value)]
    if isinstance(value, list):
        return [x for item in value for x in _numbers(item, where)]
    raise SourceError(
        f"{where}: expected a number or a list of numbers, got {type(value).__name__}"
    )


@dataclass(frozen=True)
class HttpSource:
    url: str
    field: str
    timeout: float

    def read(self) -> list[float]:
        try:
            with urllib.request.urlopen(self.url, timeout=self.timeout) as resp:
                doc: Any = json.loads(resp.read())
        except (OSError, ValueError) as exc:
            raise SourceError(f"GET {self.url}: {exc}") from exc
        for part in self.field.split(".") if self.field else []:
            if isinstance(doc, list) and part.isdigit() and int(part) < len(doc):
                doc = doc[int(part)]
            elif isinstance(doc, dict) and part in doc:
                doc = doc[part]
            else:
                raise SourceError(f"GET {self.url}: no field {self.field!r} (stopped at {part!r})")
        return _numbers(doc, f"{self.url} field {self.field!r}")


@dataclass(frozen=True)
class CsvSource:
    path: str
    columns: tuple[str, ...]

    def read(self) -> list[float]:
        try:
            with open(self.path, newline="") as f:
                rows = [r for r in csv.DictReader(f) if any((v or "").strip() for v in r.values())]
        except OSError as exc:
            raise SourceError(f"{self.path}: {exc.strerror}") from exc
        if not rows:
            raise SourceError(f"{self.path}: no data row")
        last = rows[-1]
        names = self.columns or tuple(last)
        try:
            return [float(last[c]) for c in names]
        except KeyError as exc:
            raise SourceError(f"{self.path}: no column {exc.args[0]!r}") from None
        except (TypeError, ValueError) as exc:
            raise SourceError(f"{self.path} row {len(rows)}: {exc}") from None


@dataclass(frozen=True)
class ChainlinkSource:
    """``latestRoundData()`` of a Chainlink-style aggregator, refused unless it is a fresh,
    complete round: a dead aggregator keeps returning its last answer, which must not be
    republished as a new proven round."""

    w3: Web3
    address: str
    max_age: float = 3600.0  # seconds of chain time since the round's updatedAt
    positive: bool = True  # refuse answers <= 0 (prices)

    def read(self) -> list[float]:
        agg = self.w3.eth.contract(
            address=Web3.to_checksum_address(self.address), abi=_AGGREGATOR_ABI
        )
        try:
            decimals = int(agg.functions.decimals().call())
            round_id, answer, _, updated_at, answered_in = agg.functions.latestRoundData().call()
            now = int(self.w3.eth.get_block("latest")["timestamp"])
        except Exception as exc:
            raise SourceError(f"aggregator {self.address}: {exc}") from exc
        self._check(int(round_id), int(answer), int(updated_at), int(answered_in), now)
        return [int(answer) / 10**decimals]

    def _check(
        self, round_id: int, answer: int, updated_at: int, answered_in: int, now: int
    ) -> None:
        where = f"aggregator {self.address} round {round_id}"
        if updated_at == 0:
            raise SourceError(f"{where}: the round is not complete (updatedAt = 0)")
        if answered_in < round_id:
            raise SourceError(
                f"{where}: stale, answered in earlier round {answered_in} "
                "(answeredInRound < roundId)"
            )
        if now - updated_at > self.max_age:
            raise SourceError(
                f"{where}: stale, updated {now - updated_at} s ago, more than max_age "
                f"{self.max_age:g} s"
            )
        if self.positive and answer <= 0:
            raise SourceError(f"{where}: answer {answer} is not a positive price")


@dataclass(frozen=True)
class OnchainSource:
    """A feed of ``OnchainInputFeeds`` at `address`: the contract builds the inputs itself."""

    w3: Web3
    address: str

    def read(self) -> list[float]:
        raise SourceError("an onchain feed is read with read_at(block), not read()")

    def _contract(self) -> Any:
        from oracle.hub import hub_contracts

        abi = hub_contracts()["OnchainInputFeeds"].abi
        return self.w3.eth.contract(address=Web3.to_checksum_address(self.address), abi=abi)

    def read_at(self, feed_id: bytes, block: int) -> tuple[list[int], list[int]]:
        """(newest round of each aggregator source, quantized inputs) at `block`: the same
        rounds then pin the inputs of the update, whatever rounds appear meanwhile."""
        feeds = self._contract()
        try:
            _, sources = feeds.functions.getDeclaration(feed_id).call(block_identifier=block)
            round_ids = []
            for target, window, _decimals, _data in sources:
                agg = self.w3.eth.contract(address=target, abi=_AGGREGATOR_ABI)
                latest = agg.functions.latestRoundData().call(block_identifier=block)
                round_ids.append(int(latest[0]) if window else 0)
            inputs = feeds.functions.inputsFor(feed_id, round_ids).call(block_identifier=block)
        except Exception as exc:
            raise SourceError(f"onchain feed 0x{feed_id.hex()} at {self.address}: {exc}") from exc
        return round_ids, [int(v) for v in inputs]


def onchain_update_calldata(
    w3: Web3, address: str, job_payload: Mapping[str, Any], outputs: Sequence[int],
    proof_words: Sequence[int],
) -> bytes:  # fmt: skip
    """Calldata of ``OnchainInputFeeds.update`` for a proved onchain feed job."""
    feeds = OnchainSource(w3, address)._contract()
    fn = feeds.functions.update(
        bytes.fromhex(str(job_payload["feed_id"])[2:]), int(job_payload["round"]),
        [int(r) for r in job_payload["round_ids"]], [int(v) for v in outputs],
        [int(w) for w in proof_words],
    )  # fmt: skip
    return bytes.fromhex(fn._encode_transaction_data()[2:])


def make_source(cfg: SourceConfig, w3: Web3) -> Source:
    if cfg.kind == "onchain":
        assert cfg.address is not None
        return OnchainSource(w3, cfg.address)
    if cfg.kind == "http":
        assert cfg.url is not None
        return HttpSource(cfg.url, cfg.field or "", cfg.timeout)
    if cfg.kind == "csv":
        assert cfg.path is not None
        return CsvSource(str(cfg.path), cfg.columns)
    assert cfg.address is not None
    return ChainlinkSource(w3, cfg.address, cfg.max_age, cfg.positive)


@dataclass(frozen=True)
class InputShape:
    """Scale and signed bit width of each input value of a model, in statement order."""

    scales: tuple[int, ...]
    bits: tuple[int, ...]

    def quantize(self, values: Sequence[float], where: str) -> list[int]:
        if len(values) != len(self.scales):
            raise SourceError(
                f"{where}: the model takes {len(self.scales)} values, got {len(values)}"
            )
        out = []
        for i, (v, scale, bits) in enumerate(zip(values, self.scales, self.bits, strict=True)):
            q = round(v * 2**scale)
            if not -(1 << (bits - 1)) <= q < 1 << (bits - 1):
                raise SourceError(f"{where}: value #{i} = {v} does not fit {bits} signed bits")
            out.append(q)
        return out


def model_input_shape(model_dir: str) -> InputShape:
    import circuits

    manifest = circuits.Manifest.load(model_dir)
    scales = [s.scale for s in manifest.inputs for _ in range(s.size)]
    bits = [s.bits for s in manifest.inputs for _ in range(s.size)]
    return InputShape(tuple(scales), tuple(bits))


def deviation_percent(new: Sequence[int], old: Sequence[int]) -> float:
    """Largest relative change of one value, in percent (of max(|old|, 1))."""
    return max(
        (abs(n - o) * 100 / max(abs(o), 1) for n, o in zip(new, old, strict=True)), default=0.0
    )


class FeedScheduler:
    """Creates feed-round jobs when they are due (see the module docstring)."""

    def __init__(
        self,
        hub: Hub,
        store: Store,
        feeds: Sequence[FeedConfig],
        models: Mapping[str, ModelConfig],
        *,
        sources: Mapping[bytes, Source] | None = None,
        shapes: Callable[[str], InputShape] = model_input_shape,
        clock: Callable[[], float],
        on_refused: Callable[[bytes, str], None] | None = None,
    ) -> None:
        self.hub = hub
        self.store = store
        self.feeds = list(feeds)
        self.models = dict(models)
        self.sources = dict(sources or {f.feed_id: make_source(f.source, hub.w3) for f in feeds})
        if any(isinstance(s, OnchainSource) for s in self.sources.values()):
            from oracle.hub import hub_contracts

            hub.add_error_abi(hub_contracts()["OnchainInputFeeds"].abi)  # its reverts, named
        self.shapes = {f.feed_id: shapes(str(self.models[f.model].artifacts)) for f in feeds}
        self.clock = clock
        self.on_refused = on_refused
        self._next_read = {f.feed_id: 0.0 for f in feeds}

    def tick(self, block_number: int, block_hash: str, block_time: int) -> list[Job]:
        """Read every feed whose poll interval has passed; the jobs of rounds now due."""
        created = []
        for feed in self.feeds:
            if self.clock() < self._next_read[feed.feed_id]:
                continue
            self._next_read[feed.feed_id] = self.clock() + feed.poll_interval
            try:
                job = self._check(feed, block_number, block_hash, block_time)
            except SourceError as exc:
                self._refused(feed, str(exc), block_number, block_hash)
                continue
            if job is not None:
                created.append(job)
        return created

    def _refused(self, feed: FeedConfig, why: str, number: int, block_hash: str) -> None:
        """The source gave nothing usable: the feed goes stale, visibly. Logged on every
        read, counted (`on_refused`), and recorded once per round in the store as a failed
        job whose reason says why the round was not posted."""
        fid = "0x" + feed.feed_id.hex()
        log.error("feed source refused: %s", why, extra={"feed": fid, "reason": "source_refused"})
        if self.on_refused is not None:
            self.on_refused(feed.feed_id, why)
        try:
            next_round = self.hub.feed_state(feed.feed_id)[0] + 1
        except Exception:  # the chain's state is not needed to report the source
            return
        payload = {"feed_id": fid, "round": next_round, "inputs": [], "error": why}
        new = NewJob(Kind.FEED, f"{feed_key(feed.feed_id, next_round)}:refused",
                     self.models[feed.model].model_id, payload, number, block_hash)  # fmt: skip
        job, created = self.store.insert_seen(new)
        if created:
            self.store.mark_failed(job.id, "source_refused", why)

    def _check(self, feed: FeedConfig, number: int, block_hash: str, now: int) -> Job | None:
        rounds = self.store.with_key_prefix(f"feed:0x{feed.feed_id.hex()}:")
        if any(j.state not in FINAL for j in rounds):
            return None  # one round in flight at a time
        source = self.sources[feed.feed_id]
        extra: dict[str, Any] = {}
        if isinstance(source, OnchainSource):
            round_ids, inputs = source.read_at(feed.feed_id, number)
            extra = {"round_ids": round_ids, "to": Web3.to_checksum_address(source.address)}
        else:
            inputs = self.shapes[feed.feed_id].quantize(
                source.read(), f"feed 0x{feed.feed_id.hex()}"
            )
        chain_round, updated_at = self.hub.feed_state(feed.feed_id)
        posted = [j for j in rounds if j.state is State.CONFIRMED]
        moved = deviation_percent(inputs, posted[-1].payload["inputs"]) if posted else 0.0
        stale = chain_round == 0 or now - updated_at >= feed.heartbeat
        if not stale and moved <= feed.deviation_percent:
            return None
        next_round = chain_round + 1
        if next_round > MAX_ROUND:
            raise SourceError(
                f"feed 0x{feed.feed_id.hex()} is at round {chain_round}: no next round"
            )
        if extra:
            # OnchainInputFeeds takes exactly the hub's next round; the job is the rounds it
            # reads, so a failed attempt is retried only once a source has a new round.
            key = f"{feed_key(feed.feed_id, next_round)}:{'-'.join(map(str, extra['round_ids']))}"
        else:
            attempt = sum(1 for j in rounds if int(j.payload["round"]) == next_round)
            key = feed_key(feed.feed_id, next_round, attempt)
        payload = {"feed_id": "0x" + feed.feed_id.hex(), "round": next_round, "inputs": inputs,
                   **extra}  # fmt: skip
        model = self.models[feed.model]
        new = NewJob(Kind.FEED, key, model.model_id, payload, number, block_hash)
        job, _ = self.store.insert_seen(new)
        why = "heartbeat" if stale else f"deviation {moved:.3g} %"
        log.info("feed round due (%s)", why, extra={"job": job.id, "round": next_round})
        return job
