"""The job store: state machine, idempotent inserts, nonces, reorg rewinds, crash safety."""

from __future__ import annotations

import itertools
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from oracle.daemon.errors import IllegalTransition, StoreError
from oracle.daemon.jobs import TRANSITIONS, Kind, NewJob, State, TxRecord, request_key
from oracle.daemon.store import Store

ACCOUNT = "0x" + "ab" * 20
WORKER = Path(__file__).with_name("store_crash_worker.py")
REPO = Path(__file__).resolve().parents[3]


def _new(request_id: int, block: int = 10, inputs: tuple[int, ...] = (1, -2)) -> NewJob:
    payload = {"request_id": request_id, "inputs": list(inputs)}
    return NewJob(
        Kind.REQUEST,
        request_key(request_id, payload),
        b"\x05" * 32,
        payload,
        block,
        f"0x{block:064x}",
    )


def _tx(job_id: int, nonce: int, tag: int = 0) -> TxRecord:
    return TxRecord(f"0x{job_id:032x}{tag:032x}", job_id, ACCOUNT, nonce, 10, 1, 50_000, b"r", 0.0)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "jobs.db")


def test_happy_path_is_logged_and_durable(store: Store, tmp_path: Path) -> None:
    job, created = store.insert_seen(_new(7))
    assert created and job.state is State.SEEN and job.request_id == 7
    store.start_proving(job.id)
    store.mark_proved(job.id, [3, -4], b"\x01" * 256, b"\xab\xcd")
    store.record_tx(_tx(job.id, 0))
    store.mark_mined(job.id, _tx(job.id, 0).tx_hash, 12, "0xaa", 123_000)
    store.mark_confirmed(job.id)
    store.close()
    again = Store(tmp_path / "jobs.db")
    job = again.get(job.id)
    assert job.state is State.CONFIRMED and job.outputs == (3, -4) and job.calldata == b"\xab\xcd"
    assert job.nonce == 0 and job.gas_cost == 123_000 and job.attempts == 1
    assert [to for _, to, _ in again.history(job.id)] == [
        "seen", "proving", "proved", "submitted", "confirmed"
    ]  # fmt: skip
    assert again.next_nonce(ACCOUNT) == 1


@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        ((), State.PROVED),
        ((), State.SUBMITTED),
        ((), State.CONFIRMED),
        ((State.PROVING,), State.SUBMITTED),
        ((State.PROVING,), State.CONFIRMED),
        ((State.FAILED,), State.PROVING),
    ],
)
def test_illegal_transitions_raise_and_change_nothing(
    store: Store, path: tuple[State, ...], wanted: State
) -> None:
    job, _ = store.insert_seen(_new(1))
    for state in path:
        job = store.transition(job.id, state)
    with pytest.raises(IllegalTransition, match=f"{job.state.value} -> {wanted.value}"):
        store.transition(job.id, wanted)
    assert store.get(job.id).state is job.state


def test_every_state_has_a_way_out_except_the_final_ones() -> None:
    assert set(TRANSITIONS) == set(State)
    assert TRANSITIONS[State.CONFIRMED] == {State.SUBMITTED}  # only a reorg reopens it
    assert all(
        State.FAILED in TRANSITIONS[s] for s in State if s not in {State.CONFIRMED, State.FAILED}
    )


def test_insert_is_idempotent_and_refreshes_the_block(store: Store) -> None:
    first, created = store.insert_seen(_new(3, block=10))
    again, created_again = store.insert_seen(_new(3, block=12))
    assert created and not created_again and again.id == first.id and again.seen_block == 12
    other, created_other = store.insert_seen(_new(3, block=12, inputs=(9,)))
    assert created_other and other.id != first.id  # same id, other content: another request
    assert len(store.jobs()) == 2


def test_transactions_reserve_nonces_and_replacements_keep_them(store: Store) -> None:
    ids = []
    for i in range(2):
        job, _ = store.insert_seen(_new(i))
        store.start_proving(job.id)
        store.mark_proved(job.id, [1], b"p", b"c")
        ids.append(job.id)
    store.record_tx(_tx(ids[0], 5))
    assert store.next_nonce(ACCOUNT) == 6
    replaced = store.record_tx(_tx(ids[0], 5, tag=1))
    assert replaced.tx_hash == _tx(ids[0], 5, tag=1).tx_hash and replaced.nonce == 5
    assert [t.nonce for t in store.txs(ids[0])] == [5, 5]
    with pytest.raises(StoreError, match="must reuse nonce 5"):
        store.record_tx(_tx(ids[0], 6, tag=2))
    with pytest.raises(sqlite3.IntegrityError):  # one hash, one record
        store.record_tx(_tx(ids[0], 5, tag=1))
    requeued = store.requeue_unsent(ids[0], "nonce 5 used by another transaction")
    assert requeued.state is State.PROVED and requeued.nonce is None
    assert store.next_nonce(ACCOUNT) == 6  # never goes back on its own


def test_rewind_orphans_new_jobs_and_reopens_reorged_fulfillments(store: Store) -> None:
    old, _ = store.insert_seen(_new(1, block=5))
    store.start_proving(old.id)
    store.mark_proved(old.id, [1], b"p", b"c")
    store.record_tx(_tx(old.id, 0))
    store.mark_mined(old.id, _tx(old.id, 0).tx_hash, 9, "0x09", 1)
    store.mark_confirmed(old.id)
    late, _ = store.insert_seen(_new(2, block=8))
    store.record_scan([], 10, {5: "0x05", 8: "0x08", 10: "0x10"}, keep=100)
    touched = store.rewind(7)
    assert {j.id for j in touched} == {old.id, late.id}
    assert store.cursor() == 7 and store.block_hashes() == [(5, "0x05")]
    old_now, late_now = store.get(old.id), store.get(late.id)
    assert old_now.state is State.SUBMITTED and old_now.mined_block is None
    assert not old_now.orphaned and late_now.orphaned and late_now.state is State.SEEN
    seen_again, created = store.insert_seen(_new(2, block=9))
    assert not created and not seen_again.orphaned and seen_again.seen_block == 9


def test_a_vanished_request_revives_only_when_seen_again(store: Store) -> None:
    job, _ = store.insert_seen(_new(4))
    store.mark_failed(job.id, "unknown_request", "UnknownRequest(4)")
    other, _ = store.insert_seen(_new(5))
    store.mark_failed(other.id, "expired", "RequestExpired(5)")
    assert store.insert_seen(_new(4))[0].state is State.SEEN
    assert store.insert_seen(_new(5))[0].state is State.FAILED


def test_interrupted_proofs_go_back_to_the_queue(store: Store) -> None:
    job, _ = store.insert_seen(_new(1))
    store.start_proving(job.id)
    assert [j.id for j in store.recover_interrupted()] == [job.id]
    assert store.get(job.id).state is State.SEEN and store.counts()[State.SEEN] == 1


def test_scan_keeps_only_recent_hashes(store: Store) -> None:
    created = store.record_scan([_new(1, block=3)], 20, {n: f"0x{n:02x}" for n in range(21)}, 5)
    assert len(created) == 1 and store.cursor() == 20
    assert [n for n, _ in store.block_hashes()] == [20, 19, 18, 17, 16]


def test_only_one_owner_at_a_time(tmp_path: Path) -> None:
    first = Store(tmp_path / "o.db", owner=True)
    with pytest.raises(StoreError, match=rf"in use by another daemon \(pid {os.getpid()}\)"):
        Store(tmp_path / "o.db", owner=True)
    reader = Store(tmp_path / "o.db")  # readers need no ownership
    first.close()
    Store(tmp_path / "o.db", owner=True).close()
    reader.close()


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    Store(tmp_path / "s.db").close()
    db = sqlite3.connect(tmp_path / "s.db")
    db.execute("UPDATE meta SET value = '99' WHERE key = 'schema'")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="schema 99"):
        Store(tmp_path / "s.db")


def _check_consistent(path: Path) -> None:
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    db.close()
    store = Store(path)
    nonces = []
    for job in store.jobs(limit=10**6):
        history = store.history(job.id)
        assert history[-1][1] == job.state.value, (job, history)
        for (_, a, _), (b, c, _) in itertools.pairwise(history):
            assert a == b and (a == c or State(c) in TRANSITIONS[State(a)]), history
        if job.nonce is not None:
            nonces.append(job.nonce)
            assert [t.nonce for t in store.txs(job.id)] == [job.nonce]
    assert len(nonces) == len(set(nonces)), "two jobs share a nonce"
    if nonces:
        assert store.next_nonce(ACCOUNT) == max(nonces) + 1
    keys = [j.key for j in store.jobs(limit=10**6)]
    assert len(keys) == len(set(keys))
    store.close()


@pytest.mark.slow
def test_sigkill_at_random_points_never_loses_a_committed_step(tmp_path: Path) -> None:
    path = tmp_path / "crash.db"
    rng = random.Random(1234)
    order = ["seen", "proving", "proved", "submitted", "mined", "confirmed"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for _ in range(20):
        proc = subprocess.Popen(
            [sys.executable, str(WORKER), str(path)], stdout=subprocess.PIPE, env=env, cwd=REPO
        )
        time.sleep(rng.uniform(0.25, 0.6))
        os.kill(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        complete = out.decode().split("\n")[:-1]  # the text after the last newline may be cut
        said = [line.split() for line in complete]
        store = Store(path)
        for words in said:
            if words[0] == "cursor":
                assert (store.cursor() or 0) >= int(words[1])
                continue
            job = store.get(int(words[0]))
            reached = (
                "mined" if job.state is State.SUBMITTED and job.mined_block else job.state.value
            )
            assert order.index(reached) >= order.index(words[1]), (words, job.state)
        store.close()
        _check_consistent(path)
    assert Store(path).counts()[State.CONFIRMED] > 20


def test_readers_in_threads_and_processes_see_only_committed_states(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    writer = Store(path)
    stop = threading.Event()
    errors: list[BaseException] = []

    def read() -> None:
        reader = Store(path)
        try:
            while not stop.is_set():
                for job in reader.jobs(limit=10**6):
                    assert job.state is State.SEEN or job.attempts >= 1
                    unproved = job.state in (State.SEEN, State.PROVING)
                    assert (job.outputs is None) == unproved
        except BaseException as exc:  # handed to the main thread
            errors.append(exc)
        finally:
            reader.close()

    threads = [threading.Thread(target=read) for _ in range(3)]
    for t in threads:
        t.start()
    probe = subprocess.Popen(
        [sys.executable, "-c", _PROCESS_READER, str(path)],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
    )
    for i in range(60):
        job, _ = writer.insert_seen(_new(i))
        writer.start_proving(job.id)
        writer.mark_proved(job.id, [i], b"p", b"c")
    stop.set()
    for t in threads:
        t.join()
    out, _ = probe.communicate(timeout=30)
    assert not errors, errors[0]
    assert probe.returncode == 0 and int(out) > 0
    assert writer.counts()[State.PROVED] == 60


_PROCESS_READER = """
import sys, time
from oracle.daemon.store import Store
store = Store(sys.argv[1])
reads = 0
deadline = time.monotonic() + 20.0
while time.monotonic() < deadline:
    jobs = store.jobs(limit=10**6)
    for job in jobs:
        assert (job.outputs is None) == (job.state.value in ("seen", "proving")), job
    reads += 1
    if sum(job.state.value == "proved" for job in jobs) == 60:
        break
print(reads)
"""
