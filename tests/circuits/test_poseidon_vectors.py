"""Poseidon values against circomlib: its constants file, circomlibjs hashes, its vectors."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from circuits.errors import FieldRangeError
from circuits.field import R
from circuits.poseidon import constants, poseidon
from oracle.devnet import node_modules

#: circomlib's published test vectors (test/poseidoncircuit.js).
CIRCOMLIB_VECTORS = [
    ([1, 2], 0x115CC0F5E7D690413DF64C6B9662E9CF2A3617F2743245519E19607A4417189A),
    ([3, 4], 0x20A3AF0435914CCD84B806164531B0CD36E37D4EFB93EFAB76913A93E1F30996),
    ([1, 2, 3, 4], 0x299C867DB6C1FDD79DCEFA40E4510B9837E60EBB1CE0663DBAA525DF65250465),
]

CASES: list[list[int]] = [
    [0],
    [1, 2],
    [R - 1, 0],
    [1, 2, 3, 4],
    list(range(1, 17)),
    [R - 1] * 16,
    [(1 << 248) - 1, 12345, 67890],
]


def _circomlibjs() -> Path:
    path = node_modules() / "circomlibjs"
    if not path.is_dir():
        pytest.fail("circomlibjs missing: run `npm ci` in hardhat-free-devnet/")
    return path


def circomlibjs_hashes(cases: list[list[int]]) -> list[int]:
    """Poseidon of each case computed by circomlibjs under node."""
    node = shutil.which("node")
    assert node, "node is required"
    script = (
        "const {buildPoseidon} = require(process.argv[1]);"
        "buildPoseidon().then(p => {"
        " const cases = JSON.parse(process.argv[2]);"
        " console.log(JSON.stringify(cases.map(c => p.F.toString(p(c.map(BigInt))))));"
        "});"
    )
    main = str(_circomlibjs() / "build" / "main.cjs")
    arg = json.dumps([[str(v) for v in c] for c in cases])
    out = subprocess.run(
        [node, "-e", script, main, arg], capture_output=True, text=True, timeout=120, check=True
    )
    return [int(v) for v in json.loads(out.stdout)]


def test_hashes_equal_circomlibjs() -> None:
    assert [poseidon(c) for c in CASES] == circomlibjs_hashes(CASES)


@pytest.mark.parametrize("inputs,expected", CIRCOMLIB_VECTORS)
def test_circomlib_published_vectors(inputs: list[int], expected: int) -> None:
    assert poseidon(inputs) == expected


def test_constants_equal_circomlibjs_file() -> None:
    doc = json.loads((_circomlibjs() / "src" / "poseidon_constants.json").read_text())
    for t in (2, 3, 9, 17):
        p = constants(t)
        assert [c for row in p.ark for c in row] == [int(x, 16) for x in doc["C"][t - 2]]
        assert [list(r) for r in p.mds] == [[int(x, 16) for x in r] for r in doc["M"][t - 2]]


@pytest.mark.parametrize("bad", [[], list(range(17)), [R], [-1]])
def test_bad_inputs_are_refused(bad: list[int]) -> None:
    with pytest.raises(FieldRangeError):
        poseidon(bad)


def test_width_outside_circomlib_is_refused() -> None:
    with pytest.raises(FieldRangeError, match="t = 18"):
        constants(18)
