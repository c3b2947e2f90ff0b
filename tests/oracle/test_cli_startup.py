"""The CLI imports only the command it runs, and its help table matches the commands."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from oracle.cli import COMMANDS, build_parser

ROOT = Path(__file__).parents[2]


def _subparsers(
    parser: argparse.ArgumentParser,
) -> argparse._SubParsersAction[argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    raise AssertionError("no subcommands")


def test_help_table_matches_the_command_modules() -> None:
    full = _subparsers(build_parser())
    helps = {a.dest: a.help for a in full._choices_actions}
    assert helps == COMMANDS


def _imported(*args: str) -> set[str]:
    code = (
        "import sys\nfrom oracle.cli import main\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        "print(' '.join(sorted(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    return set(out.stdout.split())


def test_help_imports_no_command_and_no_heavy_library() -> None:
    mods = _imported("--help")
    assert not any(m.startswith("oracle.commands.") for m in mods)
    assert not {"numpy", "onnx", "web3", "py_ecc", "circuits.pipeline"} & mods


def test_verify_imports_neither_the_compiler_nor_numpy(tmp_path: Path) -> None:
    mods = _imported("verify", str(tmp_path))
    assert "oracle.commands.verify" in mods and "oracle.commands.prove" not in mods
    assert not {"numpy", "onnx", "circuits.onnx.compiler", "circuits.pipeline"} & mods


def test_prove_from_a_stored_model_imports_neither_onnx_nor_the_compiler(
    tmp_path: Path,
) -> None:
    import circuits
    from circuits.onnx import examples

    onnx_path = examples.save(examples.mlp((2, 2, 1)), tmp_path / "m.onnx")
    circuits.compile_model(onnx_path, tmp_path / "m")
    circuits.setup(tmp_path / "m", progress=lambda _m: None)
    (tmp_path / "in.json").write_text('{"input_data": [[0.25, -0.5]]}')
    args = ("prove", str(tmp_path / "m"), "--input", str(tmp_path / "in.json"))
    mods = _imported(*args, "--out", str(tmp_path / "p"))
    assert (tmp_path / "p" / "proof.json").is_file()
    assert "circuits.onnx.model" in mods
    assert not {"onnx", "circuits.onnx.compiler", "circuits.onnx.loader", "tqdm"} & mods
