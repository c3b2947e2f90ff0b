"""`RayProverPool`: the daemon's proving pool on a Ray cluster.

It has the interface of the local `oracle.daemon.provers.ProverPool` (``has_capacity``,
``submit``, ``done_count``, ``done``, ``wait``, ``restart``, ``close``, ``in_flight``), so
the daemon's loop and `prove-batch` drive either engine the same way; the job store stays
the one source of truth for exactly-once, because a job lost here is only ever *parked*
(back to ``seen``) and proved again, and a proof is stored once whatever produced it.

States: ``connecting`` (a bridge process is connecting and loading the actors),
``up`` (actors ready) and ``down`` (no bridge; a new one is started every
``reconnect_interval`` seconds). Capacity is ``2 x actors`` while up (one proof running and
one waiting per actor, so an actor never idles between jobs) and nothing otherwise, so the
daemon never queues more work than the cluster can take. While not up, an optional local
fallback pool takes the jobs.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from oracle.cluster.bridge import RaySettings, run_bridge
from oracle.daemon.errors import ProverError, ProverLost
from oracle.daemon.provers import ProofResult, ProofTask, ProverPool

log = logging.getLogger(__name__)


class RayProverPool:
    """Proofs on Ray prover actors, supervised from the daemon's process."""

    engine = "ray"

    def __init__(
        self,
        settings: RaySettings,
        model_dirs: Sequence[Path | str],
        *,
        on_done: Callable[[], None] | None = None,
        reconnect_interval: float = 5.0,
        fallback: Callable[[], ProverPool] | None = None,
    ) -> None:
        self.settings = settings
        self.model_dirs = [str(d) for d in model_dirs]
        self.on_done = on_done
        self.reconnect_interval = reconnect_interval
        self._make_fallback = fallback
        self._fallback: ProverPool | None = None
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._in_flight: dict[int, float] = {}  # on the cluster: job id -> start time
        self._results: list[tuple[int, ProofResult | BaseException]] = []
        self.state = "down"
        self.info: dict[str, Any] = {}
        self.last_error: str | None = None
        self._next_try = 0.0
        self._bridge: Any = None
        self._conn: Any = None
        self._closed = threading.Event()
        self._connect()
        self._supervisor = threading.Thread(
            target=self._supervise, name="ray-supervisor", daemon=True
        )
        self._supervisor.start()

    # -- the bridge --------------------------------------------------------------------

    def _connect(self) -> None:
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        process = context.Process(
            target=run_bridge, args=(child, self.settings, self.model_dirs),
            name="zkoracle-ray-bridge", daemon=True,
        )  # fmt: skip
        process.start()
        child.close()
        with self._lock:
            self._bridge, self._conn, self.state = process, parent, "connecting"
        threading.Thread(target=self._read, args=(parent,), name="ray-bridge", daemon=True).start()
        log.info("connecting to the Ray cluster at %s", self.settings.address)

    def _read(self, conn: Any) -> None:
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                self._lost_bridge(conn, self.last_error or "the Ray bridge process ended")
                return
            self._handle(conn, message)

    def _handle(self, conn: Any, message: tuple[Any, ...]) -> None:
        kind = message[0]
        with self._changed:
            if conn is not self._conn:
                return  # a bridge this pool already gave up on
            if kind == "ready":
                self.state, self.info, self.last_error = "up", dict(message[1]), None
                log.info("Ray cluster ready: %s", self.info)
            elif kind == "alive":
                self.info = dict(message[1])
            elif kind == "down":
                self.last_error = str(message[1])
            elif kind in ("result", "failed", "lost"):
                job_id = int(message[1])
                if self._in_flight.pop(job_id, None) is None:
                    return
                outcome: ProofResult | BaseException = message[2]
                if kind == "failed":
                    outcome = ProverError(f"job {job_id}: {message[2]}")
                elif kind == "lost":
                    outcome = ProverLost(f"job {job_id}: prover lost ({message[2]})")
                self._results.append((job_id, outcome))
            self._changed.notify_all()
        if kind in ("result", "failed", "lost") and self.on_done is not None:
            self.on_done()

    def _lost_bridge(self, conn: Any, why: str) -> None:
        with self._changed:
            if conn is not self._conn:
                return
            self._conn = None
            self.state, self.last_error = "down", why
            self._next_try = time.monotonic() + self.reconnect_interval
            for job_id in list(self._in_flight):
                del self._in_flight[job_id]
                self._results.append((job_id, ProverLost(f"job {job_id}: cluster lost ({why})")))
            self._changed.notify_all()
        log.warning("Ray cluster unavailable: %s", why)
        if self.on_done is not None:
            self.on_done()

    def _stop_bridge(self, why: str) -> None:
        with self._lock:
            process, conn = self._bridge, self._conn
        if process is None:
            return
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.send(("stop",))
        process.join(2.0)
        if process.is_alive():
            process.kill()
            process.join(5.0)
        self._lost_bridge(conn, why)
        if conn is not None:
            conn.close()

    def _supervise(self) -> None:
        """Start a new bridge whenever the last one is gone and the retry interval passed."""
        while not self._closed.wait(0.2):
            with self._lock:
                due = self.state == "down" and time.monotonic() >= self._next_try
                bridge = self._bridge
            if due and not self._closed.is_set():
                if bridge is not None and bridge.is_alive():
                    bridge.kill()
                self._connect()

    # -- the pool interface ------------------------------------------------------------

    @property
    def capacity(self) -> int:
        return 2 * int(self.info.get("actors", 0)) if self.state == "up" else 0

    def _local(self) -> ProverPool | None:
        """The fallback pool while the cluster is not up (started on first need)."""
        if self.state == "up" or self._make_fallback is None:
            return None
        if self._fallback is None:
            log.warning("Ray cluster %s: proving locally meanwhile", self.state)
            self._fallback = self._make_fallback()
        return self._fallback

    def has_capacity(self) -> bool:
        local = self._local()
        if local is not None:
            return local.has_capacity()
        with self._lock:
            return len(self._in_flight) < self.capacity

    def submit(self, task: ProofTask) -> None:
        local = self._local()
        if local is not None:
            local.submit(task)
            return
        with self._lock:
            if len(self._in_flight) >= self.capacity or self._conn is None:
                raise ProverError(f"the Ray pool cannot take job {task.job_id} now ({self.state})")
            if task.job_id in self._in_flight:
                raise ProverError(f"job {task.job_id} is already being proved")
            self._in_flight[task.job_id] = time.monotonic()
            self._conn.send(("submit", task))

    @property
    def in_flight(self) -> dict[int, float]:
        with self._lock:
            jobs = dict(self._in_flight)
        if self._fallback is not None:
            jobs.update(self._fallback.in_flight)
        return jobs

    def done_count(self) -> int:
        local = self._fallback.done_count() if self._fallback is not None else 0
        with self._lock:
            return len(self._results) + local

    def done(self) -> list[tuple[int, ProofResult | BaseException]]:
        with self._lock:
            finished, self._results = self._results, []
        if self._fallback is not None:
            finished += self._fallback.done()
            if self.state == "up" and not self._fallback.in_flight:
                self._fallback.close()
                self._fallback = None
        return finished

    def wait(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                self._changed.wait(remaining)
        if self._fallback is not None:
            self._fallback.wait(max(0.0, deadline - time.monotonic()))

    def restart(self) -> list[int]:
        """Drop the bridge (its proofs are lost) and reconnect at once; returns the jobs
        that were in flight, which are not reported by `done`."""
        with self._lock:
            lost = list(self._in_flight)
            self._in_flight.clear()
        self._stop_bridge("restarted by the daemon")
        with self._lock:
            self._results = [(j, r) for j, r in self._results if j not in lost]
            self._next_try = 0.0
        if self._fallback is not None:
            lost += self._fallback.restart()
        return lost

    def close(self, *, kill: bool = False) -> None:
        self._closed.set()
        # The supervisor may be starting a bridge right now: let it finish, then stop it.
        if self._supervisor.is_alive() and self._supervisor is not threading.current_thread():
            self._supervisor.join(10.0)
        self._stop_bridge("closed")
        with self._lock:
            self._bridge = None
            self._in_flight.clear()
        if self._fallback is not None:
            self._fallback.close(kill=kill)
            self._fallback = None

    def status(self) -> dict[str, Any]:
        """What `/health` and the metrics report about the engine."""
        with self._lock:
            return {
                "engine": self.engine,
                "address": self.settings.address,
                "state": self.state,
                "actors": int(self.info.get("actors", 0)) if self.state == "up" else 0,
                "nodes": int(self.info.get("nodes", 0)) if self.state == "up" else 0,
                "busy": len(self._in_flight),
                "load_seconds": self.info.get("load_seconds"),
                "fallback_active": self._fallback is not None,
                "last_error": self.last_error,
            }
