"""Turning ``InferenceRequested`` logs into jobs, block range by block range, across reorgs.

The watcher reads only blocks at least ``confirmations`` deep (``head - confirmations``
and older), in ranges of at most ``max_block_range`` blocks. After each range it stores,
in one transaction, the new jobs, the cursor (last block read) and the hashes of the
blocks it relied on.

A reorg deeper than the confirmation depth shows as a remembered block hash the chain no
longer has. Checking the cursor block is enough to detect one: a block hash commits to
every ancestor, so if that block is still on the chain, everything before it is too.
Walking the remembered hashes back then finds the newest block still on the chain (the
fork point); the store rewinds to it (`Store.rewind`): jobs seen after it are flagged
orphaned until the rescan sees them again, and fulfillments mined after it are reopened
for the submitter to get them mined again. A job the rescan does not find again and the
hub no longer knows fails as ``unknown_request`` (it comes back if the request reappears).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from oracle.daemon.jobs import UNDECODABLE, Job, Kind, NewJob, State, request_key
from oracle.daemon.store import Store
from oracle.hub import Hub, RequestEvent, RequestStatus, UndecodableLog

log = logging.getLogger(__name__)


def job_of(event: RequestEvent | UndecodableLog) -> NewJob:
    """The job of a request log; an undecodable log becomes a job that fails at once with
    its reason, so the store says what was skipped."""
    if isinstance(event, UndecodableLog):
        payload = {"request_id": 0, "tx_hash": event.tx_hash, "log_index": event.log_index,
                   "error": event.reason}  # fmt: skip
        key = f"{UNDECODABLE}{event.tx_hash}:{event.log_index}"
        return NewJob(Kind.REQUEST, key, b"\x00" * 32, payload, event.block_number,
                      event.block_hash)  # fmt: skip
    payload = event.payload()
    return NewJob(
        Kind.REQUEST,
        request_key(event.request_id, payload),
        event.model_id,
        payload,
        event.block_number,
        event.block_hash,
    )


@dataclass(frozen=True)
class WatcherSettings:
    confirmations: int = 2
    max_block_range: int = 2000
    start_block: int = 0
    reorg_depth: int = 128  # remembered block hashes
    max_ranges_per_poll: int = 8  # so one poll never blocks the daemon for long


@dataclass
class PollReport:
    """What one `Watcher.poll` did."""

    head: int = -1
    cursor: int | None = None
    new_jobs: list[Job] = field(default_factory=list)
    fork_point: int | None = None  # set when a reorg was handled
    reopened: list[Job] = field(default_factory=list)  # jobs a reorg touched
    vanished: list[Job] = field(default_factory=list)  # orphans failed after a rescan
    failed: list[Job] = field(default_factory=list)  # undecodable logs, failed at once
    caught_up: bool = False


class Watcher:
    def __init__(
        self,
        hub: Hub,
        store: Store,
        settings: WatcherSettings,
        *,
        model_ids: Sequence[bytes] = (),
    ) -> None:
        self.hub = hub
        self.store = store
        self.settings = settings
        self.model_ids = tuple(model_ids)

    def poll(self) -> PollReport:
        """Handle a reorg if there was one, then read new confirmed ranges."""
        report = PollReport(head=self.hub.head())
        self._handle_reorg(report)
        safe = report.head - self.settings.confirmations
        for _ in range(self.settings.max_ranges_per_poll):
            cursor = self._cursor()
            if cursor >= safe:
                report.caught_up = True
                break
            if not self._scan(
                cursor + 1, min(safe, cursor + self.settings.max_block_range), report
            ):
                break
        report.cursor = self.store.cursor()
        report.vanished = self._settle_orphans()
        return report

    def _cursor(self) -> int:
        cursor = self.store.cursor()
        return self.settings.start_block - 1 if cursor is None else cursor

    def _scan(self, first: int, last: int, report: PollReport) -> bool:
        """Store the jobs of [first, last]; False if the chain changed while reading."""
        before = self.hub.block_hash(last)
        events = self.hub.request_logs(first, last, self.model_ids)
        after = self.hub.block_hash(last)
        if before is None or before != after:
            log.info("block %d changed while its range was read; reading it again", last)
            return False
        hashes = {e.block_number: e.block_hash for e in events}
        hashes[last] = after
        created = self.store.record_scan(
            [job_of(e) for e in events], last, hashes, keep=self.settings.reorg_depth
        )
        for job in created:
            if job.key.startswith(UNDECODABLE):
                report.failed.append(
                    self.store.mark_failed(job.id, "undecodable_event", str(job.payload["error"]))
                )
                log.error("skipped a log: %s", job.payload["error"],
                          extra={"job": job.id, "reason": "undecodable_event"})  # fmt: skip
                continue
            log.info(
                "request seen",
                extra={"job": job.id, "request_id": job.payload.get("request_id"),
                       "block": job.seen_block},
            )  # fmt: skip
        report.new_jobs.extend(j for j in created if not j.key.startswith(UNDECODABLE))
        return True

    def _fork_point(self) -> int | None:
        """None if the newest remembered block is still on the chain; else the newest
        remembered block that is (start_block - 1 if none of them is)."""
        remembered = self.store.block_hashes()
        if not remembered or self.hub.block_hash(remembered[0][0]) == remembered[0][1]:
            return None
        for number, block_hash in remembered[1:]:
            if self.hub.block_hash(number) == block_hash:
                return number
        log.error(
            "reorg deeper than the %d remembered blocks: rescanning from block %d",
            len(remembered),
            self.settings.start_block,
        )
        return self.settings.start_block - 1

    def _handle_reorg(self, report: PollReport) -> None:
        fork = self._fork_point()
        if fork is None:
            return
        touched = self.store.rewind(fork)
        report.fork_point = fork
        report.reopened = touched
        log.warning(
            "chain reorganisation: rewound to block %d",
            fork,
            extra={"fork_point": fork, "jobs": [j.id for j in touched]},
        )

    def _settle_orphans(self) -> list[Job]:
        """Orphans whose old block the rescan has passed without seeing them again fail:
        ``superseded`` if the request id now names another request the rescan saw,
        ``unknown_request`` if the hub does not know the id (any more)."""
        cursor = self._cursor()
        settled = []
        for job in self.store.orphans(State.SEEN, State.PROVED):
            if job.seen_block > cursor or job.kind is not Kind.REQUEST:
                continue
            others = [
                j
                for j in self.store.with_key_prefix(f"request:{job.request_id}:")
                if not j.orphaned
            ]
            if others:
                why = f"request id {job.request_id} now names another request (job {others[0].id})"
                settled.append(self.store.mark_failed(job.id, "superseded", why))
            elif self.hub.request_status(job.request_id) is RequestStatus.NONE:
                why = f"request {job.request_id} was removed by a chain reorganisation"
                settled.append(self.store.mark_failed(job.id, "unknown_request", why))
        return settled
