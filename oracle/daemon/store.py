"""The daemon's on-disk state: jobs, their transactions, the chain cursor and nonces.

Every method is one transaction, committed and synced before it returns
(`oracle.daemon.store_db`), so a caller can take the next side effect knowing the state
that led to it survives a crash. A job moves only along the edges of
`oracle.daemon.jobs.TRANSITIONS`, and every move is logged in ``transitions``.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Mapping, Sequence
from typing import Any

from oracle.daemon.errors import IllegalTransition, StoreError
from oracle.daemon.jobs import JOB_COLUMNS, REVIVABLE, Job, NewJob, State, TxRecord, job_from_row
from oracle.daemon.store_batches import BatchRecords
from oracle.daemon.store_db import TX_COLUMNS


class Store(BatchRecords):
    """The job store: `StoreDb`'s connection with the queries and transitions of jobs,
    their transactions, the chain cursor and nonces (batches: `BatchRecords`)."""

    # -- jobs: reading ----------------------------------------------------------------------

    def get(self, job_id: int) -> Job:
        rows = self._read(f"SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?", (job_id,))
        if not rows:
            raise StoreError(f"no job {job_id} in {self.path}")
        return job_from_row(rows[0])

    def jobs(self, *states: State, limit: int = 1000) -> list[Job]:
        """Jobs in any of `states` (every job if none is given), oldest first."""
        where = f"WHERE state IN ({','.join('?' * len(states))})" if states else ""
        rows = self._read(
            f"SELECT {JOB_COLUMNS} FROM jobs {where} ORDER BY id LIMIT ?",
            (*[s.value for s in states], limit),
        )
        return [job_from_row(r) for r in rows]

    def orphans(self, *states: State) -> list[Job]:
        """Jobs in any of `states` flagged orphaned by a reorg, oldest first."""
        rows = self._read(
            f"SELECT {JOB_COLUMNS} FROM jobs WHERE orphaned = 1 AND state IN "
            f"({','.join('?' * len(states))}) ORDER BY id",
            [s.value for s in states],
        )
        return [job_from_row(r) for r in rows]

    def with_key_prefix(self, prefix: str) -> list[Job]:
        """Jobs whose key starts with `prefix`, oldest first: ``request:<id>:`` (several
        only if a reorg reused the id) or ``feed:<feed id>:`` (every round)."""
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = self._read(
            f"SELECT {JOB_COLUMNS} FROM jobs WHERE key LIKE ? ESCAPE '\\' ORDER BY id",
            (escaped + "%",),
        )
        return [job_from_row(r) for r in rows]

    def recent(self, *states: State, limit: int = 10) -> list[Job]:
        """The latest jobs in any of `states` (every job if none is given), the most
        recently changed first: what a status page shows."""
        where = f"WHERE state IN ({','.join('?' * len(states))})" if states else ""
        rows = self._read(
            f"SELECT {JOB_COLUMNS} FROM jobs {where} ORDER BY updated_at DESC, id DESC LIMIT ?",
            (*[s.value for s in states], limit),
        )
        return [job_from_row(r) for r in rows]

    def last_feed_rounds(self) -> dict[str, Job]:
        """The newest confirmed round of every feed, by feed id (``0x`` hex)."""
        rows = self._read(
            f"SELECT {JOB_COLUMNS} FROM jobs WHERE kind = 'feed' AND state = 'confirmed' "
            "ORDER BY updated_at, id"
        )
        return {str(job.payload["feed_id"]): job for job in map(job_from_row, rows)}

    def counts(self) -> dict[State, int]:
        rows = self._read("SELECT state, COUNT(*) FROM jobs GROUP BY state")
        counts = dict.fromkeys(State, 0)
        counts.update({State(s): n for s, n in rows})
        return counts

    def history(self, job_id: int) -> list[tuple[str | None, str, str | None]]:
        """(from, to, detail) of every transition of a job, in order."""
        return [
            (f, t, d)
            for f, t, d in self._read(
                "SELECT from_state, to_state, detail FROM transitions WHERE job_id = ? "
                "ORDER BY rowid",
                (job_id,),
            )
        ]

    # -- jobs: seeing -----------------------------------------------------------------------

    def _insert(self, db: sqlite3.Connection, new: NewJob) -> tuple[Job, bool]:
        now = time.time()
        found = db.execute(f"SELECT {JOB_COLUMNS} FROM jobs WHERE key = ?", (new.key,)).fetchone()
        if found is None:
            cur = db.execute(
                "INSERT INTO jobs (kind, key, model_id, payload, seen_block, seen_block_hash, "
                "state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'seen', ?, ?)",
                (new.kind.value, new.key, new.model_id.hex(), json.dumps(dict(new.payload)),
                 new.block_number, new.block_hash, now, now),
            )  # fmt: skip
            job_id = int(cur.lastrowid or 0)
            self._log(db, job_id, None, State.SEEN, f"block {new.block_number}")
            return self._get(db, job_id), True
        job = job_from_row(found)
        db.execute(
            "UPDATE jobs SET seen_block = ?, seen_block_hash = ?, orphaned = 0, updated_at = ? "
            "WHERE id = ?",
            (new.block_number, new.block_hash, now, job.id),
        )
        if job.state is State.FAILED and job.reason_code in REVIVABLE:
            self._move(db, job.id, State.SEEN, "seen again on chain", clear_reason=True)
        return self._get(db, job.id), False

    def insert_seen(self, new: NewJob) -> tuple[Job, bool]:
        """Store a newly seen piece of work; (the job, True if it was created).

        Idempotent: the same key never makes a second job. Seeing it again refreshes the
        block it sits in (a reorg may have moved it) and clears its orphan flag.
        """
        with self._write() as db:
            return self._insert(db, new)

    def record_scan(
        self, seen: Sequence[NewJob], cursor: int, hashes: Mapping[int, str], keep: int
    ) -> list[Job]:
        """Atomically store the jobs of a scanned block range, move the cursor to its last
        block and remember block hashes (only the newest `keep` blocks are kept).
        Returns the jobs created."""
        with self._write() as db:
            created = [job for job, new in (self._insert(db, n) for n in seen) if new]
            db.executemany("INSERT OR REPLACE INTO blocks VALUES (?, ?)", sorted(hashes.items()))
            db.execute("DELETE FROM blocks WHERE number <= ?", (cursor - keep,))
            db.execute("INSERT OR REPLACE INTO meta VALUES ('cursor', ?)", (str(cursor),))
            return created

    # -- jobs: transitions ------------------------------------------------------------------

    def transition(self, job_id: int, new: State, detail: str = "", **fields: Any) -> Job:
        """Move a job along one edge of the state machine, setting `fields` with it."""
        with self._write() as db:
            return self._move(db, job_id, new, detail, **fields)

    def start_proving(self, job_id: int) -> Job:
        with self._write() as db:
            attempts = self._get(db, job_id).attempts + 1
            return self._move(db, job_id, State.PROVING, f"attempt {attempts}", attempts=attempts)

    def mark_proved(
        self, job_id: int, outputs: Sequence[int], proof: bytes, calldata: bytes
    ) -> Job:
        return self.transition(
            job_id,
            State.PROVED,
            outputs=json.dumps([int(v) for v in outputs]),
            proof=proof,
            calldata=calldata,
        )

    def park(self, job_id: int, why: str) -> Job:
        """Put a job being proved back in the queue (shutdown, crash, transient error)."""
        return self.transition(job_id, State.SEEN, why)

    def mark_failed(self, job_id: int, code: str, reason: str) -> Job:
        return self.transition(
            job_id, State.FAILED, f"{code}: {reason}", reason_code=code, reason=reason
        )

    def mark_confirmed(self, job_id: int, note: str | None = None) -> Job:
        """submitted -> confirmed. The block the transaction was mined in joins the
        remembered block hashes: the submitter may confirm a receipt in a block the watcher
        has not scanned yet, and a reorg that replaces only blocks above the watcher's
        cursor would otherwise go unseen, leaving the job confirmed and the request open."""
        with self._write() as db:
            job = self._get(db, job_id)
            if job.mined_block is not None and job.mined_block_hash is not None:
                db.execute(
                    "INSERT OR REPLACE INTO blocks VALUES (?, ?)",
                    (job.mined_block, job.mined_block_hash),
                )
            return self._move(db, job_id, State.CONFIRMED, note or "", reason=note)

    def requeue_unsent(self, job_id: int, why: str, *, release_nonce: bool = False) -> Job:
        """submitted -> proved: the job's transaction will not be mined (its nonce went to
        another transaction, or the node refused it); it is sent anew. `release_nonce`
        hands the nonce back when it is the account's newest reservation."""
        with self._write() as db:
            job = self._get(db, job_id)
            if release_nonce and job.nonce is not None:
                db.execute(
                    "UPDATE nonces SET next = ? WHERE next = ? AND account IN "
                    "(SELECT account FROM txs WHERE job_id = ?)",
                    (job.nonce, job.nonce + 1, job_id),
                )
            return self._move(
                db, job_id, State.PROVED, why, nonce=None, tx_hash=None, mined_block=None,
                mined_block_hash=None, gas_cost=None,
            )  # fmt: skip

    def mark_mined(
        self, job_id: int, tx_hash: str, block: int | None, block_hash: str | None, cost: int | None
    ) -> Job:
        """Record where a submitted job's transaction was mined (None: no longer mined)."""
        with self._write() as db:
            if self._get(db, job_id).state is not State.SUBMITTED:
                raise IllegalTransition(job_id, self._get(db, job_id).state.value, "mined")
            db.execute(
                "UPDATE jobs SET tx_hash = ?, mined_block = ?, mined_block_hash = ?, "
                "gas_cost = ?, updated_at = ? WHERE id = ?",
                (tx_hash, block, block_hash, None if cost is None else str(cost), time.time(),
                 job_id),
            )  # fmt: skip
            return self._get(db, job_id)

    def recover_interrupted(self) -> list[Job]:
        """At start: jobs left in ``proving`` by a crash go back to ``seen``."""
        with self._write() as db:
            ids = [r[0] for r in db.execute("SELECT id FROM jobs WHERE state = 'proving'")]
            return [self._move(db, i, State.SEEN, "interrupted by a restart") for i in ids]

    # -- transactions and nonces -------------------------------------------------------------

    def record_tx(self, tx: TxRecord) -> Job:
        """Remember a signed transaction before it is broadcast.

        A first transaction moves the job proved -> submitted and reserves its nonce (the
        account's next nonce becomes at least nonce + 1); a replacement must reuse the
        nonce of the submitted job.
        """
        with self._write() as db:
            job = self._get(db, tx.job_id)
            if job.state is State.SUBMITTED and job.nonce != tx.nonce:
                raise StoreError(
                    f"job {job.id}: a replacement must reuse nonce {job.nonce}, not {tx.nonce}"
                )
            db.execute(
                f"INSERT INTO txs ({TX_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (tx.tx_hash, tx.job_id, tx.account, tx.nonce, tx.max_fee, tx.priority_fee,
                 tx.gas_limit, tx.raw, tx.sent_at),
            )  # fmt: skip
            db.execute(
                "INSERT INTO nonces VALUES (?, ?) ON CONFLICT (account) "
                "DO UPDATE SET next = MAX(next, excluded.next)",
                (tx.account, tx.nonce + 1),
            )
            if job.state is State.SUBMITTED:
                db.execute(
                    "UPDATE jobs SET tx_hash = ?, updated_at = ? WHERE id = ?",
                    (tx.tx_hash, time.time(), job.id),
                )
                self._log(db, job.id, State.SUBMITTED, State.SUBMITTED, f"replaced by {tx.tx_hash}")
                return self._get(db, job.id)
            return self._move(
                db, job.id, State.SUBMITTED, f"nonce {tx.nonce} tx {tx.tx_hash}",
                expect=State.PROVED, nonce=tx.nonce, tx_hash=tx.tx_hash,
            )  # fmt: skip

    def txs(self, job_id: int) -> list[TxRecord]:
        """The job's transactions, oldest first."""
        rows = self._read(
            f"SELECT {TX_COLUMNS} FROM txs WHERE job_id = ? ORDER BY sent_at, rowid", (job_id,)
        )
        return [TxRecord(*r) for r in rows]

    def next_nonce(self, account: str) -> int | None:
        rows = self._read("SELECT next FROM nonces WHERE account = ?", (account,))
        return int(rows[0][0]) if rows else None

    def set_next_nonce(self, account: str, value: int) -> None:
        with self._write() as db:
            db.execute("INSERT OR REPLACE INTO nonces VALUES (?, ?)", (account, value))

    # -- chain cursor and reorgs -------------------------------------------------------------

    def cursor(self) -> int | None:
        """The last block whose logs are stored, or None for a fresh store."""
        rows = self._read("SELECT value FROM meta WHERE key = 'cursor'")
        return int(rows[0][0]) if rows else None

    def block_hashes(self) -> list[tuple[int, str]]:
        """Remembered (number, hash) pairs, newest first."""
        return [
            (n, h) for n, h in self._read("SELECT number, hash FROM blocks ORDER BY number DESC")
        ]

    def rewind(self, fork_block: int) -> list[Job]:
        """Forget everything after `fork_block`, the newest block still on the chain.

        Jobs seen after it are flagged orphaned until a rescan sees them again; jobs whose
        fulfillment was mined after it go back to ``submitted`` (their transaction must be
        mined again). Returns the jobs touched.
        """
        with self._write() as db:
            db.execute("DELETE FROM blocks WHERE number > ?", (fork_block,))
            db.execute("INSERT OR REPLACE INTO meta VALUES ('cursor', ?)", (str(fork_block),))
            db.execute(
                "UPDATE jobs SET orphaned = 1 WHERE seen_block > ? AND state != 'failed'",
                (fork_block,),
            )
            unmined = [
                (r[0], State(r[1]))
                for r in db.execute(
                    "SELECT id, state FROM jobs WHERE mined_block > ?", (fork_block,)
                )
            ]
            db.execute(
                "UPDATE jobs SET mined_block = NULL, mined_block_hash = NULL, gas_cost = NULL "
                "WHERE mined_block > ?",
                (fork_block,),
            )
            for job_id, state in unmined:
                if state is State.CONFIRMED:
                    self._move(db, job_id, State.SUBMITTED, "fulfillment reorged out")
            rows = db.execute(
                f"SELECT {JOB_COLUMNS} FROM jobs WHERE orphaned = 1 OR id IN "
                f"({','.join('?' * len(unmined))})",
                [job_id for job_id, _ in unmined],
            ).fetchall()
            return [job_from_row(r) for r in rows]
