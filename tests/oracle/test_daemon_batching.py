"""The daemon's batching submitter against the real hub on Anvil.

Jobs are made from the hub's own request logs and proved with trapdoor proofs of the
registered verifier, then sent by `BatchingSubmitter`: the chain is read back to check
that every request is fulfilled exactly once, by as few transactions as the plan says.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from eth_account import Account
from web3.types import RPCEndpoint

from oracle.accounts import Signer
from oracle.daemon.batching import BatchingSubmitter, plan_batches
from oracle.daemon.fees import GasPolicy, first_fees
from oracle.daemon.jobs import Job, State, job_of
from oracle.daemon.store import Store
from oracle.hub import Hub, RequestEvent
from tests.oracle.hub_harness import RISK_PACKED, HubEnv, open_env

pytestmark = [pytest.mark.anvil, pytest.mark.xdist_group("daemon-batching")]
GWEI = 10**9
POLICY = GasPolicy(max_fee_wei=100 * GWEI, priority_fee_wei=GWEI, replace_after=30.0,
                   bump_percent=12.5)  # fmt: skip
INPUTS = [1, -2, 3, -4, 5, -6, 7, -8]


@pytest.fixture(scope="module")
def env() -> Iterator[HubEnv]:
    with open_env("anvil") as hub_env:
        yield hub_env


class Rig:
    def __init__(self, env: HubEnv, tmp_path: Path, max_batch: int = 16, wait: float = 0.0):
        self.env = env
        account = Account.create()
        env.chain.w3.provider.make_request(
            RPCEndpoint("anvil_setBalance"), [account.address, hex(10**20)]
        )
        self.signer = Signer.from_key(account.key)
        self.hub = Hub(env.chain.w3, env.hub.address)
        self.store = Store(tmp_path / f"batch-{account.address}.db")
        self.now = 1_000.0
        self.submitter = self.make_submitter(max_batch, wait)

    def make_submitter(self, max_batch: int = 16, wait: float = 0.0) -> BatchingSubmitter:
        return BatchingSubmitter(
            self.hub, self.store, self.signer, POLICY, confirmations=1, clock=lambda: self.now,
            max_batch=max_batch, max_batch_wait=wait,
        )  # fmt: skip

    def proved(self, n: int, bad: Sequence[int] = ()) -> list[Job]:
        """n requests and their proved jobs; jobs at positions `bad` carry a wrong proof."""
        rids = [self.env.request(RISK_PACKED, INPUTS) for _ in range(n)]
        head = int(self.env.chain.w3.eth.block_number)
        logs = self.hub.request_logs(0, head, [self.env.id(RISK_PACKED)])
        events = {e.request_id: e for e in logs if isinstance(e, RequestEvent)}
        jobs = []
        for i, rid in enumerate(rids):
            job, _ = self.store.insert_seen(job_of(events[rid]))
            self.store.start_proving(job.id)
            outputs = [rid % 100]
            proof = self.env.proof(RISK_PACKED, rid, INPUTS, outputs, self.signer.address)
            if i in bad:
                proof = self.env.proof(
                    RISK_PACKED, rid, INPUTS, [outputs[0] + 1], self.signer.address
                )
            data = b"".join(w.to_bytes(32, "big") for w in proof)
            calldata = self.hub.fulfill_calldata(rid, outputs, proof)
            jobs.append(self.store.mark_proved(job.id, outputs, data, calldata))
        return jobs

    def run(self, steps: int = 4) -> None:
        for _ in range(steps):
            self.submitter.step()
            self.env.chain.w3.provider.make_request("anvil_mine", ["0x1"])  # type: ignore[arg-type]

    def states(self, jobs: Sequence[Job]) -> list[State]:
        return [self.store.get(j.id).state for j in jobs]

    def sent_count(self) -> int:
        return int(self.env.chain.w3.eth.get_transaction_count(self.signer.address))

    def fulfilled_by_us(self, jobs: Sequence[Job]) -> int:
        return sum(1 for j in jobs if self.env.hub.functions.result(j.request_id).call()[0] == 2)


def test_plan_groups_by_model_and_respects_size_and_wait(env: HubEnv, tmp_path: Path) -> None:
    rig = Rig(env, tmp_path)
    jobs = rig.proved(5)
    batches, singles = plan_batches(jobs, 2, 0.0, 0.0, set())
    assert [len(b) for b in batches] == [2, 2] and len(singles) == 1
    batches, singles = plan_batches(jobs, 16, 10.0, jobs[0].updated_at + 1, set())
    assert batches == [] and singles == []  # waiting for more
    batches, singles = plan_batches(jobs, 16, 10.0, jobs[0].updated_at + 11, {jobs[0].id})
    assert [len(b) for b in batches] == [4] and singles == [jobs[0]]


def test_waiting_jobs_go_out_in_one_transaction(env: HubEnv, tmp_path: Path) -> None:
    rig = Rig(env, tmp_path)
    jobs = rig.proved(5)
    rig.submitter.step()
    submitted = [rig.store.get(j.id) for j in jobs]
    assert {j.state for j in submitted} == {State.SUBMITTED}
    assert len({j.tx_hash for j in submitted}) == 1 and len({j.nonce for j in submitted}) == 1
    rig.run()
    assert rig.states(jobs) == [State.CONFIRMED] * 5
    assert rig.sent_count() == 1 and rig.fulfilled_by_us(jobs) == 5


def test_a_bad_proof_splits_the_batch_and_the_rest_go_alone(env: HubEnv, tmp_path: Path) -> None:
    rig = Rig(env, tmp_path)
    jobs = rig.proved(3, bad=[1])
    rig.run()
    assert rig.states(jobs) == [State.CONFIRMED, State.FAILED, State.CONFIRMED]
    assert rig.store.get(jobs[1].id).reason_code == "invalid_proof"
    assert rig.sent_count() == 2  # two single fulfillments; the bad one's dry run reverted


def test_a_request_fulfilled_meanwhile_is_skipped_not_failed(env: HubEnv, tmp_path: Path) -> None:
    rig = Rig(env, tmp_path)
    jobs = rig.proved(3)
    rival, rid = env.other, jobs[0].request_id
    proof = env.proof(RISK_PACKED, rid, INPUTS, [7], rival)
    env.chain.send(env.hub.functions.fulfill(rid, [7], proof), rival)  # gets in first
    rig.run()
    assert rig.states(jobs) == [State.CONFIRMED] * 3
    assert "skipped in a batch" in (rig.store.get(jobs[0].id).reason or "")
    assert env.hub.functions.result(rid).call()[1] == [7]  # the rival's answer stands
    assert rig.sent_count() == 1


def test_a_restart_with_a_batch_signed_but_not_broadcast_sends_the_same_bytes(
    env: HubEnv, tmp_path: Path
) -> None:
    rig = Rig(env, tmp_path)
    jobs = rig.proved(4)
    # What a crash between recording and broadcasting leaves: every member submitted
    # under one signed transaction the node has never seen.
    sub = rig.submitter
    calldata = sub._batch_calldata(jobs)
    nonce = sub.sync_nonce()
    record = sub._sign_data(
        jobs[0], calldata, nonce, first_fees(sub._base_fee(), POLICY), 3_000_000
    )
    rig.store.record_batch_tx(record, [j.id for j in jobs])
    rig.submitter = rig.make_submitter()  # a new process on the same store
    rig.submitter.sync_nonce()
    rig.run()
    assert rig.states(jobs) == [State.CONFIRMED] * 4
    assert rig.sent_count() == 1
    assert rig.store.get(jobs[2].id).tx_hash == record.tx_hash
