"""``zkoracle serve`` killed with SIGKILL at random points, restarted, over and over.

Anvil mines a block every 0.1 s (a sent transaction waits in the mempool meanwhile) and
the daemon waits for 2 confirmations, so every stage of a job has a window to die in.
Each run adds 1-3 requests, starts the daemon and kills it (SIGKILL, no clean-up of any
kind) on one of: a random delay after the start, a proof in progress, a fulfillment
signed or sent but not mined, a fulfillment mined but not yet confirmed. After half of
the kills, no block is mined until the next daemon has run for a while: it finds its
predecessor's fulfillment still in the mempool, where the ``AlreadyFulfilled`` dry run
cannot see it. A last run lets the daemon finish.

What "never submits the same fulfillment twice" means here, checked on the chain itself
(every block read back), not on the daemon's word:

* each request has exactly one ``InferenceFulfilled`` event;
* each request has exactly one mined ``fulfill`` transaction from the daemon's account,
  and it succeeded: no second transaction at another nonce, not even one that reverted
  ``AlreadyFulfilled`` (replacements at the same nonce are allowed: only one can be
  mined);
* the account's nonce equals the number of requests: no nonce went to anything else.
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from hexbytes import HexBytes
from web3.exceptions import TransactionNotFound

from oracle.daemon.jobs import State
from oracle.daemon.store import Store
from tests.e2e.e2e_stack import DaemonProcess, Stack, wait_for, write_config

pytestmark = [pytest.mark.anvil, pytest.mark.slow]

RUNS = 20
SEED = int(os.environ.get("ZKORACLE_E2E_SEED", "20240611"))
TRIGGERS = ("delay", "proving", "sent", "mined")


def _trigger(name: str, store: Store, delay: float) -> Callable[[], bool]:
    started = time.monotonic()

    def fired() -> bool:
        if name == "delay":
            return time.monotonic() - started >= delay
        if name == "proving":
            return store.counts()[State.PROVING] > 0
        submitted = store.jobs(State.SUBMITTED)
        if name == "sent":
            return any(j.mined_block is None for j in submitted)
        return any(j.mined_block is not None for j in submitted)

    return fired


def _stages_at_kill(stack: Stack, store: Store) -> set[str]:
    """Where the work stood when the daemon died, from the store and the chain."""
    stages = {"proving"} if store.counts()[State.PROVING] else set()
    for job in store.jobs(State.SUBMITTED):
        assert job.tx_hash is not None
        tx = HexBytes(job.tx_hash)
        try:
            stack.w3.eth.get_transaction(tx)
        except TransactionNotFound:
            stages.add("signed, not broadcast")
            continue
        try:
            stack.w3.eth.get_transaction_receipt(tx)
        except TransactionNotFound:
            stages.add("sent, not mined")
            continue
        stages.add("mined, not confirmed")
    return stages or {"other"}


def _open_store(path: Path) -> Store:
    wait_for("the daemon to create its store", path.exists, 30, 0.01)
    return Store(path)


def test_sigkill_at_random_points_loses_and_repeats_no_fulfillment(
    stack: Stack, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    config = write_config(tmp_path, stack, confirmations=2, poll_interval=0.1)
    daemon = DaemonProcess(config, stack.daemon.key.hex(), tmp_path / "daemon.log")
    store: Store | None = None
    sent: list[str] = []
    stages: Counter[str] = Counter()
    miner = stack.miner
    assert miner is not None
    held = False
    try:
        for _ in range(RUNS):
            for _ in range(rng.randint(1, 3)):
                sent.append(stack.send_request([rng.randint(-(2**20), 2**20) for _ in range(3)]))
            daemon.start()
            store = store or _open_store(tmp_path / "state" / "oracle.db")
            if held:
                time.sleep(rng.uniform(0.5, 2.5))
                miner.release()
            trigger = rng.choice(TRIGGERS)
            fired = _trigger(trigger, store, rng.uniform(0.2, 3.0))
            try:
                wait_for(f"trigger {trigger}", fired, 20, 0.001)
            except AssertionError:
                stages["trigger missed"] += 1
            # At once when a transaction was just signed: the broadcast may not be done.
            time.sleep(0 if trigger == "sent" else rng.uniform(0, 0.02))
            assert daemon.alive(), daemon.tail()
            held = rng.random() < 0.5
            if held:
                miner.hold()
            daemon.kill()
            stages.update(_stages_at_kill(stack, store))

        daemon.start()
        miner.release()
        daemon.wait_started()
        ids = stack.request_ids(sent)
        assert store is not None
        done = store  # bound for the closure
        wait_for(
            "every request fulfilled and confirmed",
            lambda: done.counts()[State.CONFIRMED] == len(ids),
            60,
            0.1,
        )
        assert daemon.stop() == 0, daemon.tail()
    finally:
        miner.release()
        daemon.cleanup()
        if store is not None:
            store.close()

    print(f"seed {SEED}, {RUNS} kills, {len(ids)} requests; work at each kill: {dict(stages)}")
    assert ids == list(range(1, len(ids) + 1))
    assert stack.fulfilled_counts() == Counter(dict.fromkeys(ids, 1))
    mined = stack.daemon_fulfill_txs()
    assert sorted(mined) == ids
    for request_id, receipts in mined.items():
        assert [r["status"] for r in receipts] == [1], f"request {request_id}: {receipts}"
    assert stack.w3.eth.get_transaction_count(stack.daemon.address) == len(ids)
    check = Store(tmp_path / "state" / "oracle.db")
    try:
        jobs = check.jobs()
        assert len(jobs) == len(ids) and all(j.state is State.CONFIRMED for j in jobs)
        for job in jobs:  # recorded before it was sent; replacements only: one nonce
            nonces = {tx.nonce for tx in check.txs(job.id)}
            assert len(nonces) == 1, f"job {job.id} (request {job.request_id}): nonces {nonces}"
    finally:
        check.close()
    # The runs did kill the daemon in the middle of the work that matters.
    assert stages["proving"] >= 1, stages
    assert stages["sent, not mined"] + stages["signed, not broadcast"] >= 1, stages
    assert stages["mined, not confirmed"] >= 1, stages
