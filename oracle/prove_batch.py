"""Proving many rows of one model (a nightly batch of credit scores), locally or on Ray.

Rows come from a JSON file (anything `zkoracle prove` reads, with several samples: ezkl's
``{"input_data": [...]}``, or a list of ``{"<input name>": [...]}`` objects) or a CSV file
(one row per line, the inputs' values flattened in the manifest's order; a first line
that is not numeric is a header). Each row is quantized here, as the hub would store it,
and proved by the same pool the daemon uses (`ProverPool` or `RayProverPool`).

Output, under OUT/::

    batch.json               the model (manifest sha256) and the rows file this folder is for
    rows/000042/input.json   the row's quantized inputs
    rows/000042/proof.json   snarkjs layout
    rows/000042/public.json  snarkjs layout
    rows/000042/output.json  dequantized outputs
    summary.json             counts, failures with their reasons, time

A row's folder is written under a temporary name and renamed when complete, so an
interrupted run leaves only whole rows, and a rerun proves exactly the rows that are
missing (after checking that the rows already proven are still the rows of the file).
"""

from __future__ import annotations

import csv
import json
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from circuits import Manifest, Proof, manifest_sha256, pipeline, quantize
from oracle.daemon.errors import ProverLost
from oracle.daemon.provers import ProofResult, ProofTask, ProverEngine
from oracle.errors import OracleError

LOST = "lost with its prover: queued again"


class BatchError(OracleError):
    """The rows file or the output folder cannot be used (names the row or the file)."""


@dataclass
class BatchSummary:
    rows: int
    proved: int
    skipped: int  # already proven by an earlier run
    failed: list[dict[str, Any]]
    seconds: float
    engine: str

    def as_json(self) -> dict[str, Any]:
        rate = self.proved / self.seconds if self.seconds > 0 else 0.0
        return {**self.__dict__, "rows_per_second": round(rate, 3)}


def read_rows(path: Path, model_dir: Path) -> list[tuple[int, ...]]:
    """The quantized inputs of every row, flat, in the manifest's input order."""
    manifest = Manifest.load(model_dir)
    if not path.is_file():
        raise BatchError(f"{path}: no such rows file")
    if path.suffix.lower() == ".csv":
        flats = _csv_rows(path, sum(s.size for s in manifest.inputs))
        samples = [_split(flat, manifest) for flat in flats]
    else:
        samples = pipeline.read_samples(model_dir, path)
    rows = []
    for sample in samples:
        flat: list[int] = []
        for spec in manifest.inputs:
            flat += [int(v) for v in quantize(sample[spec.name], spec.scale).reshape(-1)]
        rows.append(tuple(flat))
    if not rows:
        raise BatchError(f"{path}: holds no rows")
    return rows


def _csv_rows(path: Path, width: int) -> list[list[float]]:
    with path.open(newline="") as f:
        lines = [line for line in csv.reader(f) if line and any(c.strip() for c in line)]
    rows = []
    for number, line in enumerate(lines, start=1):
        try:
            values = [float(c) for c in line]
        except ValueError:
            if number == 1:
                continue  # a header
            raise BatchError(f"{path}:{number}: not a row of numbers: {line[:6]}") from None
        if len(values) != width:
            raise BatchError(f"{path}:{number}: {len(values)} values, the model takes {width}")
        rows.append(values)
    return rows


def _split(flat: Sequence[float], manifest: Manifest) -> dict[str, Any]:
    sample, offset = {}, 0
    for spec in manifest.inputs:
        sample[spec.name] = np.asarray(flat[offset : offset + spec.size]).reshape(spec.shape)
        offset += spec.size
    return sample


class BatchFolder:
    """OUT/: which rows are proven, and the atomic writing of a row's files."""

    def __init__(self, out: Path, model_dir: Path, rows_file: Path) -> None:
        self.out = out
        self.rows_dir = out / "rows"
        self.model_dir = model_dir
        self.manifest = Manifest.load(model_dir)
        marker = {"manifest_sha256": manifest_sha256(model_dir), "rows": str(rows_file.resolve())}
        path = out / "batch.json"
        if path.is_file():
            found = json.loads(path.read_text())
            if found.get("manifest_sha256") != marker["manifest_sha256"]:
                raise BatchError(f"{out} holds proofs of another model; choose a new --out")
        else:
            self.rows_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(marker, indent=1) + "\n")
        for stale in self.rows_dir.glob(".tmp-*"):  # a row an interrupted run left unfinished
            shutil.rmtree(stale, ignore_errors=True)

    def row_dir(self, index: int) -> Path:
        return self.rows_dir / f"{index:06d}"

    def done(self, index: int, inputs: Sequence[int]) -> bool:
        """Whether row `index` is proven already (and is still the same row)."""
        d = self.row_dir(index)
        if not (d / "proof.json").is_file():
            return False
        stored = json.loads((d / "input.json").read_text())["quantized"]
        if [int(v) for v in stored] != list(inputs):
            raise BatchError(
                f"row {index} is not the row proven in {d} (the rows file changed); "
                "choose a new --out or remove that folder"
            )
        return True

    def write(self, index: int, inputs: Sequence[int], binding: int, result: ProofResult) -> None:
        layout = self.manifest.layout
        public = layout.public_inputs(binding, inputs, result.outputs)
        outputs, offset = {}, 0
        for spec in self.manifest.outputs:
            q = result.outputs[offset : offset + spec.size]
            offset += spec.size
            outputs[spec.name] = np.array([v / 2.0**spec.scale for v in q]).reshape(spec.shape)
        proof = Proof.from_words(list(result.proof_words))
        prove_result = pipeline.ProveResult(proof, public, outputs, 0.0, result.seconds)
        staging = self.rows_dir / f".tmp-{index:06d}"
        shutil.rmtree(staging, ignore_errors=True)
        pipeline.write_proof_files(staging, prove_result, self.manifest)
        (staging / "input.json").write_text(json.dumps({"quantized": list(inputs)}) + "\n")
        staging.rename(self.row_dir(index))


def prove_rows(
    folder: BatchFolder,
    rows: Sequence[tuple[int, ...]],
    pool: ProverEngine,
    *,
    binding: int = 0,
    on_row: Callable[[int, str], None] | None = None,
) -> BatchSummary:
    """Prove every row not proven yet; a row whose prover was lost is proved again, a row
    that cannot be proved is reported with its reason and the others go on."""
    started = time.monotonic()
    todo = [i for i, row in enumerate(rows) if not folder.done(i, row)]
    skipped = len(rows) - len(todo)
    if on_row is not None:
        for i in sorted(set(range(len(rows))) - set(todo)):
            on_row(i, "already proven")
    failed: list[dict[str, Any]] = []
    proved = 0
    queue = list(todo)
    outstanding: set[int] = set()  # submitted, outcome not read yet
    model_dir = str(folder.model_dir)
    while queue or outstanding:
        while queue and pool.has_capacity():
            i = queue.pop(0)
            pool.submit(ProofTask(i, model_dir, rows[i], binding))
            outstanding.add(i)
        for i, outcome in pool.done():
            outstanding.discard(i)
            if isinstance(outcome, ProofResult):
                folder.write(i, rows[i], binding, outcome)
                proved += 1
                what = "proved"
            elif isinstance(outcome, ProverLost):
                queue.append(i)
                what = LOST
            else:
                failed.append({"row": i, "reason": f"{type(outcome).__name__}: {outcome}"})
                what = "failed"
            if on_row is not None:
                on_row(i, what)
        time.sleep(0.01)
    summary = BatchSummary(len(rows), proved, skipped, failed, time.monotonic() - started,
                           str(pool.status()["engine"]))  # fmt: skip
    (folder.out / "summary.json").write_text(json.dumps(summary.as_json(), indent=1) + "\n")
    return summary
