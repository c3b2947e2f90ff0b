"""The operator's status page: what the daemon is doing, read from its store and state.

`StatusSnapshot.of(service)` reads everything the page shows in one go (job counts, the
latest fulfillments and failures, feed rounds, the prover pool, the chain head);
`render_status` turns a snapshot into one HTML page that reloads itself. The page is
read-only and carries no secret: it never shows the RPC URL, and every free text (a failure
reason, the last chain error) goes through `scrub`, which removes registered secrets and
the credentials, path and query of any URL.

The store keeps the fee a fulfillment paid, not its gas: the gas used is read from the
receipts of the fulfillments shown, once per transaction (`GasUsed`), and never on the
embedded chain, which only the daemon's own thread may touch.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from oracle.daemon.jobs import Job, Kind, State
from oracle.pages.render import render
from oracle.redaction import redact

if TYPE_CHECKING:
    from oracle.daemon.service import Service

#: Seconds between two reloads of the page in the browser.
REFRESH_S = 5
#: How many fulfillments and failures the page lists.
ROWS = 10
_URL = re.compile(r"\b([a-zA-Z][a-zA-Z0-9+.-]*)://(?:[^/\s@]*@)?([^/\s?#@]+)[^\s\"'<>]*")


def scrub(text: str, secrets: tuple[str, ...] = ()) -> str:
    """`text` without registered secrets, the given `secrets`, or any URL's credentials,
    path or query (an RPC endpoint often carries its API key there)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return _URL.sub(lambda m: f"{m.group(1)}://{m.group(2)}/…", redact(text))


@dataclass(frozen=True)
class Fulfillment:
    job: int
    what: str  # "request 12" or "feed 0xab…12 round 3"
    model: str
    latency_s: float
    gas_used: int | None
    fee_wei: int | None
    tx_hash: str | None
    block: int | None


class GasUsed:
    """Gas used by mined transactions, read from their receipts and remembered (the last
    `keep`); None when the receipt cannot be read now (the page shows a dash)."""

    def __init__(self, keep: int = 1000) -> None:
        self.keep = keep
        self._known: OrderedDict[str, int] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, w3: Any, tx_hash: str | None) -> int | None:
        if tx_hash is None:
            return None
        with self._lock:
            if tx_hash in self._known:
                return self._known[tx_hash]
        try:
            gas = int(w3.eth.get_transaction_receipt(tx_hash)["gasUsed"])
        except Exception:  # an unreachable node or a reorged transaction: no figure now
            return None
        with self._lock:
            self._known[tx_hash] = gas
            while len(self._known) > self.keep:
                self._known.popitem(last=False)
        return gas


GAS_USED = GasUsed()


@dataclass(frozen=True)
class Failure:
    job: int
    what: str
    model: str
    code: str
    reason: str
    at: float


@dataclass(frozen=True)
class FeedRow:
    feed_id: str
    model: str
    heartbeat_s: float
    last_round: int | None
    age_s: float | None  # since the daemon saw its last round confirmed

    @property
    def stale(self) -> bool:
        return self.age_s is None or self.age_s > self.heartbeat_s


@dataclass(frozen=True)
class Provers:
    engine: str
    workers: int
    busy: int
    queued: int
    proofs: int
    mean_prove_s: float | None

    @property
    def idle(self) -> int:
        return self.workers - self.busy


@dataclass(frozen=True)
class StatusSnapshot:
    """What the status page shows, read at `at` (unix time)."""

    at: float
    healthy: bool
    last_error: str | None
    chain_id: int
    hub: str
    account: str
    head: int | None
    cursor: int | None
    confirmations: int
    counts: dict[str, int]
    fulfillments: list[Fulfillment] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    feeds: list[FeedRow] = field(default_factory=list)
    provers: Provers | None = None
    models: list[tuple[str, str]] = field(default_factory=list)  # (name, 0x id)

    @staticmethod
    def of(service: Service) -> StatusSnapshot:
        """Read the service's store and state (safe from the metrics server's thread: the
        store serialises its calls and nothing here touches the chain)."""
        names = {m.model_id: m.name for m in service.config.models}
        secrets = tuple(u for u in (service.config.chain.url,) if u)
        healthy, detail = service.health()
        head, cursor = service.metrics.head.value(), service.metrics.cursor.value()
        store = service.store
        return StatusSnapshot(
            at=time.time(),
            healthy=healthy,
            last_error=scrub(str(detail["last_error"]), secrets) if detail["last_error"] else None,
            chain_id=service.chain_id,
            hub=service.hub.address,
            account=service.signer.address,
            head=int(head) if head > 0 else None,
            cursor=int(cursor) if cursor >= 0 else None,
            confirmations=service.config.chain.confirmations,
            counts={s.value: n for s, n in store.counts().items()},
            fulfillments=[
                _fulfillment(j, names, _gas_reader(service))
                for j in store.recent(State.CONFIRMED, limit=ROWS)
            ],
            failures=[_failure(j, names, secrets) for j in store.recent(State.FAILED, limit=ROWS)],
            feeds=_feeds(service, time.time()),
            provers=_provers(service),
            models=[(m.name, "0x" + m.model_id.hex()) for m in service.config.models],
        )


def _what(job: Job) -> str:
    if job.kind is Kind.REQUEST:
        return f"request {job.request_id}"
    feed = str(job.payload["feed_id"])
    return f"feed {feed[:10]}…{feed[-4:]} round {job.payload['round']}"


def _model(job: Job, names: dict[bytes, str]) -> str:
    return names.get(job.model_id, "0x" + job.model_id.hex()[:8] + "…")


def _gas_reader(service: Service) -> Any:
    if service.config.chain.kind == "embedded":
        return lambda _tx: None
    return lambda tx: GAS_USED(service.w3, tx)


def _fulfillment(job: Job, names: dict[bytes, str], gas_used: Any) -> Fulfillment:
    return Fulfillment(
        job=job.id,
        what=_what(job),
        model=_model(job, names),
        latency_s=max(0.0, job.updated_at - job.created_at),
        gas_used=gas_used(job.tx_hash),
        fee_wei=job.gas_cost,
        tx_hash=job.tx_hash,
        block=job.mined_block,
    )


def _failure(job: Job, names: dict[bytes, str], secrets: tuple[str, ...]) -> Failure:
    return Failure(
        job=job.id,
        what=_what(job),
        model=_model(job, names),
        code=job.reason_code or "unknown",
        reason=scrub(job.reason or "", secrets),
        at=job.updated_at,
    )


def _feeds(service: Service, now: float) -> list[FeedRow]:
    names = {m.name: m for m in service.config.models}
    last = service.store.last_feed_rounds()
    rows = []
    for feed in service.config.feeds:
        key = "0x" + feed.feed_id.hex()
        job = last.get(key)
        rows.append(
            FeedRow(
                feed_id=key,
                model=names[feed.model].name if feed.model in names else feed.model,
                heartbeat_s=feed.heartbeat,
                last_round=int(job.payload["round"]) if job else None,
                age_s=now - job.updated_at if job else None,
            )
        )
    return rows


def _provers(service: Service) -> Provers:
    pool = service.pool
    status = pool.status() if pool is not None else {}
    workers = int(status.get("actors", service.config.prover_workers))
    in_flight = _in_flight(service)
    count = service.metrics.proving_seconds.count
    engine = str(status.get("engine", "local"))
    state = status.get("state", "up")
    return Provers(
        engine="local processes" if engine == "local" else f"{engine} ({state})",
        workers=workers,
        busy=min(in_flight, workers),
        queued=max(0, in_flight - workers),
        proofs=int(service.metrics.proofs_generated.value()),
        mean_prove_s=service.metrics.proving_seconds.total / count if count else None,
    )


def _in_flight(service: Service) -> int:
    """Proofs in flight; the daemon's thread may change the pool while this one reads."""
    for _ in range(3):
        try:
            return len(service.pool.in_flight) if service.pool is not None else 0
        except RuntimeError:  # dictionary changed size during iteration
            continue
    return 0


def render_status(snapshot: StatusSnapshot, refresh_s: int = REFRESH_S) -> str:
    """The status page (HTML) of `snapshot`."""
    return render("status.html", s=snapshot, refresh_s=refresh_s, states=[s.value for s in State])
