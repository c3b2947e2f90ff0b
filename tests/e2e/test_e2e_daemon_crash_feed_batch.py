"""``zkoracle serve`` posting feed rounds in batches, killed with SIGKILL while a batch is
in flight.

Four feeds of the MLP read a CSV file each. Before each run the test writes new values to
several of them at once, so their rounds come due together and go out in one
``updateFeedBatch``. Each run kills the daemon at a seeded point: a feed batch signed or
sent but not mined (with blocks held for some kills until the next daemon serves, so that
it finds its predecessor's batch in the mempool, dropped from the mempool and only in the
store, or replaced at its nonce with higher fees), mined but not confirmed, or a random
delay. The next run restarts it on the same store; a last run posts the final values.
Read back from the chain at the end:

* every round is posted exactly once and none is lost: the store's confirmed feed jobs and
  the hub's ``FeedUpdated`` events are the same (feed, round, inputs, outputs), no round
  was skipped as posted already, no feed job failed, and each feed ends on its last values;
* every transaction of the daemon's account succeeded and posted new rounds (its nonce
  equals its number of mined transactions), and one mined ``updateFeedBatch`` carried
  several rounds.
"""

from __future__ import annotations

import contextlib
import os
import random
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from web3 import Web3

from oracle.daemon.feeds import model_input_shape
from oracle.daemon.jobs import FINAL, Job, Kind, State, TxRecord
from oracle.daemon.store import Store
from tests.e2e.e2e_stack import DaemonProcess, Stack, wait_for, write_config

pytestmark = [pytest.mark.anvil, pytest.mark.slow]

RUNS = 8
FEEDS = 4
SEED = int(os.environ.get("ZKORACLE_E2E_SEED", "20261129"))
KILLS = ("sent", "sent-held", "sent-dropped", "sent-replaced", "mined", "delay")

Round = tuple[str, int, tuple[int, ...], tuple[int, ...]]  # feed id hex, round, ins, outs


def _feed_ids() -> list[bytes]:
    return [bytes(Web3.keccak(text=f"e2e-crash-feed-{i}")) for i in range(FEEDS)]


def _create_feeds(stack: Stack, feed_ids: list[bytes]) -> None:
    """Created by dev account 0, posted by the daemon's account."""
    for feed_id in feed_ids:
        stack.chain.transact(stack.hub.functions.createFeed(feed_id, stack.model_id), gas=500_000)
        fn = stack.hub.functions.setFeedUpdater(feed_id, stack.daemon.address)
        stack.chain.transact(fn, gas=200_000)


def _feed_tables(feed_ids: list[bytes]) -> str:
    # Only a move of the inputs makes a round due (the heartbeat never comes).
    return "".join(
        f'[[feeds]]\nid = "0x{f.hex()}"\nmodel = "mlp"\nheartbeat = 86400\n'
        f'deviation_percent = 5\npoll_interval = 0.1\n[feeds.source]\nkind = "csv"\n'
        f'path = "feed{i}.csv"\n'
        for i, f in enumerate(feed_ids)
    )


def _write_values(folder: Path, index: int, values: list[float]) -> None:
    """Atomically, so the daemon never reads half a file."""
    tmp = folder / f"feed{index}.csv.tmp"
    tmp.write_text("a,b,c\n" + ",".join(map(repr, values)) + "\n")
    os.replace(tmp, folder / f"feed{index}.csv")


def _feed_jobs(store: Store) -> list[Job]:
    return [j for j in store.jobs(limit=100_000) if j.kind is Kind.FEED]


def _in_flight(store: Store) -> set[tuple[str | None, int | None]]:
    """(transaction, mined block) of the feed jobs whose transaction is recorded and not
    mined, or mined and not confirmed."""
    return {(j.tx_hash, j.mined_block) for j in store.jobs(State.SUBMITTED) if j.kind is Kind.FEED}


def _leader_txs(store: Store, tx_hash: str | None) -> list[TxRecord]:
    """The transactions recorded at the nonce of `tx_hash` for the job that holds it."""
    for job in store.jobs(State.SUBMITTED):
        txs = store.txs(job.id)
        mine = [t for t in txs if t.tx_hash == tx_hash]
        if mine:
            return [t for t in txs if t.nonce == mine[0].nonce]
    return []


def _kill_point(stack: Stack, store: Store, kind: str, rng: random.Random) -> str:
    """Wait for a kill point of `kind` in this run; its name ("missed" if it never came). A
    transaction the store held already (the previous run's) is no kill point of this one."""
    assert stack.miner is not None
    if kind == "delay":
        time.sleep(rng.uniform(0.2, 2.0))
        return kind
    before = _in_flight(store)
    if kind.startswith("sent-"):
        # Blocks are held from now on, so the predecessor's batch must be confirmed first:
        # until then no round of its feeds comes due, and the wait could not end.
        inherited = {tx for tx, _ in before}

        def settled() -> bool:
            return not {tx for tx, _ in _in_flight(store)} & inherited

        with contextlib.suppress(AssertionError):
            wait_for("the predecessor's batch to settle", settled, 15, 0.005)
        before = _in_flight(store)
        stack.miner.hold()

    def reached() -> bool:
        new = _in_flight(store) - before
        if kind == "sent-replaced":  # the leader's transaction replaced at its nonce
            return any(len(_leader_txs(store, tx)) > 1 for tx, _ in new)
        return any((block is not None) == (kind == "mined") for _, block in new)

    try:
        wait_for(f"a feed batch {kind}", reached, 15, 0.001)
    except AssertionError:
        return "missed"
    if kind != "mined":
        time.sleep(rng.uniform(0, 0.05))
    return kind


def _posted(stack: Stack) -> list[Round]:
    """``FeedUpdated`` events of the daemon's account on the canonical chain."""
    logs = stack.hub.events.FeedUpdated().get_logs(from_block=0, to_block="latest")
    assert all(e["args"]["updater"] == stack.daemon.address for e in logs)
    return [
        ("0x" + bytes(e["args"]["feedId"]).hex(), int(e["args"]["round"]),
         tuple(e["args"]["inputs"]), tuple(e["args"]["outputs"]))
        for e in logs
    ]  # fmt: skip


def _confirmed(store: Store) -> list[Round]:
    return [
        (str(j.payload["feed_id"]), int(j.payload["round"]),
         tuple(int(v) for v in j.payload["inputs"]), tuple(j.outputs or ()))
        for j in _feed_jobs(store)
        if j.state is State.CONFIRMED
    ]  # fmt: skip


def _daemon_txs(stack: Stack) -> list[tuple[str, int, int]]:
    """(function, status, rounds posted) of every mined tx of the daemon's account."""
    out = []
    event = stack.hub.events.FeedUpdated()
    for data, receipt in stack.daemon_txs():
        fn, _ = stack.hub.decode_function_input(data)
        out.append((str(fn.fn_name), int(receipt["status"]), len(event.process_receipt(receipt))))
    return out


def _settled(stack: Stack, store: Store, last: dict[str, tuple[int, ...]]) -> Callable[[], bool]:
    """Every feed on the chain carries its last values and the store has nothing pending."""

    def done() -> bool:
        if any(j.state not in FINAL for j in _feed_jobs(store)):
            return False
        posted = sorted(_posted(stack), key=lambda p: p[1])
        newest = {feed: ins for feed, _, ins, _ in posted}
        return newest == last and len(_confirmed(store)) == len(posted)

    return done


def _crash_runs(
    stack: Stack, daemon: DaemonProcess, rng: random.Random, new_values: Callable[[], None]
) -> Counter[str]:
    """Start, wait for the planned kill point, SIGKILL, new values; once per run. Every
    kind of kill comes once, the other runs are drawn at random, in a random order."""
    miner = stack.miner
    assert miner is not None
    schedule = [*KILLS, *(rng.choice(KILLS) for _ in range(RUNS - len(KILLS)))]
    rng.shuffle(schedule)
    kills: Counter[str] = Counter()
    path = daemon.config.parent / "state" / "oracle.db"
    store: Store | None = None
    try:
        for planned in schedule:
            daemon.start()
            wait_for("the store", path.exists, 30, 0.01)
            store = store or Store(path)
            daemon.wait_started()
            miner.release()  # a batch held in the mempool since the last kill is mined now
            t0 = time.monotonic()
            kills[kind := _kill_point(stack, store, planned, rng)] += 1
            daemon.kill()
            assert not daemon.alive()
            print(f"run: {kind} after {time.monotonic() - t0:.2f} s", flush=True)
            if kind == "sent-dropped":  # lost by the node: only the store still has it
                stack.rpc("anvil_dropAllTransactions")
            elif kind not in ("sent-held", "sent-replaced"):
                miner.release()
            new_values()
    finally:
        if store is not None:
            store.close()
    return kills


def test_sigkill_with_feed_batches_in_flight_loses_and_repeats_no_round(
    stack: Stack, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    feed_ids = _feed_ids()
    _create_feeds(stack, feed_ids)
    shape = model_input_shape(str(stack.model_dir))
    feeds = _feed_tables(feed_ids)
    config = write_config(tmp_path, stack, confirmations=3, poll_interval=0.1, max_batch=16,
                          max_batch_wait=0.3, replace_after=1, feeds=feeds)  # fmt: skip
    daemon = DaemonProcess(config, stack.daemon.key.hex(), tmp_path / "daemon.log")
    miner = stack.miner
    assert miner is not None
    last: dict[str, tuple[int, ...]] = {}
    store: Store | None = None

    def new_values(indices: list[int] | None = None) -> None:
        """Values for every feed, or for 2 or more feeds drawn at random."""
        if indices is None:
            indices = sorted(rng.sample(range(FEEDS), rng.randint(2, FEEDS)))
        for i in indices:
            values = [rng.uniform(-1, 1) for _ in range(3)]
            _write_values(tmp_path, i, values)
            last["0x" + feed_ids[i].hex()] = tuple(shape.quantize(values, f"feed {i}"))

    try:
        new_values(list(range(FEEDS)))
        kills = _crash_runs(stack, daemon, rng, new_values)
        store = Store(tmp_path / "state" / "oracle.db")
        daemon.start().wait_started()
        miner.release()
        wait_for("every feed on its last values", _settled(stack, store, last), 60, 0.2)
        assert daemon.stop() == 0, daemon.tail()
        jobs = _feed_jobs(store)
        confirmed = _confirmed(store)
    finally:
        miner.release()
        daemon.cleanup()
        if store is not None:
            store.close()
    posted = _posted(stack)
    assert [j for j in jobs if j.state is State.FAILED] == []
    assert all("skipped" not in (j.reason or "") for j in jobs)  # none posted by a resend
    assert Counter((f, r) for f, r, _, _ in confirmed) == Counter((f, r) for f, r, _, _ in posted)
    assert sorted(confirmed) == sorted(posted)
    assert stack.hub.events.FeedRoundSkipped().get_logs(from_block=0, to_block="latest") == []
    txs = _daemon_txs(stack)
    sizes = sorted(n for _, _, n in txs)
    print(f"seed {SEED}: {len(posted)} rounds in txs of {sizes}, kills {dict(kills)}")
    assert all(status == 1 and n >= 1 for _, status, n in txs), txs
    assert sum(n for _, _, n in txs) == len(posted)
    assert stack.w3.eth.get_transaction_count(stack.daemon.address) == len(txs)
    assert any(fn == "updateFeedBatch" and n > 1 for fn, _, n in txs), txs
    assert sum(kills[k] for k in KILLS if k != "delay") >= 1, kills  # a batch was in flight
