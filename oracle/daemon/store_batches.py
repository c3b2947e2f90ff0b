"""Batches in the job store: which jobs share one ``fulfillBatch`` transaction.

A batch transaction is recorded under its first job, the leader (the ``txs`` table keeps
one row per transaction); ``batch_members`` names every job of the batch with its
position, so the same calldata can be rebuilt for a replacement at the same nonce and every
member follows the leader's transactions. Recording a batch is one store transaction:
every member moves proved -> submitted with the nonce and hash before the transaction is
broadcast, as a single fulfillment does, so a crash at any point leaves either no trace of
the batch or all of it.

A job whose batch reverted is put in ``solo_jobs``: it is sent alone from then on.

The tables are created with the others (`oracle.daemon.store_db.BATCH_SCHEMA`), so a
store written before batching existed is read as it is.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from typing import Any

from oracle.daemon.errors import StoreError
from oracle.daemon.jobs import Job, State, TxRecord
from oracle.daemon.store_db import TX_COLUMNS, StoreDb

_TX_INSERT = f"INSERT INTO txs ({TX_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"


class BatchRecords(StoreDb):
    """The batch part of `oracle.daemon.store.Store`."""

    def record_batch_tx(self, tx: TxRecord, member_ids: Sequence[int]) -> list[Job]:
        """Remember a signed batch transaction of `member_ids` (the first is the leader,
        ``tx.job_id``) before it is broadcast. A first transaction moves every member
        proved -> submitted; a replacement (the leader already submitted) must reuse the
        nonce and moves the members still submitted to the new hash."""
        if not member_ids or member_ids[0] != tx.job_id:
            raise StoreError(f"a batch transaction belongs to its first job, not {tx.job_id}")
        with self._write() as db:
            leader = self._get(db, tx.job_id)
            replacing = leader.state is State.SUBMITTED
            if replacing and leader.nonce != tx.nonce:
                raise StoreError(
                    f"batch of job {leader.id}: a replacement must reuse nonce {leader.nonce}"
                )
            db.execute(_TX_INSERT, _tx_row(tx))
            db.execute(
                "INSERT INTO nonces VALUES (?, ?) ON CONFLICT (account) "
                "DO UPDATE SET next = MAX(next, excluded.next)",
                (tx.account, tx.nonce + 1),
            )
            return [
                self._enter(db, job_id, i, tx, replacing) for i, job_id in enumerate(member_ids)
            ]

    def _enter(
        self, db: sqlite3.Connection, job_id: int, position: int, tx: TxRecord, replacing: bool
    ) -> Job:
        if replacing:
            if self._get(db, job_id).state is State.SUBMITTED:
                db.execute(
                    "UPDATE jobs SET tx_hash = ?, updated_at = ? WHERE id = ?",
                    (tx.tx_hash, time.time(), job_id),
                )
                self._log(
                    db, job_id, State.SUBMITTED, State.SUBMITTED, f"batch replaced by {tx.tx_hash}"
                )
            return self._get(db, job_id)
        db.execute(
            "INSERT OR REPLACE INTO batch_members VALUES (?, ?, ?)", (job_id, tx.job_id, position)
        )
        detail = f"batch of job {tx.job_id}: nonce {tx.nonce} tx {tx.tx_hash}"
        return self._move(
            db, job_id, State.SUBMITTED, detail, expect=State.PROVED, nonce=tx.nonce,
            tx_hash=tx.tx_hash,
        )  # fmt: skip

    def batch_leader(self, job_id: int) -> int | None:
        """The leader of the batch the job was last sent in, None if it was sent alone."""
        rows = self._read("SELECT leader FROM batch_members WHERE job_id = ?", (job_id,))
        return int(rows[0][0]) if rows else None

    def batch_member_ids(self, leader: int) -> list[int]:
        """The jobs of `leader`'s batch, in calldata order (the leader first)."""
        rows = self._read(
            "SELECT job_id FROM batch_members WHERE leader = ? ORDER BY position", (leader,)
        )
        return [int(r[0]) for r in rows]

    def leave_batch(self, job_ids: Sequence[int], *, solo: bool) -> None:
        """Forget the jobs' batch (they are sent anew); `solo` keeps them out of batches."""
        with self._write() as db:
            for job_id in job_ids:
                db.execute("DELETE FROM batch_members WHERE job_id = ?", (job_id,))
                if solo:
                    db.execute("INSERT OR IGNORE INTO solo_jobs VALUES (?)", (job_id,))

    def solo_ids(self) -> set[int]:
        return {int(r[0]) for r in self._read("SELECT job_id FROM solo_jobs")}


def _tx_row(tx: TxRecord) -> tuple[Any, ...]:
    return (tx.tx_hash, tx.job_id, tx.account, tx.nonce, tx.max_fee, tx.priority_fee,
            tx.gas_limit, tx.raw, tx.sent_at)  # fmt: skip
