"""Progress of long work: a tqdm bar on a terminal, the plain lines of before otherwise."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest

from oracle.cli import main
from oracle.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_without_a_terminal_messages_are_plain_lines() -> None:
    out = io.StringIO()
    with Progress("setup", total=3, stream=out) as bar:
        bar.follow("reading")
        bar.follow("proving")
        bar.step()
        bar.write("a result line")
        with bar.estimate(0.05):
            pass
    assert out.getvalue() == "zkoracle: reading\nzkoracle: proving\na result line\n"


def test_on_a_terminal_a_bar_says_what_is_done_and_how_far() -> None:
    out = Terminal()
    with Progress("prove", total=3, stream=out) as bar:
        bar.say("loading")
        bar.step("proving")
        bar.step("writing")
        bar.step()
    text = out.getvalue()
    assert "prove: loading" in text and "prove: writing" in text
    assert "3/3" in text and "100%" in text


def test_an_estimated_step_fills_the_bar_with_time_and_ends_full() -> None:
    out = Terminal()
    with Progress("setup", total=100, unit="%", stream=out) as bar:
        with bar.estimate(0.5):
            time.sleep(0.45)
        assert bar._bar is not None and bar._bar.n == pytest.approx(100.0)
    assert "setup" in out.getvalue() and "100%" in out.getvalue()


def test_compile_and_setup_print_their_steps_without_a_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import onnx

    from circuits.onnx import examples

    onnx.save(examples.mlp([2, 2, 1], seed=3), tmp_path / "m.onnx")
    assert main(["compile", str(tmp_path / "m.onnx"), "-o", str(tmp_path / "m")]) == 0
    assert main(["setup", str(tmp_path / "m")]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("zkoracle: compiling") and "measuring the error" in err[1]
    assert err[2].startswith("zkoracle: native setup for")
