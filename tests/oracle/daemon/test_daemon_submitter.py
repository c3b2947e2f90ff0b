"""The submitter on a real Anvil: sending, confirming, replacing, nonce recovery, reverts."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from eth_account import Account
from eth_typing import HexStr

from oracle.accounts import Signer
from oracle.daemon.fees import GasPolicy
from oracle.daemon.jobs import Job, State
from oracle.daemon.store import Store
from oracle.daemon.submitter import Submitter
from oracle.daemon.watcher import Watcher, WatcherSettings, job_of
from oracle.errors import ChainConnectionError
from oracle.hub import RequestEvent, RequestStatus
from oracle.rpc import RetryPolicy
from oracle.solc import CompiledContract
from tests.oracle.daemon.daemon_helpers import MODEL, Devchain, FixedPortAnvil, free_port, proof_for

pytestmark = pytest.mark.anvil
GWEI = 10**9
POLICY = GasPolicy(
    max_fee_wei=100 * GWEI, priority_fee_wei=1 * GWEI, replace_after=30.0, bump_percent=12.5
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


class Rig:
    """A store, a funded signer and a submitter on one devchain."""

    def __init__(self, devchain: Devchain, tmp_path: Path, confirmations: int = 1) -> None:
        self.chain = devchain
        self.account = devchain.funded_account()
        self.signer = Signer.from_key(self.account.key)
        self.store = Store(tmp_path / "submit.db")
        self.hub = devchain.daemon_hub()
        self.clock = Clock()
        self.submitter = Submitter(
            self.hub, self.store, self.signer, POLICY, confirmations=confirmations, clock=self.clock
        )

    def proved_job(
        self,
        inputs: Sequence[int] = (1, 2),
        outputs: Sequence[int] = (7,),
        proof: Sequence[int] | None = None,
    ) -> Job:
        """A request on chain and its job, proved (with the proof MockHub accepts unless
        `proof` is given)."""
        request_id = self.chain.request(list(inputs))
        events = self.hub.request_logs(0, self.chain.head(), [MODEL])
        event = next(
            e for e in events if isinstance(e, RequestEvent) and e.request_id == request_id
        )
        job, _ = self.store.insert_seen(job_of(event))
        self.store.start_proving(job.id)
        proof = proof or proof_for(request_id, outputs, self.signer.address)
        calldata = self.hub.fulfill_calldata(request_id, outputs, proof)
        return self.store.mark_proved(job.id, outputs, bytes(256), calldata)

    def fulfill_as(self, sender: str, job: Job, outputs: Sequence[int], **tx: int) -> str:
        """Fulfill `job`'s request from an unlocked dev account (a rival submitter)."""
        data = self.hub.fulfill_calldata(
            job.request_id, outputs, proof_for(job.request_id, outputs, sender)
        )
        params = {"from": sender, "to": self.chain.hub.address, "data": data, **tx}
        return self.chain.w3.eth.send_transaction(params).to_0x_hex()  # type: ignore[arg-type]

    def pool(self) -> dict[int, str]:
        """Pending transactions of our account in the node's pool: {nonce: hash}."""
        content = self.chain.rpc("txpool_content")["pending"]
        ours = content.get(self.signer.address.lower(), {}) or content.get(self.signer.address, {})
        return {int(n): tx["hash"] for n, tx in ours.items()}


@pytest.fixture
def rig(devchain: Devchain, tmp_path: Path) -> Rig:
    return Rig(devchain, tmp_path)


def test_a_proved_job_is_sent_then_confirmed_at_depth(rig: Rig) -> None:
    job = rig.proved_job()
    rig.submitter.sync_nonce()
    report = rig.submitter.step()
    assert [j.id for j in report.sent] == [job.id]
    sent = rig.store.get(job.id)
    assert sent.state is State.SUBMITTED and sent.nonce == 0 and len(rig.store.txs(job.id)) == 1
    report = rig.submitter.step()  # mined (automine) but not yet 1 block deep
    assert report.confirmed == [] and rig.store.get(job.id).mined_block is not None
    rig.chain.mine(1)
    report = rig.submitter.step()
    assert [j.id for j in report.confirmed] == [job.id] and report.gas_spent_wei > 0
    done = rig.store.get(job.id)
    assert done.state is State.CONFIRMED and done.gas_cost == report.gas_spent_wei
    assert rig.hub.request_status(job.request_id) is RequestStatus.FULFILLED
    assert rig.store.next_nonce(rig.signer.address) == 1


def test_already_fulfilled_by_someone_else_is_done_without_a_transaction(rig: Rig) -> None:
    job = rig.proved_job(outputs=(3,))
    rig.fulfill_as(rig.chain.dev, job, [3])
    report = rig.submitter.step()
    assert [j.id for j in report.confirmed] == [job.id] and report.sent == []
    done = rig.store.get(job.id)
    assert done.state is State.CONFIRMED and "already fulfilled" in (done.reason or "")
    assert rig.store.txs(job.id) == []


def test_an_invalid_proof_fails_with_the_decoded_error_and_spends_nothing(rig: Rig) -> None:
    job = rig.proved_job(proof=[1, 2, 3, 4, 5, 6, 7, 8])
    report = rig.submitter.step()
    (failed,) = report.failed
    assert failed.id == job.id and failed.reason_code == "invalid_proof"
    assert "InvalidProof()" in (failed.reason or "") and rig.store.txs(job.id) == []


def _self_transfer(rig: Rig, nonce: int, priority_gwei: int) -> str:
    """What another process using the same key might send."""
    tx = {
        "type": 2,
        "chainId": rig.submitter.chain_id,
        "nonce": nonce,
        "to": rig.signer.address,
        "value": 0,
        "gas": 21_000,
        "maxFeePerGas": 200 * GWEI,
        "maxPriorityFeePerGas": priority_gwei * GWEI,
    }
    signed = Account.sign_transaction(tx, rig.account.key)
    return rig.chain.w3.eth.send_raw_transaction(signed.raw_transaction).to_0x_hex()


def test_a_stuck_transaction_is_replaced_at_the_same_nonce(rig: Rig) -> None:
    job = rig.proved_job()
    rig.chain.rpc("evm_setAutomine", False)
    rig.submitter.step()
    (first,) = rig.store.txs(job.id)
    assert rig.pool() == {0: first.tx_hash}
    rig.clock.now += 10
    assert rig.submitter.step().replaced == []  # not yet: replace_after is 30 s
    rig.clock.now += 30
    report = rig.submitter.step()
    assert [j.id for j in report.replaced] == [job.id]
    first_again, second = rig.store.txs(job.id)
    assert first_again == first and second.nonce == first.nonce == 0
    assert (
        second.max_fee >= first.max_fee * 1.125
        and second.priority_fee >= first.priority_fee * 1.125
    )
    assert rig.pool() == {0: second.tx_hash}  # the node took the replacement
    rig.chain.mine(1)
    rig.submitter.step()
    rig.chain.mine(1)
    report = rig.submitter.step()
    assert [j.id for j in report.confirmed] == [job.id]
    assert rig.store.get(job.id).tx_hash == second.tx_hash
    assert rig.chain.w3.eth.get_transaction_count(rig.signer.address) == 1


def test_replacement_stops_at_the_fee_cap(devchain: Devchain, tmp_path: Path) -> None:
    rig = Rig(devchain, tmp_path)
    capped = GasPolicy(
        max_fee_wei=2_100_000_000, priority_fee_wei=GWEI, replace_after=1.0, bump_percent=10
    )
    rig.submitter.policy = capped
    job = rig.proved_job()
    rig.chain.rpc("evm_setAutomine", False)
    rig.submitter.step()
    rig.clock.now += 5
    assert rig.submitter.step().replaced == []
    assert len(rig.store.txs(job.id)) == 1 and rig.store.get(job.id).state is State.SUBMITTED


def test_a_rival_mined_first_in_the_same_block_settles_as_done(rig: Rig) -> None:
    job = rig.proved_job(outputs=(5,))
    rig.chain.rpc("evm_setAutomine", False)
    rig.submitter.step()
    rig.fulfill_as(rig.chain.dev, job, [5], maxPriorityFeePerGas=50 * GWEI, maxFeePerGas=100 * GWEI)
    rig.chain.mine(2)
    report = rig.submitter.step()
    assert [j.id for j in report.confirmed] == [job.id] and report.gas_spent_wei > 0
    done = rig.store.get(job.id)
    assert "already fulfilled" in (done.reason or "") and done.gas_cost == report.gas_spent_wei
    receipt = rig.chain.w3.eth.get_transaction_receipt(HexStr(done.tx_hash or ""))
    assert receipt["status"] == 0  # ours was mined, and reverted


def test_a_nonce_used_by_another_process_before_sending_is_resynced(rig: Rig) -> None:
    rig.submitter.sync_nonce()
    _self_transfer(rig, 0, 2)  # mined at once (automine): nonce 0 is gone
    job = rig.proved_job()
    report = rig.submitter.step()
    assert [j.id for j in report.requeued] == [job.id]
    assert rig.store.get(job.id).state is State.PROVED
    assert rig.store.next_nonce(rig.signer.address) == 1
    assert [j.id for j in rig.submitter.step().sent] == [job.id]
    assert rig.store.get(job.id).nonce == 1
    rig.chain.mine(1)
    rig.submitter.step()
    assert rig.store.get(job.id).state is State.CONFIRMED


def test_a_pending_transaction_displaced_by_another_process_is_sent_again(rig: Rig) -> None:
    job = rig.proved_job()
    rig.chain.rpc("evm_setAutomine", False)
    rig.submitter.step()
    rival = _self_transfer(rig, 0, 30)  # same nonce, higher fees: it displaces ours
    assert rig.pool() == {0: rival}
    rig.chain.mine(1)
    report = rig.submitter.step()
    assert [j.id for j in report.requeued] == [job.id] and [j.id for j in report.sent] == [job.id]
    assert rig.store.get(job.id).nonce == 1
    rig.chain.mine(2)
    rig.submitter.step()
    assert rig.store.get(job.id).state is State.CONFIRMED
    assert rig.hub.request_status(job.request_id) is RequestStatus.FULFILLED


def test_a_fulfillment_removed_by_a_reorg_is_mined_again(rig: Rig) -> None:
    watcher = Watcher(rig.hub, rig.store, WatcherSettings(confirmations=1), model_ids=[MODEL])
    job = rig.proved_job()
    snapshot = rig.chain.rpc("evm_snapshot")
    rig.submitter.step()
    rig.chain.mine(1)
    assert [j.id for j in rig.submitter.step().confirmed] == [job.id]
    watcher.poll()
    mined_at = rig.store.get(job.id).mined_block
    assert mined_at is not None and (rig.store.cursor() or 0) >= mined_at

    rig.chain.rpc("evm_revert", snapshot)  # the fulfillment is gone, the request stays
    rig.chain.mine(3)
    report = watcher.poll()
    assert report.fork_point is not None and report.fork_point < mined_at
    assert job.id in [j.id for j in report.reopened]
    assert rig.store.get(job.id).state is State.SUBMITTED
    assert rig.hub.request_status(job.request_id) is RequestStatus.PENDING

    step = rig.submitter.step()  # the node forgot the transaction: same bytes again
    assert [j.id for j in step.rebroadcast] == [job.id]
    rig.chain.mine(1)
    rig.submitter.step()
    assert rig.store.get(job.id).state is State.CONFIRMED
    assert rig.hub.request_status(job.request_id) is RequestStatus.FULFILLED
    assert len(rig.store.txs(job.id)) == 1  # never a second fulfillment transaction


@pytest.mark.slow
def test_an_rpc_outage_is_retried_with_backoff_and_bounded(
    mock_hub: CompiledContract, tmp_path: Path
) -> None:
    node = FixedPortAnvil(free_port(), "--state", str(tmp_path / "anvil-state.json")).start()
    try:
        rig = Rig(Devchain(node.url, mock_hub), tmp_path)
        # about 10 s of retries: ample for a restart that takes 1.5 s plus a loaded start-up
        rig.hub.retry = RetryPolicy(attempts=14, first_delay=0.1, max_delay=1.0)
        job = rig.proved_job()
        node.stop()
        restart = threading.Timer(1.5, node.start)
        restart.start()
        started = time.monotonic()
        report = rig.submitter.step()  # waits the outage out
        restart.join()
        assert time.monotonic() - started >= 1.0
        assert [j.id for j in report.sent] == [job.id]

        node.stop()
        rig.hub.retry = RetryPolicy(attempts=3, first_delay=0.05, max_delay=0.1)
        with pytest.raises(ChainConnectionError, match="failed 3 times"):
            rig.submitter.step()
        node.start()  # the submitted job is followed to the end
        # If the node's state dump missed the fulfillment's block, the node has forgotten the
        # transaction and the submitter sends the stored bytes again: a few steps at most.
        for _ in range(5):
            rig.chain.mine(2)
            rig.submitter.step()
            if rig.store.get(job.id).state is State.CONFIRMED:
                break
        assert rig.store.get(job.id).state is State.CONFIRMED
        assert len({t.nonce for t in rig.store.txs(job.id)}) == 1  # the same transaction
    finally:
        node.stop()
