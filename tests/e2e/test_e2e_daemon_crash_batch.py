"""``zkoracle serve`` with batching, killed with SIGKILL while batches are in flight.

Requests arrive several at a time, so proved jobs wait together and go out in one
``fulfillBatch``. Each run kills the daemon when a transaction is signed or sent but not
mined (blocks are held for half of the kills, so the next daemon finds its predecessor's
batch in the mempool), when one is mined but not confirmed, or after a random delay. Read
back from the chain at the end: every request has exactly one ``InferenceFulfilled``, every
transaction of the daemon's account succeeded and none repeated another's work (the
account's nonce equals its number of mined transactions, each fulfilling new requests), and
at least one batch of several requests was mined.
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter
from functools import partial
from pathlib import Path

import pytest
from web3 import Web3

from oracle.daemon.jobs import State
from oracle.daemon.store import Store
from tests.e2e.e2e_stack import DaemonProcess, Stack, wait_for, write_config

pytestmark = [pytest.mark.anvil, pytest.mark.slow]

RUNS = 8
SEED = int(os.environ.get("ZKORACLE_E2E_SEED", "20261129"))
BATCH_SELECTOR = Web3.keccak(text="fulfillBatch(bytes32,uint256[],int256[][],uint256[8][])")[:4]


def _in_flight(store: Store) -> bool:
    return any(j.mined_block is None for j in store.jobs(State.SUBMITTED))


def _daemon_txs(stack: Stack) -> list[tuple[bytes, int, int]]:
    """(selector, status, requests fulfilled) of every mined tx of the daemon's account."""
    event = stack.hub.events.InferenceFulfilled()
    return [
        (data[:4], int(receipt["status"]), len(event.process_receipt(receipt)))
        for data, receipt in stack.daemon_txs()
    ]


def test_sigkill_with_batches_in_flight_loses_and_repeats_nothing(
    stack: Stack, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    config = write_config(tmp_path, stack, confirmations=2, poll_interval=0.1, max_batch=16,
                          replace_after=5)  # fmt: skip
    daemon = DaemonProcess(config, stack.daemon.key.hex(), tmp_path / "daemon.log")
    miner = stack.miner
    assert miner is not None
    sent: list[str] = []
    kills: Counter[str] = Counter()
    store: Store | None = None
    try:
        for _ in range(RUNS):
            miner.hold()
            for _ in range(rng.randint(3, 6)):
                sent.append(stack.send_request([rng.randint(-(2**20), 2**20) for _ in range(3)]))
            miner.release()
            daemon.start()
            path = tmp_path / "state" / "oracle.db"
            wait_for("the store", path.exists, 30, 0.01)
            store = store or Store(path)
            held = rng.random() < 0.5
            if held:
                miner.hold()
            try:
                wait_for("a batch in flight", partial(_in_flight, store), 20, 0.001)
                kills["in flight"] += 1
            except AssertionError:
                kills["missed"] += 1
            time.sleep(rng.uniform(0, 0.05))
            daemon.kill()
            miner.release()
        daemon.start()
        ids = stack.request_ids(sent)
        done = store
        assert done is not None
        wait_for("every job confirmed", lambda: done.counts()[State.CONFIRMED] == len(ids), 90, 0.1)
        assert daemon.stop() == 0, daemon.tail()
    finally:
        miner.release()
        daemon.cleanup()
        if store is not None:
            store.close()
    print(f"seed {SEED}: {len(ids)} requests, kills {dict(kills)}")
    assert stack.fulfilled_counts() == Counter(dict.fromkeys(ids, 1))
    txs = _daemon_txs(stack)
    assert all(status == 1 for _, status, _ in txs), txs
    assert sum(n for _, _, n in txs) == len(ids)  # no transaction repeated another's work
    assert stack.w3.eth.get_transaction_count(stack.daemon.address) == len(txs)
    assert any(sel == BATCH_SELECTOR and n > 1 for sel, _, n in txs), txs
    assert kills["in flight"] >= 1, kills
