"""Jobs and their state machine.

A job is one piece of work the daemon owes the chain: a request to fulfill or a feed round
to post. It moves along these edges only::

    seen ──► proving ──► proved ──► submitted ──► confirmed
      ▲         │          │  ▲         │  ▲          │
      └─────────┘          │  └─────────┘  └──────────┘
      (parked, crashed)    │  (nonce taken  (fulfillment removed
                           │   by another)   by a reorg)
                           └──► confirmed   (already fulfilled by someone: nothing to send)

and from every non-final state to ``failed`` (with a reason). ``failed -> seen`` revives a
job only when it failed because its request had vanished in a reorg and the request has
been seen on chain again. Every other move raises `IllegalTransition`.

``submitted`` means a signed transaction exists whose hash is in the store: the store
records it before the transaction is broadcast, so a crash can never leave a sent
transaction the daemon does not know about.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class State(StrEnum):
    SEEN = "seen"
    PROVING = "proving"
    PROVED = "proved"
    SUBMITTED = "submitted"
    CONFIRMED = "confirmed"
    FAILED = "failed"


FINAL = frozenset({State.CONFIRMED, State.FAILED})

TRANSITIONS: Mapping[State, frozenset[State]] = {
    State.SEEN: frozenset({State.PROVING, State.FAILED}),
    State.PROVING: frozenset({State.PROVED, State.SEEN, State.FAILED}),
    State.PROVED: frozenset({State.SUBMITTED, State.CONFIRMED, State.FAILED}),
    State.SUBMITTED: frozenset({State.CONFIRMED, State.PROVED, State.FAILED}),
    State.CONFIRMED: frozenset({State.SUBMITTED}),
    State.FAILED: frozenset({State.SEEN}),
}

#: Failure codes after which a job may come back to life when its request is seen again.
REVIVABLE = frozenset({"unknown_request"})


class Kind(StrEnum):
    REQUEST = "request"
    FEED = "feed"


def content_digest(payload: Mapping[str, Any]) -> str:
    """sha256 (hex, 16 bytes) of a payload's canonical JSON: what makes a request itself."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def request_key(request_id: int, payload: Mapping[str, Any]) -> str:
    """Key of a request job: its id plus a digest of its content. After a deep reorg the
    same id can name a different request; the digest gives that one its own job."""
    return f"request:{request_id}:{content_digest(payload)}"


def feed_key(feed_id: bytes, round_: int, attempt: int = 0) -> str:
    """Key of a feed round job; a round tried again after a failure is a new attempt."""
    base = f"feed:0x{feed_id.hex()}:{round_}"
    return base if attempt == 0 else f"{base}:{attempt}"


@dataclass(frozen=True)
class NewJob:
    """What the watcher (or the feed scheduler) knows when it first sees a piece of work."""

    kind: Kind
    key: str
    model_id: bytes
    payload: Mapping[str, Any]  # JSON-serialisable: request fields or feed round data
    block_number: int
    block_hash: str


#: Key prefix of the failed jobs that record undecodable request logs.
UNDECODABLE = "request:undecodable:"


@dataclass(frozen=True)
class Job:
    """A stored job. Fields after ``state`` are filled as the job advances."""

    id: int
    kind: Kind
    key: str
    model_id: bytes
    payload: Mapping[str, Any]
    seen_block: int
    seen_block_hash: str
    orphaned: bool  # its block was reorged out and the rescan has not seen it again yet
    state: State
    reason_code: str | None
    reason: str | None
    outputs: tuple[int, ...] | None
    proof: bytes | None
    calldata: bytes | None
    nonce: int | None
    tx_hash: str | None  # the latest of the job's transactions
    mined_block: int | None
    mined_block_hash: str | None
    gas_cost: int | None  # wei paid by the mined transaction
    attempts: int  # proving attempts started
    created_at: float
    updated_at: float

    @property
    def request_id(self) -> int:
        return int(self.payload["request_id"])


@dataclass(frozen=True)
class TxRecord:
    """One signed transaction of a job; replacements share the nonce."""

    tx_hash: str
    job_id: int
    account: str
    nonce: int
    max_fee: int
    priority_fee: int
    gas_limit: int
    raw: bytes
    sent_at: float


JOB_COLUMNS = (
    "id, kind, key, model_id, payload, seen_block, seen_block_hash, orphaned, state, "
    "reason_code, reason, outputs, proof, calldata, nonce, tx_hash, mined_block, "
    "mined_block_hash, gas_cost, attempts, created_at, updated_at"
)


def job_from_row(row: tuple[Any, ...]) -> Job:
    (id_, kind, key, model_id, payload, seen_block, seen_hash, orphaned, state, code, reason,
     outputs, proof, calldata, nonce, tx_hash, mined, mined_hash, gas_cost, attempts,
     created, updated) = row  # fmt: skip
    return Job(
        id=id_,
        kind=Kind(kind),
        key=key,
        model_id=bytes.fromhex(model_id),
        payload=json.loads(payload),
        seen_block=seen_block,
        seen_block_hash=seen_hash,
        orphaned=bool(orphaned),
        state=State(state),
        reason_code=code,
        reason=reason,
        outputs=tuple(int(v) for v in json.loads(outputs)) if outputs is not None else None,
        proof=bytes(proof) if proof is not None else None,
        calldata=bytes(calldata) if calldata is not None else None,
        nonce=nonce,
        tx_hash=tx_hash,
        mined_block=mined,
        mined_block_hash=mined_hash,
        gas_cost=int(gas_cost) if gas_cost is not None else None,
        attempts=attempts,
        created_at=created,
        updated_at=updated,
    )
