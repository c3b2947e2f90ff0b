"""The prover pool with the real pipeline: a tiny compiled model, arkworks keys, real proofs."""

from __future__ import annotations

from pathlib import Path

import pytest

import circuits
from circuits.groth16.data import Proof
from oracle.daemon.errors import ProverError
from oracle.daemon.provers import ProofResult, ProofTask, ProverPool, prove_task
from tests.oracle.daemon.daemon_helpers import tiny_model


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_model(tmp_path_factory.mktemp("model"))


def _check(model_dir: Path, task: ProofTask, result: ProofResult) -> None:
    manifest = circuits.Manifest.load(model_dir)
    public = manifest.layout.public_inputs(task.binding, task.inputs, result.outputs)
    assert circuits.verify(model_dir, public, Proof.from_words(result.proof_words))
    assert Proof.from_words(result.proof_words).to_bytes() == result.proof_bytes


def test_a_task_proves_the_requested_quantized_inputs(model_dir: Path) -> None:
    task = ProofTask(1, str(model_dir), (32768, -16384, 8192), binding=987654321)
    result = prove_task(task)
    assert result.job_id == 1 and len(result.outputs) == 2 and len(result.proof_words) == 8
    _check(model_dir, task, result)
    with pytest.raises(ProverError, match="takes 3 input values, the request has 2"):
        prove_task(ProofTask(2, str(model_dir), (1, 2), binding=1))


@pytest.mark.slow
def test_the_pool_bounds_concurrency_and_returns_results_and_errors(model_dir: Path) -> None:
    pool = ProverPool(2, [model_dir])
    try:
        tasks = [ProofTask(i, str(model_dir), (i * 1000, -i, 7), binding=i) for i in (1, 2)]
        for task in tasks:
            pool.submit(task)
        assert not pool.has_capacity() and set(pool.in_flight) == {1, 2}
        with pytest.raises(ProverError, match="pool is full"):
            pool.submit(ProofTask(3, str(model_dir), (1, 2, 3), binding=3))
        pool.wait(60)
        results = dict(pool.done())
        assert set(results) == {1, 2} and pool.has_capacity()
        for task in tasks:
            result = results[task.job_id]
            assert isinstance(result, ProofResult)
            _check(model_dir, task, result)
            assert result.outputs == prove_task(task).outputs  # deterministic outputs

        pool.submit(ProofTask(4, str(model_dir), (1,), binding=4))
        pool.wait(60)
        ((job_id, error),) = pool.done()
        assert job_id == 4 and isinstance(error, ProverError)

        pool.submit(ProofTask(5, str(model_dir), (1, 2, 3), binding=5))
        assert pool.restart() == [5] and pool.in_flight == {}
        pool.submit(ProofTask(6, str(model_dir), (1, 2, 3), binding=6))  # a fresh worker
        pool.wait(60)
        ((job_id, result),) = pool.done()
        assert job_id == 6 and isinstance(result, ProofResult)
    finally:
        pool.close()
