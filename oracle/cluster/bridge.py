"""The Ray driver, in a process of its own: connect, place prover actors, forward tasks.

Why a separate process: a Ray driver whose cluster disappears may block for the GCS
reconnect timeout and then exit; the daemon must keep its store, watcher and submitter
running meanwhile, park the jobs that were on the cluster and reconnect later.

Messages on the pipe (picklable tuples):

* from the pool: ``("submit", ProofTask)``, ``("stop",)``;
* to the pool: ``("ready", info)`` once the actors have loaded their models,
  ``("result", job_id, ProofResult)``, ``("failed", job_id, reason)`` for an error of the
  job itself (bad inputs, a prover exception: proving it again would fail again),
  ``("lost", job_id, reason)`` when the actor or its node died (the job is proved again
  elsewhere), ``("alive", info)`` every second, and ``("down", reason)`` just before the
  bridge exits because the cluster cannot be reached.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from oracle.cluster.artifacts import pack_model_dir
from oracle.daemon.provers import ProofTask, exit_with_parent

#: How long a driver call may wait for an unreachable GCS before it gives up (Ray: 60 s).
GCS_RECONNECT_S = "10"
HEARTBEAT_S = 1.0


def ray_module() -> Any:
    """Ray, imported on first use (an optional extra), typed loosely: it ships no stubs."""
    try:
        return importlib.import_module("ray")
    except ImportError:
        from oracle.errors import OracleError

        raise OracleError("the Ray engine needs Ray: pip install 'zkoracle[ray]'") from None


@dataclass(frozen=True)
class RaySettings:
    """How to reach the cluster and what each prover actor reserves there."""

    address: str  # "auto", "ray://host:port" or "host:port" of the head's GCS
    actors: int  # 0 = as many as the cluster's CPUs allow at connection time
    cpus: float  # CPUs reserved per prover actor
    memory_mb: int  # memory reserved per actor (0 = no reservation)
    start_timeout: float  # seconds for the actors to load their models
    namespace: str = "zkoracle"


def _connect(settings: RaySettings) -> None:
    ray = ray_module()
    os.environ.setdefault("RAY_gcs_rpc_server_reconnect_timeout_s", GCS_RECONNECT_S)
    ray.init(
        address=settings.address,
        namespace=settings.namespace,
        logging_level=logging.ERROR,
        log_to_driver=False,
        configure_logging=False,
    )


def _actor_count(settings: RaySettings) -> int:
    ray = ray_module()
    if settings.actors:
        return settings.actors
    cpus = float(ray.cluster_resources().get("CPU", 0.0))
    return max(1, int(cpus // settings.cpus))


def _start_actors(settings: RaySettings, model_dirs: list[str]) -> tuple[list[Any], dict[str, Any]]:
    ray = ray_module()
    from oracle.cluster.actor import ProverActor

    models: dict[str, str] = {}
    blobs: dict[str, list[Any]] = {}
    for d in model_dirs:
        sha, blob = pack_model_dir(d)
        models[d] = sha
        if sha not in blobs:
            blobs[sha] = [ray.put(blob)]
    options: dict[str, Any] = {
        "num_cpus": settings.cpus,
        "max_restarts": -1,  # a dead actor is placed again (elsewhere if its node died)
        "max_task_retries": 0,  # its task is reported lost and re-proved by the daemon
        "scheduling_strategy": "SPREAD",
    }
    if settings.memory_mb:
        options["memory"] = settings.memory_mb * 2**20
    remote = ray.remote(ProverActor).options(**options)
    n = _actor_count(settings)
    started = time.perf_counter()
    threads = max(1, int(settings.cpus))
    actors = [remote.remote(models, blobs, threads) for _ in range(n)]
    ready = ray.get([a.ready.remote() for a in actors], timeout=settings.start_timeout)
    info = {
        "actors": n,
        "nodes": len({r["node"] for r in ready}),
        "load_seconds": round(time.perf_counter() - started, 3),
    }
    return actors, info


def _alive_nodes() -> int:
    ray = ray_module()
    return sum(1 for node in ray.nodes() if node.get("Alive"))


class _Dispatcher:
    """Tasks in flight on the actors, each given to the least loaded healthy actor.

    An actor whose task was lost is set aside until it answers a ``ready`` probe again
    (Ray restarts it, on another node if its own died); tasks that find no healthy actor
    wait in a backlog, in order."""

    def __init__(self, actors: list[Any]) -> None:
        self.actors = actors
        self.load = [0] * len(actors)
        self.healthy = set(range(len(actors)))
        self.pending: dict[Any, tuple[int, int]] = {}  # ObjectRef -> (job id, actor index)
        self.probes: dict[Any, int] = {}  # ObjectRef of a ready() probe -> actor index
        self.backlog: deque[ProofTask] = deque()

    def submit(self, task: ProofTask) -> None:
        self.backlog.append(task)
        self._drain()

    def _drain(self) -> None:
        while self.backlog and self.healthy:
            task = self.backlog.popleft()
            i = min(self.healthy, key=self.load.__getitem__)
            self.pending[self.actors[i].prove.remote(task)] = (task.job_id, i)
            self.load[i] += 1

    def _set_aside(self, i: int) -> None:
        if i in self.healthy:
            self.healthy.discard(i)
            self.probes[self.actors[i].ready.remote()] = i

    def _probed(self, ray: Any, done: list[Any]) -> None:
        for ref in done:
            i = self.probes.pop(ref)
            try:
                ray.get(ref)
                self.healthy.add(i)
            except ray.exceptions.RayError:
                time.sleep(0.2)  # still restarting: ask again
                self.probes[self.actors[i].ready.remote()] = i

    def finished(self, timeout: float) -> list[tuple[str, int, Any]]:
        ray = ray_module()
        refs = [*self.pending, *self.probes]
        if not refs:
            return []
        done, _ = ray.wait(refs, num_returns=len(refs), timeout=timeout)
        self._probed(ray, [ref for ref in done if ref in self.probes])
        out: list[tuple[str, int, Any]] = []
        for ref in (r for r in done if r in self.pending):
            job_id, i = self.pending.pop(ref)
            self.load[i] -= 1
            try:
                out.append(("result", job_id, ray.get(ref)))
            except ray.exceptions.RayTaskError as exc:  # the job's own error, from the prover
                cause = exc.cause if exc.cause is not None else exc
                out.append(("failed", job_id, f"{type(cause).__name__}: {cause}"))
            except ray.exceptions.RayError as exc:  # the actor, its worker or its node died
                out.append(("lost", job_id, f"{type(exc).__name__}: {exc}"[:500]))
                self._set_aside(i)
        self._drain()
        return out


def _serve(conn: Connection, dispatcher: _Dispatcher, info: Mapping[str, Any]) -> None:
    next_beat = 0.0
    while True:
        while conn.poll(0):
            message = conn.recv()
            if message[0] == "stop":
                return
            dispatcher.submit(message[1])
        busy = dispatcher.pending or dispatcher.probes
        for outcome in dispatcher.finished(0.05 if busy else 0.0):
            conn.send(outcome)
        if not busy:
            conn.poll(0.05)
        if time.monotonic() >= next_beat:
            next_beat = time.monotonic() + HEARTBEAT_S
            healthy = len(dispatcher.healthy)
            conn.send(("alive", {**info, "actors": healthy, "nodes": _alive_nodes()}))


def run_bridge(conn: Connection, settings: RaySettings, model_dirs: list[str]) -> None:
    """The bridge process's entry point (started with ``spawn``)."""
    exit_with_parent()
    try:
        _connect(settings)
        actors, info = _start_actors(settings, model_dirs)
        conn.send(("ready", info))
        _serve(conn, _Dispatcher(actors), info)
    except (EOFError, BrokenPipeError):
        return  # the daemon is gone
    except Exception as exc:  # any failure of the cluster ends this bridge
        with contextlib.suppress(OSError, EOFError):
            conn.send(("down", f"{type(exc).__name__}: {exc}"[:500]))
    finally:
        with contextlib.suppress(Exception):  # shutting down a dead connection may fail
            ray = ray_module()
            ray.shutdown()
