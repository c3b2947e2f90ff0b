"""A pool of proving processes with bounded concurrency.

Proving is CPU-bound and can take minutes, so it runs in worker processes, at most
``workers`` jobs at a time. A worker keeps every model it has used in memory
(`circuits.model_store.load_model_dir`: the recompiled circuit with its witness program, and
the backend's proving key after the first proof), and preloads the configured models when
it starts, so no request pays for loading a model.

A request carries its inputs quantized (the integers the hub range-checked and stores).
The worker dequantizes them (q / 2^scale, exact in float64 for |q| < 2^53), proves, and
checks that the statement's inputs are the request's integers, so a rounding difference
can never produce a proof for other inputs than the ones requested.

Workers are started with ``spawn``: the daemon has threads (metrics server) that a
``fork`` would copy in an undefined state. A worker ends when the daemon does, however
the daemon ended (a SIGKILL included), so crashes and restarts leave no workers behind.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from oracle.daemon.errors import ProverError

if TYPE_CHECKING:
    from oracle.daemon.config import DaemonConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProofTask:
    job_id: int
    model_dir: str
    inputs: tuple[int, ...]  # quantized, flat, in the model's input order
    binding: int
    #: Salts of the statement's commitments (a private-input request's "inputs" salt).
    salts: tuple[tuple[str, int], ...] = ()
    #: The commitment the request posted, which the proof's statement must carry.
    input_commitment: int | None = None


@dataclass(frozen=True)
class ProofResult:
    job_id: int
    outputs: tuple[int, ...]  # quantized, flat, in the model's output order
    proof_words: tuple[int, ...]  # the 8 EVM words
    proof_bytes: bytes  # the 256-byte EVM layout
    seconds: float  # witness + proof


def prove_task(task: ProofTask) -> ProofResult:
    """Prove one job (runs in a worker process; also callable in-process)."""
    import circuits  # in the worker: the parent needs no circuit code loaded

    started = time.perf_counter()
    model = circuits.load_model_dir(task.model_dir)
    manifest = model.manifest
    expected = sum(spec.size for spec in manifest.inputs)
    if expected != len(task.inputs):
        raise ProverError(
            f"job {task.job_id}: the model in {task.model_dir} takes {expected} input values, "
            f"the request has {len(task.inputs)}"
        )
    feed, offset = {}, 0
    for spec in manifest.inputs:
        values = task.inputs[offset : offset + spec.size]
        offset += spec.size
        feed[spec.name] = np.asarray(values, dtype=np.float64).reshape(spec.shape) / 2.0**spec.scale
    result = model.prove(feed, task.binding, dict(task.salts))
    parts = manifest.layout.parts(result.public)
    if task.input_commitment is not None:
        same_inputs = parts.input_commitment == task.input_commitment
    else:
        same_inputs = parts.inputs == list(task.inputs)
    if parts.binding != task.binding or not same_inputs:
        raise ProverError(
            f"job {task.job_id}: the proof's statement does not carry the request's inputs "
            "(quantization round trip changed them)"
        )
    # Checked here, off-chain, so that a bad proof never joins a batch of good ones.
    if not circuits.check_proof(model.dir, result.public, result.proof):
        raise ProverError(f"job {task.job_id}: the proof does not verify under the model's key")
    return ProofResult(
        job_id=task.job_id,
        outputs=tuple(manifest.layout.chain_outputs(result.public)),
        proof_words=tuple(result.proof.words()),
        proof_bytes=result.proof.to_bytes(),
        seconds=time.perf_counter() - started,
    )


def exit_with_parent() -> None:
    """End this process (a prover worker, the Ray bridge) as soon as the daemon that
    started it is gone, even by SIGKILL and even while it waits in a long call: its proofs
    would go nowhere, and every crash would leave a process behind holding the models in
    memory (or Ray actors holding CPUs of the cluster). The parent sentinel becomes ready
    when the parent exits."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _preload(model_dirs: Sequence[str], threads: int | None = None) -> None:
    """Worker initializer: exit with the parent, set the prover's thread count, load every
    model once, leave SIGINT and SIGTERM to the parent."""
    exit_with_parent()
    if threads is not None:
        os.environ["ZKORACLE_THREADS"] = str(threads)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    import circuits

    for d in model_dirs:
        try:
            circuits.load_model_dir(d)
        except Exception as exc:  # reported again, with its job, when a proof needs it
            log.error("cannot preload model %s: %s", d, exc)


class ProverEngine(Protocol):
    """What the daemon and `prove-batch` need of a proving pool: this module's local
    `ProverPool`, or `oracle.cluster.pool.RayProverPool` on a Ray cluster."""

    def has_capacity(self) -> bool: ...
    def submit(self, task: ProofTask) -> None: ...
    @property
    def in_flight(self) -> dict[int, float]: ...
    def done_count(self) -> int: ...
    def done(self) -> list[tuple[int, ProofResult | BaseException]]: ...
    def wait(self, timeout: float) -> None: ...
    def restart(self) -> list[int]: ...
    def close(self, *, kill: bool = False) -> None: ...
    def status(self) -> dict[str, Any]: ...


class ProverPool:
    """At most `workers` proofs at once and `queued` more waiting for a worker (a worker
    that finishes a proof then starts the next at once, without waiting for the daemon's
    loop; a queued proof's time counts from its submission). `submit` refuses more
    (check `has_capacity`)."""

    def __init__(
        self,
        workers: int,
        model_dirs: Sequence[Path] = (),
        *,
        queued: int = 0,
        on_done: Callable[[], None] | None = None,
        threads: int | None = None,
    ) -> None:
        """`on_done` is called (in a pool thread) whenever a proof finishes or fails;
        `threads`: prover threads per worker (None: ``ZKORACLE_THREADS`` or every core)."""
        if workers < 1:
            raise ProverError(f"a prover pool needs at least one worker, got {workers}")
        self.workers = workers
        self.capacity = workers + max(0, queued)
        self.model_dirs = [str(d) for d in model_dirs]
        self.on_done = on_done
        self.threads = threads
        self._in_flight: dict[int, tuple[Future[ProofResult], float]] = {}
        self._executor = self._start()

    def _start(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_preload,
            initargs=(self.model_dirs, self.threads),
        )

    @property
    def in_flight(self) -> dict[int, float]:
        """{job id: monotonic start time} of the proofs running or queued."""
        return {job: started for job, (_, started) in self._in_flight.items()}

    def has_capacity(self) -> bool:
        return len(self._in_flight) < self.capacity

    def submit(self, task: ProofTask) -> None:
        if not self.has_capacity():
            raise ProverError(f"the pool is full ({len(self._in_flight)} proofs in flight)")
        if task.job_id in self._in_flight:
            raise ProverError(f"job {task.job_id} is already being proved")
        future = self._executor.submit(prove_task, task)
        self._in_flight[task.job_id] = (future, time.monotonic())
        if self.on_done is not None:
            on_done = self.on_done
            future.add_done_callback(lambda _f: on_done())

    def done_count(self) -> int:
        """How many proofs in flight have finished (cheap: no result is read)."""
        return sum(1 for future, _ in self._in_flight.values() if future.done())

    def done(self) -> list[tuple[int, ProofResult | BaseException]]:
        """Finished proofs (a result or the exception it raised), removed from the pool."""
        finished = []
        for job_id, (future, _) in list(self._in_flight.items()):
            if future.done():
                del self._in_flight[job_id]
                exc = future.exception()
                finished.append((job_id, exc if exc is not None else future.result()))
        return finished

    def wait(self, timeout: float) -> None:
        """Block until every proof in flight is done or `timeout` seconds have passed."""
        deadline = time.monotonic() + timeout
        for future, _ in list(self._in_flight.values()):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            try:
                future.exception(timeout=remaining)
            except TimeoutError:
                return

    def restart(self) -> list[int]:
        """Kill the workers (the proofs in flight are lost) and start fresh ones; returns the
        jobs that were in flight. For a hung or over-long proof, or a broken pool."""
        lost = list(self._in_flight)
        self._in_flight.clear()
        self._kill()
        self._executor = self._start()
        return lost

    def _kill(self) -> None:
        # The executor has no public way to stop a running task: end our own workers by pid.
        processes = getattr(self._executor, "_processes", None) or {}
        for pid in list(processes):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self._executor.shutdown(wait=True, cancel_futures=True)

    def status(self) -> dict[str, Any]:
        """The engine's state for `/health` and the metrics (always up: local processes)."""
        return {
            "engine": "local",
            "state": "up",
            "actors": self.workers,
            "busy": len(self._in_flight),
            "fallback_active": False,
            "last_error": None,
        }

    def close(self, *, kill: bool = False) -> None:
        if kill:
            self._kill()
        else:
            self._executor.shutdown(wait=True, cancel_futures=True)
        self._in_flight.clear()


def start_engine(config: DaemonConfig, on_done: Callable[[], None]) -> ProverEngine:
    """The configured engine: local worker processes or prover actors on Ray."""
    model_dirs = [m.artifacts for m in config.models]

    def local() -> ProverPool:
        workers = config.prover_workers
        return ProverPool(
            workers, model_dirs, queued=workers, on_done=on_done, threads=config.prover_threads
        )

    engine = config.engine
    if engine.kind == "local":
        return local()
    # Imported here: Ray is an optional extra, and loading it costs seconds.
    from oracle.cluster.bridge import RaySettings
    from oracle.cluster.pool import RayProverPool

    settings = RaySettings(engine.ray_address, engine.ray_actors, engine.ray_cpus,
                           engine.ray_memory_mb, engine.ray_start_timeout)  # fmt: skip
    return RayProverPool(
        settings,
        model_dirs,
        on_done=on_done,
        reconnect_interval=engine.reconnect_interval,
        fallback=local if engine.fallback == "local" else None,
    )
