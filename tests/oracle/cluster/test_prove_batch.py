"""`zkoracle prove-batch` with the local engine: every row proved and checked, a bad row
reported without stopping the others, a run killed midway and rerun proves each row once."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import onnx
import pytest

import circuits
from circuits.onnx import examples
from oracle.cli import main
from oracle.prove_batch import BatchError, BatchFolder, read_rows


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 3 -> 4 -> 2 MLP, compiled and set up once."""
    out = tmp_path_factory.mktemp("batch-model")
    onnx.save(examples.mlp([3, 4, 2], seed=1), out / "mlp.onnx")
    circuits.compile_model(out / "mlp.onnx", out / "model")
    circuits.setup(out / "model")
    return out / "model"


def _rows(n: int, seed: int = 7) -> list[list[float]]:
    rng = random.Random(seed)
    return [[round(rng.uniform(-1, 1), 4) for _ in range(3)] for _ in range(n)]


def _write_csv(path: Path, rows: list[list[float]]) -> Path:
    path.write_text("x0,x1,x2\n" + "".join(",".join(map(str, r)) + "\n" for r in rows))
    return path


def _check_row(model: Path, out: Path, index: int, row: list[float]) -> None:
    d = out / "rows" / f"{index:06d}"
    proof, public = circuits.read_proof_files(d / "proof.json", d / "public.json")
    assert circuits.verify(model, public, proof)
    outputs = circuits.load_model_dir(model).prove({"x": [row]}, 0).public
    assert public == outputs  # the same statement a single `zkoracle prove` gives


def test_every_row_of_a_csv_and_a_json_file_is_proved(model: Path, tmp_path: Path) -> None:
    rows = _rows(5)
    csv_file = _write_csv(tmp_path / "rows.csv", rows)
    assert main([*f"prove-batch {model} --inputs {csv_file} --out {tmp_path / 'a'}".split(),
                 "--workers", "2"]) == 0  # fmt: skip
    summary = json.loads((tmp_path / "a" / "summary.json").read_text())
    assert (summary["rows"], summary["proved"], summary["skipped"]) == (5, 5, 0)
    for i, row in enumerate(rows):
        _check_row(model, tmp_path / "a", i, row)
    json_file = tmp_path / "rows.json"
    json_file.write_text(json.dumps([{"x": r} for r in rows]))
    out_b = tmp_path / "b"
    assert main(["prove-batch", str(model), "--inputs", str(json_file), "--out", str(out_b)]) == 0
    for i in range(5):
        a = (tmp_path / "a" / "rows" / f"{i:06d}" / "public.json").read_text()
        assert (out_b / "rows" / f"{i:06d}" / "public.json").read_text() == a


def test_a_row_out_of_range_fails_alone(
    model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [*_rows(2), [1e9, 0.0, 0.0], *_rows(1, seed=3)]
    code = main(["prove-batch", str(model), "--inputs", str(_write_csv(tmp_path / "r.csv", rows)),
                 "--out", str(tmp_path / "o"), "--workers", "1"])  # fmt: skip
    assert code == 1
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["proved"] == 3 and [f["row"] for f in summary["failed"]] == [2]
    assert "input" in summary["failed"][0]["reason"]
    assert "row 2:" in capsys.readouterr().out
    assert not (tmp_path / "o" / "rows" / "000002").exists()


def test_bad_rows_files_name_the_line_or_row(model: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2,3\n1,2\n")
    with pytest.raises(BatchError, match=r"bad\.csv:2: 2 values, the model takes 3"):
        read_rows(bad, model)
    words = tmp_path / "words.csv"
    words.write_text("1,2,3\n1,two,3\n")
    with pytest.raises(BatchError, match=r"words\.csv:2: not a row of numbers"):
        read_rows(words, model)
    empty = tmp_path / "empty.csv"
    empty.write_text("a,b,c\n")
    with pytest.raises(BatchError, match="holds no rows"):
        read_rows(empty, model)


def test_a_changed_rows_file_or_another_model_is_refused(model: Path, tmp_path: Path) -> None:
    rows = _rows(2)
    csv_file = _write_csv(tmp_path / "rows.csv", rows)
    out = tmp_path / "out"
    assert main(["prove-batch", str(model), "--inputs", str(csv_file), "--out", str(out)]) == 0
    rows[1][0] += 0.5
    _write_csv(csv_file, rows)
    with pytest.raises(BatchError, match="row 1 is not the row proven"):
        folder = BatchFolder(out, model, csv_file)
        folder.done(1, read_rows(csv_file, model)[1])
    (out / "batch.json").write_text(json.dumps({"manifest_sha256": "00" * 32}))
    with pytest.raises(BatchError, match="proofs of another model"):
        BatchFolder(out, model, csv_file)


@pytest.mark.slow
def test_a_run_killed_midway_and_rerun_proves_each_row_once(model: Path, tmp_path: Path) -> None:
    rows = _rows(40, seed=11)
    csv_file = _write_csv(tmp_path / "rows.csv", rows)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "oracle.cli", "prove-batch", str(model), "--inputs",
           str(csv_file), "--out", str(out), "--workers", "1"]  # fmt: skip
    run = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + 120
    while len(list((out / "rows").glob("0*"))) < 5:
        assert time.monotonic() < deadline and run.poll() is None, "no rows proved"
        time.sleep(0.02)
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    first = {p.name: p.stat().st_mtime_ns for p in (out / "rows").glob("0*")}
    assert 5 <= len(first) < 40
    assert subprocess.run(cmd, capture_output=True, timeout=300).returncode == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["skipped"] == len(first) and summary["proved"] == 40 - len(first)
    for name, mtime in first.items():  # rows of the first run were not proved again
        assert (out / "rows" / name).stat().st_mtime_ns == mtime
    assert not list((out / "rows").glob(".tmp-*"))
    for i in (0, 39):
        _check_row(model, out, i, rows[i])
