"""What a prover actor runs: models unpacked once per node and kept loaded, one proof at a
time.

`ProverActor` is plain Python; the bridge turns it into a Ray actor with the resources the
configuration asks for. Its models arrive as object-store references (a dict value is not
resolved by Ray, so the actor fetches a blob only when its node lacks the model: one
transfer per node, not per actor). Each model is loaded (circuit, witness program, proving
key) before the actor reports ready, so no job pays for loading.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from oracle.cluster.artifacts import cached_model, unpack_model
from oracle.cluster.bridge import ray_module
from oracle.daemon.provers import ProofResult, ProofTask, prove_task


class ProverActor:
    """Proves tasks of the models it was given, by the model directory the daemon names."""

    def __init__(
        self, models: Mapping[str, str], blobs: Mapping[str, list[Any]], threads: int = 1
    ) -> None:
        """`models`: {daemon-side model dir: manifest sha256}; `blobs`: {manifest sha256:
        [ObjectRef of the packed model]} (wrapped in a list so Ray does not resolve it);
        `threads`: the prover's threads, as many as the CPUs the actor reserved."""
        os.environ["ZKORACLE_THREADS"] = str(threads)
        self._local: dict[str, str] = {}
        started = time.perf_counter()
        for model_dir, sha in models.items():
            self._local[model_dir] = str(self._ensure(sha, blobs[sha]))
        self.load_seconds = time.perf_counter() - started

    @staticmethod
    def _ensure(sha: str, ref: list[Any]) -> Path:
        import circuits

        target = cached_model(sha)
        if target is None:
            target = unpack_model(sha, ray_module().get(ref[0]))
        circuits.load_model_dir(target)
        return target

    def ready(self) -> dict[str, Any]:
        """Where this actor runs and how long loading took."""
        return {
            "node": ray_module().get_runtime_context().get_node_id(),
            "pid": os.getpid(),
            "load_seconds": self.load_seconds,
        }

    def prove(self, task: ProofTask) -> ProofResult:
        local = self._local.get(task.model_dir)
        if local is None:
            from oracle.daemon.errors import ProverError

            raise ProverError(f"job {task.job_id}: this prover was not given {task.model_dir}")
        return prove_task(replace(task, model_dir=local))
