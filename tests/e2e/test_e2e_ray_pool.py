"""The Ray prover pool on a real two-node cluster on loopback: proofs on both nodes, the
model shipped once per node, a node killed in the middle of a burst, the whole cluster
stopped and started again."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

import circuits
from circuits import Proof
from oracle.cli import main
from oracle.cluster.bridge import RaySettings
from oracle.cluster.pool import RayProverPool
from oracle.daemon.errors import ProverError, ProverLost
from oracle.daemon.provers import ProofResult, ProofTask, ProverPool
from tests.e2e.ray_cluster import RayCluster

pytestmark = [pytest.mark.ray, pytest.mark.slow]


def _pool(cluster: RayCluster, model: Path, *, fallback: bool = False) -> RayProverPool:
    """A pool of two actors, up; with `fallback`, one that proves locally while the
    cluster cannot be reached (returned at once: it need not come up)."""
    settings = RaySettings(cluster.address, actors=2, cpus=1.0, memory_mb=0, start_timeout=120)
    local = (lambda: ProverPool(1, [model], queued=1)) if fallback else None
    pool = RayProverPool(settings, [model], reconnect_interval=1.0, fallback=local)
    if not fallback:
        _wait(lambda: pool.state == "up", 120, f"pool up ({pool.last_error})")
    return pool


def _wait(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _task(job: int, model: Path) -> ProofTask:
    return ProofTask(job, str(model), (1000 * job, -2000, 3000), binding=job)


def _collect(pool: RayProverPool, n: int, timeout: float) -> dict[int, ProofResult | BaseException]:
    got: dict[int, ProofResult | BaseException] = {}
    deadline = time.monotonic() + timeout
    while len(got) < n:
        assert time.monotonic() < deadline, f"{len(got)} of {n} proofs after {timeout:.0f} s"
        got.update(pool.done())
        time.sleep(0.02)
    return got


def _check(model: Path, job: int, result: ProofResult) -> None:
    """The proof verifies for exactly the job's binding, inputs and returned outputs."""
    layout = circuits.load_model_dir(model).manifest.layout
    public = layout.public_inputs(job, _task(job, model).inputs, result.outputs)
    assert circuits.verify(model, public, Proof.from_words(result.proof_words))


def test_proofs_on_both_nodes_with_the_model_shipped_once_per_node(
    cluster: RayCluster, mlp_model: Path
) -> None:
    pool = _pool(cluster, mlp_model)
    try:
        assert pool.status()["actors"] == 2 and pool.info["nodes"] == 2
        for job in range(1, 5):
            _wait(pool.has_capacity, 30, "capacity")
            pool.submit(_task(job, mlp_model))
        results = _collect(pool, 4, 120)
        for job, result in results.items():
            assert isinstance(result, ProofResult), result
            _check(mlp_model, job, result)
    finally:
        pool.close()
    for node in ("head", "n2"):
        copies = [p for p in cluster.node_cache(node).iterdir() if not p.name.startswith(".")]
        assert len(copies) == 1, (node, copies)


def test_a_job_of_a_bad_row_fails_alone(cluster: RayCluster, mlp_model: Path) -> None:
    pool = _pool(cluster, mlp_model)
    try:
        pool.submit(ProofTask(1, str(mlp_model), (1, 2), binding=1))  # 2 inputs, not 3
        pool.submit(_task(2, mlp_model))
        results = _collect(pool, 2, 120)
    finally:
        pool.close()
    assert isinstance(results[1], ProverError) and "takes 3 input values" in str(results[1])
    assert not isinstance(results[1], ProverLost)
    assert isinstance(results[2], ProofResult)


def test_a_node_killed_mid_burst_loses_no_job(cluster: RayCluster, mlp_model: Path) -> None:
    pool = _pool(cluster, mlp_model)
    results: dict[int, ProofResult] = {}
    lost = 0
    todo = list(range(1, 21))
    killed = False
    try:
        deadline = time.monotonic() + 240
        while len(results) < 20:
            assert time.monotonic() < deadline, f"{len(results)} of 20 proved"
            while todo and pool.has_capacity():
                pool.submit(_task(todo.pop(0), mlp_model))
            for job, outcome in pool.done():
                if isinstance(outcome, ProverLost):
                    lost += 1
                    todo.append(job)  # what the daemon does: park, prove again
                else:
                    assert isinstance(outcome, ProofResult), outcome
                    results[job] = outcome
            if not killed and results and len(pool.in_flight) >= 3:
                cluster.kill("n2")  # one actor per node: n2's has a proof in flight
                killed = True
            time.sleep(0.01)
    finally:
        pool.close()
        cluster.add_node("n3")  # the next test wants two nodes again
        cluster.wait_for_nodes(2)
    assert killed and lost >= 1, (killed, lost)
    for job, result in results.items():
        _check(mlp_model, job, result)


def test_a_stopped_cluster_parks_jobs_and_a_restarted_one_resumes(
    cluster: RayCluster, mlp_model: Path
) -> None:
    pool = _pool(cluster, mlp_model)
    with_fallback: RayProverPool | None = None
    try:
        pool.submit(_task(1, mlp_model))
        assert isinstance(_collect(pool, 1, 60)[1], ProofResult)
        cluster.stop()
        _wait(lambda: pool.state == "down", 90, "the pool to see the cluster gone")
        assert not pool.has_capacity()
        assert pool.status()["state"] == "down" and pool.status()["last_error"]
        # With fallback = "local", the jobs are proved on this machine meanwhile.
        with_fallback = _pool(cluster, mlp_model, fallback=True)
        assert with_fallback.state != "up"
        _wait(with_fallback.has_capacity, 60, "the local fallback")
        with_fallback.submit(_task(3, mlp_model))
        local = _collect(with_fallback, 1, 120)[3]
        assert isinstance(local, ProofResult) and with_fallback.status()["fallback_active"]
        _check(mlp_model, 3, local)
        with_fallback.close()
        cluster.start_head()
        cluster.add_node("n4")
        _wait(lambda: pool.state == "up", 180, f"reconnection ({pool.last_error})")
        _wait(pool.has_capacity, 30, "capacity")
        pool.submit(_task(2, mlp_model))
        result = _collect(pool, 1, 120)[2]
        assert isinstance(result, ProofResult)
        _check(mlp_model, 2, result)
    finally:
        pool.close()
        if with_fallback is not None:
            with_fallback.close()


def test_prove_batch_on_the_cluster(cluster: RayCluster, mlp_model: Path, tmp_path: Path) -> None:
    rows = [[0.1 * i, -0.2, 0.3] for i in range(6)]
    csv_file = tmp_path / "rows.csv"
    csv_file.write_text("".join(",".join(map(str, r)) + "\n" for r in rows))
    out = tmp_path / "out"
    args = ["prove-batch", str(mlp_model), "--inputs", str(csv_file), "--out", str(out),
            "--ray", cluster.address, "--workers", "2"]  # fmt: skip
    assert main(args) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["engine"], summary["proved"], summary["failed"]) == ("ray", 6, [])
    for i in range(6):
        d = out / "rows" / f"{i:06d}"
        proof, public = circuits.read_proof_files(d / "proof.json", d / "public.json")
        assert circuits.verify(mlp_model, public, proof)
    assert main(args) == 0  # a rerun proves nothing again
    assert json.loads((out / "summary.json").read_text())["skipped"] == 6
