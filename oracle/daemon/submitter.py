"""Getting proved jobs mined: nonces, fees, replacement, receipts and reverts.

Rules that keep a fulfillment from being lost or sent twice:

* A signed transaction is stored (`Store.record_tx`) before it is broadcast. After a crash
  the job is ``submitted`` with its raw transactions on disk: the daemon looks for their
  receipts and re-broadcasts the same bytes if the node has forgotten them. It never
  signs a second transaction for the job at another nonce unless that nonce went to
  some other transaction.
* Nonces come from the store, synchronised on start (and whenever the node says "nonce
  too low") with the node's pending count and the nonces of submitted jobs.
* A transaction not mined ``replace_after`` seconds after it was sent is replaced at the
  same nonce with both fees bumped (`fees.replacement_fees`), whether the node still
  shows it or not (Anvil hides one whose fee cap fell below the base fee); any of a
  job's transactions may end up mined, so receipts are looked up for all of them.
* Before a first send, eth_estimateGas (or eth_call with a fixed gas limit) runs the call:
  a request fulfilled by anyone else settles as done without spending gas; any other
  revert fails the job with the decoded custom error. An estimate runs the call (and its
  pairing check) a dozen times, so it is made once per model, job kind and callback gas
  and kept (with its margin): later jobs like it run one eth_call with that limit, and
  estimate again only if that call fails without naming an error (out of gas).
* The chain's nonce, head and base fee are read at most once per step, not per job.
* A receipt counts once it is ``confirmations`` blocks deep; until then a reorg can still
  take it away, which sends the job back to waiting (and re-broadcasting).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import Any

from eth_typing import ChecksumAddress
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import TransactionNotFound
from web3.types import TxParams, TxReceipt

from oracle.accounts import Signer
from oracle.daemon.fees import Fees, GasPolicy, first_fees, replacement_fees
from oracle.daemon.jobs import Job, State, TxRecord
from oracle.daemon.outcomes import StepReport, revert_outcome
from oracle.daemon.store import Store
from oracle.errors import ChainConnectionError, TransactionReverted
from oracle.hub import Hub
from oracle.reverts import decoded_revert, is_revert
from oracle.rpc import with_retry

log = logging.getLogger(__name__)

_ACCEPTED = ("already known", "already imported", "known transaction")
_NONCE_LOW = ("nonce too low", "nonce is too low", "oldnonce")
_UNDERPRICED = ("underpriced", "fee too low")


class Submitter:
    def __init__(
        self,
        hub: Hub,
        store: Store,
        signer: Signer,
        policy: GasPolicy,
        *,
        confirmations: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.hub = hub
        self.w3 = hub.w3
        self.store = store
        self.signer = signer
        self.address: ChecksumAddress = signer.address
        self.policy = policy
        self.confirmations = confirmations
        self.clock = clock
        self.chain_id = self._rpc("eth_chainId", lambda: int(self.w3.eth.chain_id))
        self._gas_limits: dict[tuple[str, bytes, int, str], int] = {}  # learnt, see the docstring
        self._step_values: dict[str, int] = {}  # read once per step

    def _once(self, name: str, what: str, call: Callable[[], Any]) -> int:
        """``call()`` (an RPC named `what`), at most once per step."""
        if name not in self._step_values:
            self._step_values[name] = int(self._rpc(what, call))
        return self._step_values[name]

    def _rpc(self, what: str, call: Callable[[], Any]) -> Any:
        return with_retry(what, call, self.hub.retry)

    # -- nonces ------------------------------------------------------------------------------

    def sync_nonce(self) -> int:
        """Next nonce := max(node's pending count, newest submitted nonce + 1)."""
        pending = self._rpc(
            "eth_getTransactionCount",
            lambda: int(self.w3.eth.get_transaction_count(self.address, "pending")),
        )
        submitted = [j.nonce + 1 for j in self.store.jobs(State.SUBMITTED) if j.nonce is not None]
        value = int(max([pending, *submitted]))
        self.store.set_next_nonce(self.address, value)
        log.info("next nonce %d", value, extra={"account": self.address, "pending": pending})
        return value

    def _chain_nonce(self) -> int:
        return self._once(
            "nonce",
            "eth_getTransactionCount",
            lambda: self.w3.eth.get_transaction_count(self.address, "latest"),
        )

    # -- one step ----------------------------------------------------------------------------

    def step(self, between: Callable[[], None] | None = None) -> StepReport:
        """Follow every submitted job, then send every proved one; `between()` runs after
        each job (the daemon hands finished proofs their next job there)."""
        report = StepReport()
        self._step_values.clear()
        for job in self.store.jobs(State.SUBMITTED):
            self._guard(job, functools.partial(self._follow, job, report), fail=False)
            if between is not None:
                between()
        for job in self.store.jobs(State.PROVED):
            self._guard(job, functools.partial(self._submit, job, report), fail=True, report=report)
            if between is not None:
                between()
        return report

    def _guard(
        self, job: Job, step: Callable[[], None], *, fail: bool, report: StepReport | None = None
    ) -> None:
        """Run `step` for one job so that its error cannot stop the others. A job not yet
        sent fails with the error; a sent one is only logged (its transaction may still be
        mined) and followed again next step. An unreachable chain stops the step."""
        try:
            step()
        except ChainConnectionError:
            raise
        except Exception as exc:
            why = f"{type(exc).__name__}: {exc}"
            if fail and report is not None:
                report.failed.append(self.store.mark_failed(job.id, "submit_error", why))
                log.error("job failed: %s", why, extra={"job": job.id, "reason": "submit_error"})
            else:
                log.exception("following job %d failed", job.id, extra={"job": job.id})

    # -- first send --------------------------------------------------------------------------

    def _call_params(self, job: Job, gas: int | None = None) -> TxParams:
        assert job.calldata is not None
        params: TxParams = {"from": self.address, "to": self._target(job), "data": job.calldata}
        if gas is not None:
            params["gas"] = gas
        return params

    def _target(self, job: Job) -> ChecksumAddress:
        """The hub, or the contract an onchain feed's rounds go through (payload "to")."""
        to = job.payload.get("to")
        return self.hub.address if to is None else Web3.to_checksum_address(str(to))

    def _preflight(self, job: Job, report: StepReport) -> int | None:
        """The gas limit to send `job` with, or None if the call reverts (job settled)."""
        key = (job.kind.value, job.model_id, int(job.payload.get("callback_gas_limit", 0)),
               self._target(job))  # fmt: skip
        known = self.policy.gas_limit or self._gas_limits.get(key)
        try:
            if known is not None and self._call_fits(job, known):
                return known
            gas = int(
                self._rpc(
                    "eth_estimateGas", lambda: self.w3.eth.estimate_gas(self._call_params(job))
                )
            )
        except Exception as exc:
            if not is_revert(exc):
                raise
            self._settle_revert(job, self._reverted(exc, None), report)
            return None
        limit = gas + gas * self.policy.gas_margin_percent // 100
        self._gas_limits[key] = limit
        return limit

    def _call_fits(self, job: Job, gas: int) -> bool:
        """eth_call with `gas`. A revert naming an error raises (the job settles on it); a
        bare one with a learnt limit returns False: the job may need more gas."""
        try:
            self._rpc("eth_call", lambda: self.w3.eth.call(self._call_params(job, gas)))
        except Exception as exc:
            learnt = self.policy.gas_limit is None
            if learnt and is_revert(exc) and self._reverted(exc, None).error_name is None:
                return False
            raise
        return True

    def _base_fee(self) -> int:
        return self._once(
            "base_fee",
            "eth_getBlockByNumber",
            lambda: self.w3.eth.get_block("latest").get("baseFeePerGas", 0),
        )

    def _submit(self, job: Job, report: StepReport) -> None:
        gas = self._preflight(job, report)
        if gas is None:
            return
        nonce = self.store.next_nonce(self.address)
        nonce = self.sync_nonce() if nonce is None else nonce
        fees = first_fees(self._base_fee(), self.policy)
        job = self.store.record_tx(self._sign(job, nonce, fees, gas))
        outcome = self._broadcast(self.store.txs(job.id)[-1])
        if outcome == "accepted":
            log.info("fulfillment sent", extra=_tx_fields(job, fees))
            report.sent.append(job)
        elif outcome in ("nonce_too_low", "underpriced"):
            # Another sender from this account took the nonce (mined or pending).
            self.sync_nonce()
            report.requeued.append(
                self.store.requeue_unsent(job.id, f"nonce {nonce} taken by another transaction")
            )
        else:
            report.rejected.append(f"job {job.id}: {outcome}")
            log.error("node refused the transaction: %s", outcome, extra={"job": job.id})
            report.requeued.append(
                self.store.requeue_unsent(job.id, f"refused: {outcome}", release_nonce=True)
            )

    def _sign(self, job: Job, nonce: int, fees: Fees, gas: int) -> TxRecord:
        assert job.calldata is not None
        tx = {
            "type": 2,
            "chainId": self.chain_id,
            "nonce": nonce,
            "to": self._target(job),
            "value": 0,
            "data": job.calldata,
            "gas": gas,
            "maxFeePerGas": fees.max_fee,
            "maxPriorityFeePerGas": fees.priority_fee,
        }
        signed = self.signer.sign_transaction(tx)
        return TxRecord(
            tx_hash=HexBytes(signed.hash).to_0x_hex(),
            job_id=job.id,
            account=self.address,
            nonce=nonce,
            max_fee=fees.max_fee,
            priority_fee=fees.priority_fee,
            gas_limit=gas,
            raw=bytes(signed.raw_transaction),
            sent_at=self.clock(),
        )

    def _broadcast(self, record: TxRecord) -> str:
        """ "accepted", "nonce_too_low", "underpriced", or the node's refusal message.
        Transport failures are retried (the same bytes are harmless to send twice)."""
        try:
            self._rpc(
                "eth_sendRawTransaction", lambda: self.w3.eth.send_raw_transaction(record.raw)
            )
        except Exception as exc:
            if is_revert(exc) or not hasattr(exc, "rpc_response"):
                raise
            message = str(exc).lower()
            for outcome, needles in (
                ("accepted", _ACCEPTED),
                ("nonce_too_low", _NONCE_LOW),
                ("underpriced", _UNDERPRICED),
            ):
                if any(n in message for n in needles):
                    return outcome
            return str(exc)
        return "accepted"

    # -- following a sent transaction --------------------------------------------------------

    def _receipt(self, tx_hash: str) -> TxReceipt | None:
        def get() -> TxReceipt | None:
            try:
                return self.w3.eth.get_transaction_receipt(HexBytes(tx_hash))
            except TransactionNotFound:
                return None

        return self._rpc("eth_getTransactionReceipt", get)  # type: ignore[no-any-return]

    def _known(self, tx_hash: str) -> bool:
        def get() -> bool:
            try:
                self.w3.eth.get_transaction(HexBytes(tx_hash))
            except TransactionNotFound:
                return False
            return True

        return bool(self._rpc("eth_getTransactionByHash", get))

    def _follow(self, job: Job, report: StepReport) -> None:
        assert job.nonce is not None
        # Read before the receipts: if ours is mined in between, its receipt is found; a
        # consumed nonce without a receipt of ours then really is another transaction's.
        chain_nonce = self._chain_nonce()
        txs = self.store.txs(job.id)
        for record in reversed(txs):
            receipt = self._receipt(record.tx_hash)
            if receipt is not None:
                self._mined(job, record, receipt, report)
                return
        if job.mined_block is not None:
            log.warning("fulfillment receipt vanished (reorg)", extra={"job": job.id})
            job = self.store.mark_mined(job.id, txs[-1].tx_hash, None, None, None)
        if chain_nonce > txs[-1].nonce:
            why = f"nonce {txs[-1].nonce} was used by another transaction"
            report.requeued.append(self.store.requeue_unsent(job.id, why))
            return
        # Age decides a replacement, not whether the node still shows the transaction:
        # sending the same underpriced bytes again would never get them mined.
        latest = txs[-1]
        due = self.clock() - latest.sent_at >= self.policy.replace_after
        if due and self._replace(job, latest, report):
            return
        if not self._known(latest.tx_hash):
            log.info("re-broadcasting a transaction the node forgot", extra={"job": job.id})
            self._broadcast(latest)
            report.rebroadcast.append(job)

    def _replace(self, job: Job, latest: TxRecord, report: StepReport) -> bool:
        """Send `latest` again at its nonce with higher fees; False if the cap forbids."""
        old = Fees(latest.max_fee, latest.priority_fee)
        fees = replacement_fees(old, self._base_fee(), self.policy)
        if fees is None:
            log.warning(
                "transaction not mined and the fee cap leaves no room for a replacement",
                extra=_tx_fields(job, old),
            )
            return False
        assert job.nonce is not None
        job = self.store.record_tx(self._sign(job, job.nonce, fees, latest.gas_limit))
        outcome = self._broadcast(self.store.txs(job.id)[-1])
        log.info("replaced a stuck transaction (%s)", outcome, extra=_tx_fields(job, fees))
        report.replaced.append(job)
        return True

    def _deep_enough(self, job: Job, record: TxRecord, receipt: TxReceipt, cost: int) -> bool:
        """Record where `record` was mined (with `cost` booked on `job`); True once the
        receipt is ``confirmations`` blocks deep."""
        block_hash = HexBytes(receipt["blockHash"]).to_0x_hex()
        if job.mined_block_hash != block_hash:
            self.store.mark_mined(job.id, record.tx_hash, receipt["blockNumber"], block_hash, cost)
        head = self._once("head", "eth_blockNumber", lambda: self.w3.eth.block_number)
        return head - int(receipt["blockNumber"]) >= self.confirmations

    def _mined(self, job: Job, record: TxRecord, receipt: TxReceipt, report: StepReport) -> None:
        cost = int(receipt["gasUsed"]) * int(receipt.get("effectiveGasPrice", 0))
        if not self._deep_enough(job, record, receipt, cost):
            return
        report.gas_spent_wei += cost
        if receipt["status"] == 1:
            report.confirmed.append(self.store.mark_confirmed(job.id))
            log.info(
                "fulfillment confirmed",
                extra={"job": job.id, "tx": record.tx_hash, "gas_cost_wei": cost},
            )
            return
        self._settle_revert(job, self._explain(record, receipt), report)

    # -- reverts -----------------------------------------------------------------------------

    def _reverted(self, exc: BaseException, tx_hash: str | None) -> TransactionReverted:
        return decoded_revert(exc, self.hub.errors, tx_hash)

    def _explain(self, record: TxRecord, receipt: TxReceipt) -> TransactionReverted:
        """Replay a failed transaction on the state at the end of its block: receipts
        carry no revert data, and the state before the block would not show a rival that
        got in first in the same block (``AlreadyFulfilled``)."""
        job = self.store.get(record.job_id)
        params = self._call_params(job, record.gas_limit)
        try:
            self.w3.eth.call(params, int(receipt["blockNumber"]))
        except Exception as exc:
            if is_revert(exc):
                return self._reverted(exc, record.tx_hash)
        detail = "out of gas" if receipt["gasUsed"] >= record.gas_limit else "no revert data"
        return TransactionReverted(tx_hash=record.tx_hash, error_name=None, detail=detail)

    def _settle_revert(self, job: Job, err: TransactionReverted, report: StepReport) -> None:
        outcome = revert_outcome(err)
        if outcome.done:
            report.confirmed.append(self.store.mark_confirmed(job.id, outcome.reason))
            log.info("nothing to do: %s", outcome.reason, extra={"job": job.id})
            return
        report.failed.append(self.store.mark_failed(job.id, outcome.reason, str(err)))
        log.error("job failed: %s", err, extra={"job": job.id, "reason": outcome.reason})


def _tx_fields(job: Job, fees: Fees) -> dict[str, Any]:
    return {
        "job": job.id,
        "tx": job.tx_hash,
        "nonce": job.nonce,
        "max_fee_wei": fees.max_fee,
        "priority_fee_wei": fees.priority_fee,
    }
