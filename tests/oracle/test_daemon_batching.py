"""The daemon's batching submitter against the real hub on Anvil.

Jobs are made from the hub's own request logs (and feed rounds as the scheduler makes
them) and proved with trapdoor proofs of the registered verifier, then sent by
`BatchingSubmitter`: the chain is read back to check that every request is fulfilled, and
every round published, exactly once, by as few transactions as the plan says.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import pytest
from eth_account import Account
from eth_utils.crypto import keccak
from web3.types import RPCEndpoint

from oracle.accounts import Signer
from oracle.daemon.batching import BatchingSubmitter, plan_batches
from oracle.daemon.fees import GasPolicy, first_fees
from oracle.daemon.jobs import Job, Kind, NewJob, State, feed_key
from oracle.daemon.store import Store
from oracle.daemon.watcher import job_of
from oracle.hub import Hub, RequestEvent
from oracle.statement import feed_binding
from tests.oracle.hub_harness import RISK_PACKED, SIGNAL, ZERO, HubEnv, open_env

pytestmark = [pytest.mark.anvil, pytest.mark.xdist_group("daemon-batching")]
GWEI = 10**9
POLICY = GasPolicy(max_fee_wei=100 * GWEI, priority_fee_wei=GWEI, replace_after=30.0,
                   bump_percent=12.5)  # fmt: skip
INPUTS = [1, -2, 3, -4, 5, -6, 7, -8]
FEED_INPUTS = [100, -200, 300, -400]


@pytest.fixture(scope="module")
def env() -> Iterator[HubEnv]:
    with open_env("anvil") as hub_env:
        yield hub_env


class Rig:
    def __init__(self, env: HubEnv, tmp_path: Path, max_batch: int = 16, wait: float = 0.0):
        self.env = env
        account = Account.create()
        self.anvil = env.chain.chain.kind == "anvil"
        if self.anvil:
            env.chain.w3.provider.make_request(
                RPCEndpoint("anvil_setBalance"), [account.address, hex(10**20)]
            )
        else:
            env.chain.chain.fund(account.address, 10**20)
        self.signer = Signer.from_key(account.key)
        self.hub = Hub(env.chain.w3, env.hub.address)
        self.store = Store(tmp_path / f"batch-{account.address}.db")
        self.now = 1_000.0
        self.submitter = self.make_submitter(max_batch, wait)

    def make_submitter(self, max_batch: int = 16, wait: float = 0.0) -> BatchingSubmitter:
        # The embedded chain runs every pairing in Python: a fixed limit, no estimates.
        policy = POLICY if self.anvil else replace(POLICY, gas_limit=8_000_000)
        return BatchingSubmitter(
            self.hub, self.store, self.signer, policy, confirmations=1, clock=lambda: self.now,
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

    def feed(self, name: str, anyone: bool = False) -> bytes:
        """A hub feed of SIGNAL that this rig's account (or `anyone`) may update."""
        env, feed_id = self.env, keccak(text=f"daemon-feed:{name}:{self.signer.address}")
        env.chain.send(env.hub.functions.createFeed(feed_id, env.id(SIGNAL)), env.owner)
        updater = ZERO if anyone else self.signer.address
        env.chain.send(env.hub.functions.setFeedUpdater(feed_id, updater), env.owner)
        return feed_id

    def feed_proof(self, feed_id: bytes, round_: int, out: int, sender: str) -> list[int]:
        chain_id = self.env.chain.chain.chain_id
        binding = feed_binding(chain_id, self.env.hub.address, feed_id, round_, sender)
        return SIGNAL.forge(SIGNAL.layout.public_inputs(binding, FEED_INPUTS, [out]))

    def proved_round(self, feed_id: bytes, round_: int, out: int, bad: bool = False) -> Job:
        """A proved feed-round job, as the scheduler and the provers leave it."""
        payload = {"feed_id": "0x" + feed_id.hex(), "round": round_, "inputs": FEED_INPUTS}
        block = self.env.chain.w3.eth.get_block("latest")
        new = NewJob(Kind.FEED, feed_key(feed_id, round_), self.env.id(SIGNAL), payload,
                     int(block["number"]), block["hash"].to_0x_hex())  # fmt: skip
        job, _ = self.store.insert_seen(new)
        self.store.start_proving(job.id)
        proof = self.feed_proof(feed_id, round_, out + bad, self.signer.address)
        data = b"".join(w.to_bytes(32, "big") for w in proof)
        calldata = self.hub.update_feed_calldata(feed_id, FEED_INPUTS, [out], round_, proof)
        return self.store.mark_proved(job.id, [out], data, calldata)

    def run(self, steps: int = 4) -> None:
        for _ in range(steps):
            self.submitter.step()
            if self.anvil:
                self.env.chain.w3.provider.make_request("anvil_mine", ["0x1"])  # type: ignore[arg-type]
            else:
                self.env.chain.w3.provider.ethereum_tester.mine_blocks(1)  # type: ignore[attr-defined]

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


# -- feed rounds -----------------------------------------------------------------------------


def test_due_rounds_of_one_models_feeds_go_out_in_one_update_feed_batch(
    env: HubEnv, tmp_path: Path
) -> None:
    rig = Rig(env, tmp_path)
    feeds = [rig.feed(name) for name in ("a", "b", "c")]
    jobs = [rig.proved_round(f, 1, 10 + i) for i, f in enumerate(feeds)]
    requests = rig.proved(2)
    batches, singles = plan_batches([jobs[2], *requests, jobs[0], jobs[1]], 16, 0.0, rig.now, set())
    assert sorted([j.kind for j in b] for b in batches) == [[Kind.FEED] * 3, [Kind.REQUEST] * 2]
    (feed_batch,) = [b for b in batches if b[0].kind is Kind.FEED]
    assert [j.payload["feed_id"] for j in feed_batch] == sorted(j.payload["feed_id"] for j in jobs)
    assert singles == []
    rig.run()
    assert rig.states(jobs + requests) == [State.CONFIRMED] * 5
    assert rig.sent_count() == 2  # one updateFeedBatch, one fulfillBatch
    assert [env.hub.functions.latest(f).call()[:2] for f in feeds] == [
        [[10], 1],
        [[11], 1],
        [[12], 1],
    ]
    tx = rig.store.get(jobs[0].id).tx_hash
    assert {rig.store.get(j.id).tx_hash for j in jobs} == {tx}


def test_a_round_posted_meanwhile_is_skipped_and_done(env: HubEnv, tmp_path: Path) -> None:
    rig = Rig(env, tmp_path)
    a, b = rig.feed("posted-a", anyone=True), rig.feed("posted-b")
    jobs = [rig.proved_round(a, 1, 5), rig.proved_round(b, 1, 6)]
    rival = env.other  # anyone may post `a`: a rival gets round 1 in first
    proof = rig.feed_proof(a, 1, 9, rival)
    env.chain.send(env.hub.functions.updateFeed(a, FEED_INPUTS, [9], 1, proof), rival)
    rig.run()
    assert rig.states(jobs) == [State.CONFIRMED] * 2
    assert "already posted" in (rig.store.get(jobs[0].id).reason or "")
    assert env.hub.functions.latest(a).call()[:2] == [[9], 1]  # the earlier round stands
    assert env.hub.functions.latest(b).call()[:2] == [[6], 1]


def test_a_bad_round_proof_splits_the_feed_batch(env: HubEnv, tmp_path: Path) -> None:
    rig = Rig(env, tmp_path)
    feeds = [rig.feed(f"split-{i}") for i in range(3)]
    jobs = [rig.proved_round(f, 1, 20 + i, bad=i == 1) for i, f in enumerate(feeds)]
    rig.run()
    assert rig.states(jobs) == [State.CONFIRMED, State.FAILED, State.CONFIRMED]
    assert rig.store.get(jobs[1].id).reason_code == "invalid_proof"
    assert rig.sent_count() == 2  # the two good rounds alone; the bad one's dry run reverted
    assert env.hub.functions.latest(feeds[1]).call()[1] == 0


def test_a_restart_with_a_feed_batch_signed_but_not_broadcast_sends_it_once(
    env: HubEnv, tmp_path: Path
) -> None:
    rig = Rig(env, tmp_path)
    feeds = [rig.feed(f"restart-{i}") for i in range(3)]
    jobs = [rig.proved_round(f, 1, 30 + i) for i, f in enumerate(feeds)]
    sub = rig.submitter
    calldata = sub._batch_calldata(jobs)
    record = sub._sign_data(
        jobs[0], calldata, sub.sync_nonce(), first_fees(sub._base_fee(), POLICY), 3_000_000
    )
    rig.store.record_batch_tx(record, [j.id for j in jobs])
    rig.submitter = rig.make_submitter()  # a new process on the same store
    rig.submitter.sync_nonce()
    rig.run()
    assert rig.states(jobs) == [State.CONFIRMED] * 3
    assert rig.sent_count() == 1
    assert [env.hub.functions.latest(f).call()[1] for f in feeds] == [1, 1, 1]


@pytest.fixture(scope="module")
def embedded_env() -> Iterator[HubEnv]:
    with open_env("embedded") as hub_env:
        yield hub_env


@pytest.mark.slow
def test_feed_rounds_batch_on_the_embedded_chain(embedded_env: HubEnv, tmp_path: Path) -> None:
    rig = Rig(embedded_env, tmp_path)
    feeds = [rig.feed(f"embedded-{i}") for i in range(2)]
    jobs = [rig.proved_round(f, 1, 40 + i) for i, f in enumerate(feeds)]
    rig.run(3)
    assert rig.states(jobs) == [State.CONFIRMED] * 2
    assert rig.sent_count() == 1
    hub = embedded_env.hub
    assert [hub.functions.latest(f).call()[:2] for f in feeds] == [[[40], 1], [[41], 1]]
