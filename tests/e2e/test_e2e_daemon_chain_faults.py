"""Faults of the chain under a running ``zkoracle serve``: a reorganisation that removes a
confirmed fulfillment, a nonce taken by another sender of the same account (before and
after the daemon sent its transaction), and a transaction stuck below the base fee.

Each ends with one fulfillment per request on the canonical chain and one mined fulfill
transaction per request from the daemon's account.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hexbytes import HexBytes
from web3.exceptions import TransactionNotFound

from oracle.daemon.jobs import Job, State
from oracle.daemon.store import Store
from tests.e2e.e2e_stack import DaemonProcess, Stack, wait_for, write_config

pytestmark = [pytest.mark.anvil, pytest.mark.slow]
GWEI = 10**9


@pytest.fixture
def served(stack: Stack, tmp_path: Path) -> Iterator[tuple[DaemonProcess, Store]]:
    """The daemon on `stack` (1 confirmation, stuck transactions replaced after 1 s)."""
    config = write_config(tmp_path, stack, confirmations=1, replace_after=1.0)
    daemon = DaemonProcess(config, stack.daemon.key.hex(), tmp_path / "daemon.log")
    daemon.start()
    try:
        path = tmp_path / "state" / "oracle.db"
        wait_for("the store", path.exists, 30)
        store = Store(path)
        try:
            yield daemon, store
        finally:
            store.close()
        assert daemon.stop() == 0, daemon.tail()
    finally:
        daemon.cleanup()


def _one_fulfillment_each(stack: Stack, ids: list[int]) -> None:
    assert stack.fulfilled_counts() == Counter(dict.fromkeys(ids, 1))
    mined = stack.daemon_fulfill_txs()
    assert {i: [r["status"] for r in rs] for i, rs in mined.items()} == {i: [1] for i in ids}


def _job(store: Store, request_id: int) -> Job:
    (job,) = store.with_key_prefix(f"request:{request_id}:")
    return job


def _broadcast(stack: Stack, store: Store, request_id: int) -> Callable[[], bool]:
    """True once the request's fulfillment is signed and in the node's mempool."""

    def sent() -> bool:
        job = _job(store, request_id) if store.with_key_prefix(f"request:{request_id}:") else None
        if job is None or job.state is not State.SUBMITTED or job.tx_hash is None:
            return False
        try:
            stack.w3.eth.get_transaction(HexBytes(job.tx_hash))
        except TransactionNotFound:
            return False
        return True

    return sent


def _pending_fulfillment(stack: Stack, store: Store, inputs: list[int]) -> tuple[int, Any]:
    """With the miner paused: a request mined and confirmed, its fulfillment sent and left
    in the mempool. (request id, the pending transaction)."""
    assert stack.miner is not None
    tx = stack.send_request(inputs)
    stack.miner.mine(2)
    (request_id,) = stack.request_ids([tx])
    wait_for("the fulfillment in the mempool", _broadcast(stack, store, request_id), 30, 0.01)
    tx_hash = _job(store, request_id).tx_hash
    assert tx_hash is not None
    return request_id, stack.w3.eth.get_transaction(HexBytes(tx_hash))


def _send_as_daemon(stack: Stack, nonce: int, max_fee: int, priority_fee: int) -> str:
    """Another process with the daemon's key: a plain transfer at `nonce`."""
    tx: dict[str, Any] = {
        "type": 2,
        "chainId": stack.chain.chain_id,
        "nonce": nonce,
        "to": stack.daemon.address,
        "value": 0,
        "gas": 21000,
        "maxFeePerGas": max_fee,
        "maxPriorityFeePerGas": priority_fee,
    }
    signed = stack.daemon.sign_transaction(tx)
    return str(stack.w3.eth.send_raw_transaction(signed.raw_transaction).to_0x_hex())


def test_a_reorg_removing_a_fulfillment_gets_it_fulfilled_again(
    stack: Stack, served: tuple[DaemonProcess, Store]
) -> None:
    daemon, store = served
    assert stack.miner is not None
    request_id = stack.request([1000, 2000, -3000])
    wait_for("the confirmation", lambda: store.counts()[State.CONFIRMED] == 1, 60)
    (first,) = stack.daemon_fulfill_txs()[request_id]
    with stack.miner.paused():
        depth = int(stack.w3.eth.block_number) - int(first["blockNumber"]) + 1
        stack.rpc("anvil_reorg", depth, [])  # same height, new blocks, fulfillment gone
        assert stack.status(request_id) == 1 and not stack.fulfilled_counts()

    def fulfilled_again() -> bool:
        history = [detail for _, _, detail in store.history(_job(store, request_id).id)]
        reopened = "fulfillment reorged out" in history
        return reopened and _job(store, request_id).state is State.CONFIRMED

    wait_for("the fulfillment after the reorg", fulfilled_again, 90)
    assert stack.status(request_id) == 2
    _one_fulfillment_each(stack, [request_id])
    (again,) = stack.daemon_fulfill_txs()[request_id]
    assert again["blockHash"] != first["blockHash"]
    # The same bytes again, or a replacement of them (if they had waited replace_after):
    # one nonce, one mined transaction.
    txs = [tx.tx_hash for tx in store.txs(_job(store, request_id).id)]
    assert {first["transactionHash"].to_0x_hex(), again["transactionHash"].to_0x_hex()} <= set(txs)
    assert len({tx.nonce for tx in store.txs(_job(store, request_id).id)}) == 1
    assert any(e["msg"].startswith("chain reorganisation") for e in daemon.logs())


def test_taken_nonces_and_a_stuck_fee_are_resolved(
    stack: Stack, served: tuple[DaemonProcess, Store]
) -> None:
    _, store = served
    assert stack.miner is not None
    ids: list[int] = []

    # Another sender replaces the daemon's pending fulfillment with a pricier transaction.
    with stack.miner.paused():
        taken, pending = _pending_fulfillment(stack, store, [1, 2, 3])
        rival = _send_as_daemon(stack, pending["nonce"], 3 * pending["maxFeePerGas"],
                                3 * pending["maxPriorityFeePerGas"])  # fmt: skip
        stack.miner.mine()
        assert stack.receipt(rival)["status"] == 1
    ids.append(taken)
    wait_for("the fulfillment at a new nonce", lambda: stack.status(taken) == 2, 30)
    assert len({tx.nonce for tx in store.txs(_job(store, taken).id)}) == 2

    # Another sender uses the nonce the daemon has reserved for its next fulfillment.
    nonce = stack.w3.eth.get_transaction_count(stack.daemon.address, "pending")
    stack.receipt(_send_as_daemon(stack, nonce, 100 * GWEI, GWEI))
    early = stack.request([4, 5, 6])
    ids.append(early)
    wait_for("the fulfillment after 'nonce too low'", lambda: stack.status(early) == 2, 30)
    assert any("taken by another" in (d or "") for _, _, d in store.history(_job(store, early).id))

    # The base fee jumps above the fulfillment's fee cap: the daemon replaces it.
    with stack.miner.paused():
        stuck, pending = _pending_fulfillment(stack, store, [-7, 8, -9])
        stack.rpc("anvil_setNextBlockBaseFeePerGas", hex(100 * GWEI))
        stack.miner.mine()
        with pytest.raises(TransactionNotFound):
            stack.w3.eth.get_transaction_receipt(pending["hash"])
    ids.append(stuck)
    wait_for("the replacement to be mined", lambda: stack.status(stuck) == 2, 30)
    txs = store.txs(_job(store, stuck).id)
    assert len(txs) >= 2 and len({tx.nonce for tx in txs}) == 1
    (mined,) = stack.daemon_fulfill_txs()[stuck]
    assert mined["transactionHash"] != pending["hash"]
    assert int(mined["effectiveGasPrice"]) > pending["maxFeePerGas"]

    wait_for("the store", lambda: store.counts()[State.CONFIRMED] == len(ids), 30)
    _one_fulfillment_each(stack, ids)
    # Three fulfillments and two transfers of the other sender: no nonce wasted.
    assert stack.w3.eth.get_transaction_count(stack.daemon.address) == len(ids) + 2
