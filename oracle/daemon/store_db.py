"""The job store's database: its tables, the connection and the transaction plumbing.

SQLite in WAL mode with ``synchronous=FULL``: every store method is one transaction,
committed (and synced) before it returns, so a caller can take the next side effect
(broadcast a transaction, start a proof) knowing the state that led to it survives a crash
or a power cut. Readers in other threads or processes never block the writer and see only
committed states. Writes take the lock up front (``BEGIN IMMEDIATE``) so two writers queue
instead of deadlocking on a lock upgrade.

A daemon opens its store as the ``owner``: an exclusive lock on ``<store>.lock`` keeps a
second daemon (which would reuse nonces and send fulfillments twice) off the same store.

Tables are created when a store opens (``CREATE TABLE IF NOT EXISTS``), so a store written
before a table existed (the batch tables) is read as it is; bump `SCHEMA_VERSION` on any
change to an existing table.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

from oracle.daemon.errors import IllegalTransition, StoreError
from oracle.daemon.jobs import JOB_COLUMNS, TRANSITIONS, Job, State, job_from_row

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    key TEXT NOT NULL UNIQUE,
    model_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    seen_block INTEGER NOT NULL,
    seen_block_hash TEXT NOT NULL,
    orphaned INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    reason_code TEXT,
    reason TEXT,
    outputs TEXT,
    proof BLOB,
    calldata BLOB,
    nonce INTEGER,
    tx_hash TEXT,
    mined_block INTEGER,
    mined_block_hash TEXT,
    gas_cost TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs (state, id);
CREATE TABLE IF NOT EXISTS transitions (
    job_id INTEGER NOT NULL REFERENCES jobs (id),
    from_state TEXT,
    to_state TEXT NOT NULL,
    at REAL NOT NULL,
    detail TEXT
);
CREATE TABLE IF NOT EXISTS txs (
    tx_hash TEXT PRIMARY KEY,
    job_id INTEGER NOT NULL REFERENCES jobs (id),
    account TEXT NOT NULL,
    nonce INTEGER NOT NULL,
    max_fee INTEGER NOT NULL,
    priority_fee INTEGER NOT NULL,
    gas_limit INTEGER NOT NULL,
    raw BLOB NOT NULL,
    sent_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS txs_by_job ON txs (job_id, sent_at);
CREATE TABLE IF NOT EXISTS blocks (number INTEGER PRIMARY KEY, hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS nonces (account TEXT PRIMARY KEY, next INTEGER NOT NULL);
"""

#: Which jobs share one ``fulfillBatch`` transaction (`oracle.daemon.store_batches`).
BATCH_SCHEMA = """
CREATE TABLE IF NOT EXISTS batch_members (
    job_id INTEGER PRIMARY KEY REFERENCES jobs (id),
    leader INTEGER NOT NULL REFERENCES jobs (id),
    position INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS batch_members_by_leader ON batch_members (leader, position);
CREATE TABLE IF NOT EXISTS solo_jobs (job_id INTEGER PRIMARY KEY REFERENCES jobs (id));
"""

TX_COLUMNS = "tx_hash, job_id, account, nonce, max_fee, priority_fee, gas_limit, raw, sent_at"


class StoreDb:
    """One connection to the job store; safe to share between threads (calls serialise)."""

    def __init__(self, path: str | Path, *, owner: bool = False, timeout: float = 10.0) -> None:
        self.path = Path(path)
        self._owner_lock: IO[str] | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if owner:
                self._owner_lock = self._take_ownership()
            self._db = sqlite3.connect(
                self.path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the job store {self.path}: {exc}") from exc
        self._lock = threading.RLock()
        with self._write():
            for statement in (SCHEMA + BATCH_SCHEMA).split(";"):
                if statement.strip():
                    self._db.execute(statement)
            self._check_version()

    def _take_ownership(self) -> IO[str]:
        lock_path = self.path.with_name(self.path.name + ".lock")
        handle = lock_path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise StoreError(
                f"the job store {self.path} is in use by another daemon (pid {holder}); "
                "two daemons on one store would send fulfillments twice"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        return handle

    def _check_version(self) -> None:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        if row is None:
            self._db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
        elif int(row[0]) != SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} has store schema {row[0]}; this daemon reads {SCHEMA_VERSION}"
            )

    # -- plumbing ----------------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: taken up front, committed on success, rolled back else."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StoreError(f"{self.path}: cannot start a transaction: {exc}") from exc
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def close(self) -> None:
        with self._lock:
            self._db.close()
            if self._owner_lock is not None:
                self._owner_lock.close()  # releases the flock
                self._owner_lock = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- moving a job, inside a write transaction -------------------------------------------

    def _get(self, db: sqlite3.Connection, job_id: int) -> Job:
        row = db.execute(f"SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise StoreError(f"no job {job_id} in {self.path}")
        return job_from_row(row)

    def _log(
        self, db: sqlite3.Connection, job_id: int, old: State | None, new: State, detail: str
    ) -> None:
        db.execute(
            "INSERT INTO transitions VALUES (?, ?, ?, ?, ?)",
            (job_id, old.value if old else None, new.value, time.time(), detail or None),
        )

    def _move(
        self,
        db: sqlite3.Connection,
        job_id: int,
        new: State,
        detail: str = "",
        *,
        expect: State | None = None,
        clear_reason: bool = False,
        **fields: Any,
    ) -> Job:
        current = self._get(db, job_id).state
        if (expect is not None and current is not expect) or new not in TRANSITIONS[current]:
            raise IllegalTransition(job_id, current.value, new.value)
        if clear_reason:
            fields.update(reason_code=None, reason=None)
        fields.update(state=new.value, updated_at=time.time())
        assignments = ", ".join(f"{name} = ?" for name in fields)
        db.execute(f"UPDATE jobs SET {assignments} WHERE id = ?", (*fields.values(), job_id))
        self._log(db, job_id, current, new, detail)
        return self._get(db, job_id)
