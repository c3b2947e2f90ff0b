"""The watcher on a real Anvil: confirmation depth, bounded ranges, reorgs and re-checks."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from oracle.daemon.jobs import State, TxRecord
from oracle.daemon.store import Store
from oracle.daemon.watcher import Watcher, WatcherSettings
from oracle.hub import RequestStatus
from tests.oracle.daemon.daemon_helpers import MODEL, Devchain

pytestmark = pytest.mark.anvil


def _watcher(devchain: Devchain, tmp_path: Path, **settings: int) -> Watcher:
    store = Store(tmp_path / "watch.db")
    return Watcher(devchain.daemon_hub(), store, WatcherSettings(**settings), model_ids=[MODEL])


def test_only_confirmed_requests_become_jobs_once(devchain: Devchain, tmp_path: Path) -> None:
    watcher = _watcher(devchain, tmp_path, confirmations=3)
    first = devchain.request([1, 2])
    second = devchain.request([3, -4])
    report = watcher.poll()
    assert report.new_jobs == [] and report.cursor == devchain.head() - 3
    devchain.mine(2)  # the first request is now 3 deep, the second 2
    report = watcher.poll()
    assert [j.request_id for j in report.new_jobs] == [first]
    devchain.mine(1)
    report = watcher.poll()
    (job,) = report.new_jobs
    assert job.request_id == second and job.payload["inputs"] == [3, -4]
    assert job.model_id == MODEL and job.state is State.SEEN
    assert watcher.poll().new_jobs == [] and len(watcher.store.jobs()) == 2


def test_other_models_are_ignored_and_ranges_stay_bounded(
    devchain: Devchain, tmp_path: Path
) -> None:
    watcher = _watcher(
        devchain, tmp_path, confirmations=0, max_block_range=4, max_ranges_per_poll=2
    )
    devchain.request([9], model=b"\x01" * 32)
    ids = [devchain.request([i]) for i in range(3)]
    devchain.mine(20)
    head = devchain.head()
    cursors: list[int] = []
    while True:
        report = watcher.poll()
        assert report.cursor is not None
        cursors.append(report.cursor)
        if report.caught_up:
            break
    assert cursors[0] == 7 and cursors[-1] == head  # 2 ranges of 4 blocks per poll
    assert all(b - a <= 8 for a, b in itertools.pairwise(cursors))
    assert sorted(j.request_id for j in watcher.store.jobs()) == ids


def test_a_reorg_rewinds_and_a_replaced_request_supersedes_the_old(
    devchain: Devchain, tmp_path: Path
) -> None:
    watcher = _watcher(devchain, tmp_path, confirmations=1)
    devchain.request([5])
    devchain.mine(1)
    watcher.poll()
    snapshot = devchain.rpc("evm_snapshot")
    fork = devchain.head()
    old_id = devchain.request([6, 6])
    devchain.mine(2)
    (old,) = watcher.poll().new_jobs
    assert old.request_id == old_id

    devchain.rpc("evm_revert", snapshot)  # the chain forgets the request ...
    new_id = devchain.request([7, 7])  # ... and gives its id to another one
    devchain.mine(4)
    report = watcher.poll()
    assert new_id == old_id
    assert report.fork_point is not None and report.fork_point <= fork
    assert [j.id for j in report.reopened] == [old.id]
    (new,) = report.new_jobs
    assert new.payload["inputs"] == [7, 7] and new.id != old.id
    failed = watcher.store.get(old.id)
    assert failed.state is State.FAILED and failed.reason_code == "superseded"
    assert [j.id for j in report.vanished] == [old.id]


def test_a_vanished_request_fails_and_revives_when_it_reappears(
    devchain: Devchain, tmp_path: Path
) -> None:
    watcher = _watcher(devchain, tmp_path, confirmations=1)
    devchain.mine(1)
    watcher.poll()
    snapshot = devchain.rpc("evm_snapshot")
    request_id = devchain.request([8])
    devchain.mine(2)
    (job,) = watcher.poll().new_jobs
    devchain.rpc("evm_revert", snapshot)
    devchain.mine(4)
    report = watcher.poll()
    assert watcher.hub.request_status(request_id) is RequestStatus.NONE
    assert watcher.store.get(job.id).reason_code == "unknown_request"
    assert report.vanished[0].id == job.id

    assert devchain.request([8]) == request_id  # the same request, mined again
    devchain.mine(2)
    report = watcher.poll()
    assert report.new_jobs == []  # not a new job: the old one comes back
    revived = watcher.store.get(job.id)
    assert revived.state is State.SEEN and not revived.orphaned


def test_anvil_reorg_inside_the_remembered_window_is_detected(
    devchain: Devchain, tmp_path: Path
) -> None:
    watcher = _watcher(devchain, tmp_path, confirmations=0)
    devchain.request([1])
    request_block = devchain.head()
    devchain.mine(5)
    watcher.poll()
    cursor = watcher.store.cursor()
    assert cursor == devchain.head()
    devchain.rpc("anvil_reorg", 3, [])
    report = watcher.poll()
    # Hashes are remembered for range ends and blocks with logs: the newest of those
    # below the reorg is the request's block.
    assert report.fork_point == request_block and report.caught_up
    assert len(watcher.store.jobs()) == 1  # the request is older than the fork


def test_a_reorg_above_the_cursor_reopens_a_fulfillment_confirmed_there(
    devchain: Devchain, tmp_path: Path
) -> None:
    """The submitter may confirm a receipt in a block the watcher has not scanned yet (it
    runs on every pass, the watcher once per poll interval). A reorg that replaces only
    blocks above the watcher's cursor must still reopen that fulfillment."""
    watcher = _watcher(devchain, tmp_path, confirmations=1)
    devchain.request([8])
    devchain.mine(1)
    (job,) = watcher.poll().new_jobs
    cursor = watcher.store.cursor()
    assert cursor is not None
    store = watcher.store
    store.start_proving(job.id)
    store.mark_proved(job.id, [1], b"proof", b"calldata")
    tx_hash = "0x" + "ee" * 32
    store.record_tx(TxRecord(tx_hash, job.id, "0x" + "ab" * 20, 0, 10, 1, 50_000, b"r", 0.0))
    devchain.mine(2)  # the fulfillment's block, and one confirmation on top of it
    mined = cursor + 2
    assert mined > cursor + 1  # above the newest block the watcher remembers
    block_hash = devchain.w3.eth.get_block(mined)["hash"].to_0x_hex()
    store.mark_mined(job.id, tx_hash, mined, block_hash, 1)
    store.mark_confirmed(job.id)

    devchain.rpc("anvil_reorg", devchain.head() - mined + 1, [])  # same height, new blocks
    report = watcher.poll()
    assert report.fork_point is not None and report.fork_point < mined
    reopened = store.get(job.id)
    assert reopened.state is State.SUBMITTED and reopened.mined_block is None
    assert "fulfillment reorged out" in [d for _, _, d in store.history(job.id)]
