"""Sending proved jobs of one model together: requests in one ``fulfillBatch``
transaction, hub feed rounds in one ``updateFeedBatch``.

`plan_batches` picks what goes out in a step: proved request jobs are grouped by model,
proved feed rounds posted to the hub by model too (a separate group); a group goes out once
it holds ``max_batch`` jobs or its oldest proof has waited ``max_batch_wait`` seconds (0: at
once, with whatever is waiting), in chunks of at most ``max_batch``, feed rounds in (feed,
round) order since the hub applies them in batch order. Rounds of feeds with on-chain
inputs (they go through ``OnchainInputFeeds.update``), lone jobs and jobs whose batch once
reverted go out alone.

`BatchingSubmitter` keeps every rule of `oracle.daemon.submitter` for batches:

* the batch transaction is recorded (every member submitted, same nonce and hash, see
  `oracle.daemon.store_batches`) before it is broadcast, so a crash loses nothing and a
  restart follows (and re-broadcasts) the same bytes instead of signing anew;
* every member follows the leader's transactions; only the leader replaces a stuck one,
  at the same nonce with the same calldata;
* a dry run (eth_estimateGas) comes first: a batch that would revert is split at once
  and its jobs sent alone; a batch mined as reverted (a race) is split the same way;
* a request the hub skipped (``RequestSkipped``: fulfilled by someone else or cancelled,
  expired, model retired) settles like the single-fulfillment reverts that mean the same;
  so does a skipped feed round (``FeedRoundSkipped``): one the hub already holds is done,
  any other reason fails the job.

Every proof was checked off-chain by the prover worker before its job became ``proved``,
so a bad proof cannot sink a batch of good ones.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from web3.types import TxParams, TxReceipt

from oracle.daemon.fees import Fees, GasPolicy, first_fees, replacement_fees
from oracle.daemon.jobs import Job, Kind, State, TxRecord
from oracle.daemon.outcomes import ROUND_POSTED, StepReport
from oracle.daemon.store import Store
from oracle.daemon.submitter import Submitter
from oracle.hub.calldata import BatchItem, RoundItem
from oracle.reverts import is_revert

if TYPE_CHECKING:
    from oracle.accounts import Signer
    from oracle.daemon.config import DaemonConfig
    from oracle.hub import Hub

log = logging.getLogger(__name__)

#: ``BatchFulfillment.SkipReason`` -> (failure code, or None: nothing left to do).
SKIP_OUTCOMES: dict[int, str | None] = {
    0: None,  # not pending: fulfilled by another submitter (or cancelled)
    1: "request_expired",
    2: "model_is_retired",
    3: "other_model",
}


#: ``IZkOracle.RoundSkipReason`` -> failure code (0, not the next round, is looked at).
ROUND_SKIP_CODES = {1: "unknown_feed", 2: "not_feed_updater", 3: "other_model",
                    4: "model_is_retired"}  # fmt: skip


def _batchable(job: Job) -> bool:
    """Requests, and feed rounds the daemon posts to the hub itself (not through a feed
    contract: those carry their target in the payload's "to")."""
    return job.kind is Kind.REQUEST or (job.kind is Kind.FEED and "to" not in job.payload)


def _round_order(job: Job) -> tuple[str, int]:
    return str(job.payload["feed_id"]), int(job.payload["round"])


def plan_batches(
    proved: Sequence[Job], max_batch: int, max_wait: float, now: float, solo: set[int]
) -> tuple[list[list[Job]], list[Job]]:
    """(batches of >= 2 jobs, jobs to send alone) among `proved`; the rest keep waiting."""
    singles: list[Job] = []
    groups: dict[tuple[Kind, bytes], list[Job]] = {}
    for job in proved:
        if not _batchable(job) or job.id in solo or max_batch < 2:
            singles.append(job)
        else:
            groups.setdefault((job.kind, job.model_id), []).append(job)
    batches: list[list[Job]] = []
    for (kind, _), jobs in groups.items():
        if kind is Kind.FEED:
            jobs.sort(key=_round_order)
        oldest = min(j.updated_at for j in jobs)
        if len(jobs) < max_batch and max_wait > 0 and now - oldest < max_wait:
            continue
        for start in range(0, len(jobs), max_batch):
            chunk = jobs[start : start + max_batch]
            if len(chunk) > 1:
                batches.append(chunk)
            else:
                singles.extend(chunk)
    return batches, singles


class BatchingSubmitter(Submitter):
    """A `Submitter` that sends proved requests of one model in batches."""

    def __init__(self, *args: Any, max_batch: int, max_batch_wait: float, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.max_batch = max_batch
        self.max_batch_wait = max_batch_wait
        self._batch_limits: dict[tuple[str, bytes, int, str], int] = {}

    def step(self, between: Callable[[], None] | None = None) -> StepReport:
        report = StepReport()
        self._step_values.clear()
        for job in self.store.jobs(State.SUBMITTED):
            self._follow(job, report)
            if between is not None:
                between()
        proved = self.store.jobs(State.PROVED)
        solo = self.store.solo_ids()
        batches, singles = plan_batches(
            proved, self.max_batch, self.max_batch_wait, self.clock(), solo
        )
        for job in singles:
            self._submit(job, report)
            if between is not None:
                between()
        for batch in batches:
            self._submit_batch(batch, report)
            if between is not None:
                between()
        return report

    # -- first send --------------------------------------------------------------------------

    def _batch_calldata(self, jobs: Sequence[Job]) -> bytes:
        words = [_proof_words(job) for job in jobs]
        if jobs[0].kind is Kind.FEED:
            rounds: list[RoundItem] = [
                (*_feed_round(job), job.payload["inputs"], job.outputs or [], w)
                for job, w in zip(jobs, words, strict=True)
            ]
            return self.hub.update_feed_batch_calldata(jobs[0].model_id, rounds)
        items: list[BatchItem] = [
            (j.request_id, j.outputs or [], w) for j, w in zip(jobs, words, strict=True)
        ]
        return self.hub.fulfill_batch_calldata(jobs[0].model_id, items)

    def _batch_gas(self, jobs: Sequence[Job], calldata: bytes) -> int | None:
        """Gas limit for the batch, or None if its dry run reverts. A fixed limit (the
        embedded chain), or one learnt for a batch of this model, size and callback gas,
        is checked with one eth_call; else eth_estimateGas (a dozen runs) plus the margin."""
        params: TxParams = {"from": self.address, "to": self.hub.address, "data": calldata}
        callbacks = sum(int(j.payload.get("callback_gas_limit", 0)) for j in jobs)
        key = (f"batch-{jobs[0].kind.value}", jobs[0].model_id, len(jobs), str(callbacks))
        known = self.policy.gas_limit or self._batch_limits.get(key)
        try:
            if known is not None and self._dry_run({**params, "gas": known}):
                return known
            gas = int(self._rpc("eth_estimateGas", lambda: self.w3.eth.estimate_gas(params)))
        except Exception as exc:
            if not is_revert(exc):
                raise
            log.warning("batch dry run reverted (%s): sent alone", self._reverted(exc, None))
            return None
        limit = gas + gas * self.policy.gas_margin_percent // 100
        self._batch_limits[key] = limit
        return limit

    def _dry_run(self, params: TxParams) -> bool:
        """eth_call; False on a revert without an error (out of gas: estimate instead)."""
        try:
            self._rpc("eth_call", lambda: self.w3.eth.call(params))
        except Exception as exc:
            if is_revert(exc) and self._reverted(exc, None).error_name is None:
                return False
            raise
        return True

    def _submit_batch(self, jobs: list[Job], report: StepReport) -> None:
        calldata = self._batch_calldata(jobs)
        gas = self._batch_gas(jobs, calldata)
        if gas is None:
            self.store.leave_batch([j.id for j in jobs], solo=True)
            for job in jobs:
                self._submit(self.store.get(job.id), report)
            return
        nonce = self.store.next_nonce(self.address)
        nonce = self.sync_nonce() if nonce is None else nonce
        fees = first_fees(self._base_fee(), self.policy)
        record = self._sign_data(jobs[0], calldata, nonce, fees, gas)
        members = self.store.record_batch_tx(record, [j.id for j in jobs])
        outcome = self._broadcast(record)
        if outcome == "accepted":
            log.info("batch of %d sent", len(jobs), extra={"job": jobs[0].id, "tx": record.tx_hash})
            report.sent.extend(members)
            return
        if outcome in ("nonce_too_low", "underpriced"):
            self.sync_nonce()
        else:
            report.rejected.append(f"batch of job {jobs[0].id}: {outcome}")
        release = outcome not in ("nonce_too_low", "underpriced")
        for job in members:
            why = f"batch not sent: {outcome}"
            report.requeued.append(
                self.store.requeue_unsent(job.id, why, release_nonce=release and job is members[0])
            )
        self.store.leave_batch([j.id for j in jobs], solo=False)

    def _sign_data(self, job: Job, data: bytes, nonce: int, fees: Fees, gas: int) -> TxRecord:
        """`Submitter._sign` with other calldata (the batch's) under `job`'s record."""
        return self._sign(replace(job, calldata=data), nonce, fees, gas)

    # -- following ---------------------------------------------------------------------------

    def _follow(self, job: Job, report: StepReport) -> None:
        leader = self.store.batch_leader(job.id)
        if leader is None:
            super()._follow(job, report)
            return
        assert job.nonce is not None
        chain_nonce = self._chain_nonce()
        # The leader's transactions at this job's nonce: the leader may since have been
        # sent in another batch, at another nonce.
        txs = [t for t in self.store.txs(leader) if t.nonce == job.nonce]
        if not txs:
            report.requeued.append(self.store.requeue_unsent(job.id, "batch record lost"))
            self.store.leave_batch([job.id], solo=False)
            return
        for record in reversed(txs):
            receipt = self._receipt(record.tx_hash)
            if receipt is not None:
                self._mined_in_batch(job, record, receipt, report)
                return
        if job.mined_block is not None:
            job = self.store.mark_mined(job.id, txs[-1].tx_hash, None, None, None)
        if chain_nonce > txs[-1].nonce:
            report.requeued.append(
                self.store.requeue_unsent(job.id, f"nonce {txs[-1].nonce} used by another tx")
            )
            self.store.leave_batch([job.id], solo=False)
            return
        latest = txs[-1]
        due = job.id == leader and self.clock() - latest.sent_at >= self.policy.replace_after
        if due and self._replace_batch(job, latest, report):
            return
        if not self._known(latest.tx_hash):
            self._broadcast(latest)
            report.rebroadcast.append(job)

    def _replace_batch(self, leader: Job, latest: TxRecord, report: StepReport) -> bool:
        fees = replacement_fees(Fees(latest.max_fee, latest.priority_fee), self._base_fee(),
                                self.policy)  # fmt: skip
        if fees is None:
            return False
        members = [self.store.get(i) for i in self.store.batch_member_ids(leader.id)]
        assert leader.nonce is not None
        record = self._sign_data(
            leader, self._batch_calldata(members), leader.nonce, fees, latest.gas_limit
        )
        self.store.record_batch_tx(record, [m.id for m in members])
        self._broadcast(record)
        report.replaced.append(leader)
        return True

    def _mined_in_batch(
        self, job: Job, record: TxRecord, receipt: TxReceipt, report: StepReport
    ) -> None:
        # The batch's cost is booked on its leader (the job that holds the transaction).
        leads = job.id == record.job_id
        cost = int(receipt["gasUsed"]) * int(receipt.get("effectiveGasPrice", 0)) if leads else 0
        if not self._deep_enough(job, record, receipt, cost):
            return
        report.gas_spent_wei += cost
        if receipt["status"] != 1:
            log.warning("batch reverted on chain: its jobs are sent alone", extra={"job": job.id})
            report.requeued.append(self.store.requeue_unsent(job.id, "batch reverted"))
            self.store.leave_batch([job.id], solo=True)
            return
        if job.kind is Kind.FEED:
            self._settle_round(job, receipt, report)
            return
        skipped = dict(self.hub.skipped_in(receipt))
        if job.request_id not in skipped:
            report.confirmed.append(self.store.mark_confirmed(job.id))
            return
        code = SKIP_OUTCOMES.get(skipped[job.request_id], "skipped")
        if code is None:
            note = "skipped in a batch: no longer pending (fulfilled by another submitter)"
            report.confirmed.append(self.store.mark_confirmed(job.id, note))
        else:
            report.failed.append(self.store.mark_failed(job.id, code, "skipped in a batch"))

    def _settle_round(self, job: Job, receipt: TxReceipt, report: StepReport) -> None:
        """A feed round of a mined batch: published, skipped as posted already (by a
        rival, or the hub is past it), or skipped for a reason that fails the job."""
        feed_id, round_ = _feed_round(job)
        reasons = {(f, r): why for f, r, why in self.hub.rounds_skipped_in(receipt)}
        if (feed_id, round_) not in reasons:
            report.confirmed.append(self.store.mark_confirmed(job.id))
            return
        why = reasons[(feed_id, round_)]
        if why == 0 and self.hub.feed_state(feed_id)[0] >= round_:
            note = f"skipped in a batch: {ROUND_POSTED}"
            report.confirmed.append(self.store.mark_confirmed(job.id, note))
            return
        code = ROUND_SKIP_CODES.get(why, "round_not_next")
        report.failed.append(self.store.mark_failed(job.id, code, "skipped in a batch"))


def _proof_words(job: Job) -> list[int]:
    assert job.proof is not None
    return [int.from_bytes(job.proof[i : i + 32], "big") for i in range(0, 256, 32)]


def _feed_round(job: Job) -> tuple[bytes, int]:
    return bytes.fromhex(str(job.payload["feed_id"])[2:]), int(job.payload["round"])


def submitter_for(config: DaemonConfig, hub: Hub, store: Store, signer: Signer) -> Submitter:
    """The daemon's submitter: batching when ``[submitter].max_batch`` is above 1."""
    gas = config.gas
    policy = GasPolicy(gas.max_fee_wei, gas.priority_fee_wei, gas.replace_after,
                       gas.bump_percent, gas.gas_limit)  # fmt: skip
    confirmations = config.chain.confirmations
    if config.submitter.max_batch <= 1:
        return Submitter(hub, store, signer, policy, confirmations=confirmations)
    return BatchingSubmitter(
        hub,
        store,
        signer,
        policy,
        confirmations=confirmations,
        max_batch=config.submitter.max_batch,
        max_batch_wait=config.submitter.max_batch_wait,
    )
