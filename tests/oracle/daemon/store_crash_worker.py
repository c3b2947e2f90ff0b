"""Drives jobs through every state of a store until it is killed (see test_daemon_store).

    python store_crash_worker.py DB_PATH

On start it does what the daemon does after a crash: jobs left in ``proving`` go back to
``seen``, every unfinished job is driven to ``confirmed``, the last request is seen once
more (idempotently). It then makes new jobs forever. After each committed step it prints
``<job id> <state>`` (or ``cursor <n>``) and flushes, so the parent knows what must have
survived the SIGKILL.
"""

from __future__ import annotations

import sys
import time

from oracle.daemon.jobs import Job, Kind, NewJob, State, TxRecord
from oracle.daemon.store import Store

ACCOUNT = "0x" + "ab" * 20


def say(*parts: object) -> None:
    print(*parts, flush=True)


def new_job(i: int) -> NewJob:
    return NewJob(Kind.REQUEST, f"request:{i}:x", b"\x01" * 32, {"request_id": i}, i, f"0x{i:064x}")


def advance(store: Store, job: Job) -> Job:
    """One step along the happy path."""
    if job.state is State.SEEN:
        job = store.start_proving(job.id)
    elif job.state is State.PROVING:
        job = store.mark_proved(job.id, [job.id, -job.id], b"\x07" * 256, b"\xca\x11")
    elif job.state is State.PROVED:
        nonce = store.next_nonce(ACCOUNT) or 0
        record = TxRecord(f"0x{job.id:064x}", job.id, ACCOUNT, nonce, 2, 1, 100_000, b"raw",
                          time.time())  # fmt: skip
        job = store.record_tx(record)
    elif job.state is State.SUBMITTED and job.mined_block is None:
        job = store.mark_mined(job.id, job.tx_hash or "", job.seen_block + 1, "0xbb", 21_000)
        say(job.id, "mined")
        return job
    elif job.state is State.SUBMITTED:
        job = store.mark_confirmed(job.id)
    say(job.id, job.state.value)
    return job


def finish(store: Store, job: Job) -> None:
    while job.state is not State.CONFIRMED:
        job = advance(store, job)


def main(path: str) -> None:
    store = Store(path)
    store.recover_interrupted()
    for job in store.jobs(State.SEEN, State.PROVED, State.SUBMITTED):
        finish(store, job)
    i = (store.cursor() or 0) + 1
    if i > 1:
        store.insert_seen(new_job(i - 1))
    while True:
        job, _ = store.insert_seen(new_job(i))
        say(job.id, "seen")
        store.insert_seen(new_job(i))
        finish(store, job)
        store.record_scan([], i, {i: f"0x{i:064x}"}, keep=8)
        say("cursor", i)
        i += 1


if __name__ == "__main__":
    main(sys.argv[1])
