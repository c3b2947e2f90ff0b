"""The README's main command: the whole demo on the embedded chain and on Anvil."""

from __future__ import annotations

from pathlib import Path

import pytest

from oracle.cli import main
from oracle.demo.run import DEMO_STEPS, run_demo
from oracle.demo.scenarios import Outcome

pytestmark = pytest.mark.slow

#: The demo's models run at the default precision: outputs within 1e-4 of onnxruntime.
ERROR_BOUND = 1e-4


def _check(report_outcomes: list[Outcome], n: int = 7) -> None:
    assert len(report_outcomes) == n
    for o in report_outcomes:
        assert abs(o.onchain - o.float_model) < ERROR_BOUND, o
        assert 200_000 < o.fulfill_gas < 450_000, o  # the on-chain-input round reads 8 rounds


@pytest.mark.anvil
def test_demo_on_anvil(tmp_path: Path) -> None:
    lines: list[str] = []
    steps: list[str] = []
    report = run_demo("anvil", tmp_path, lines.append, steps.append)
    assert len(steps) == DEMO_STEPS, steps  # what the demo's progress bar counts
    _check(report.outcomes)
    assert report.proofs >= 6
    assert set(report.consumers) == {
        "hub", "RiskGatedLendingPool", "SignalVault", "PriceAggregator (ETH/USD)",
        "OnchainInputFeeds", "SignalVault (on-chain inputs)", "RiskGatedLendingPool (private)",
    }  # fmt: skip
    assert any("from the last 8 aggregator rounds -> vault position" in line for line in lines)
    assert any("private risk score" in line for line in lines)
    risk = [o.onchain for o in report.outcomes if o.model == "risk-score"]
    assert min(risk) < 0.5 < max(risk)  # one borrower gets credit, one is refused
    assert any("credit limit 0.00 ETH" in line for line in lines)
    assert (tmp_path / "oracle.toml").is_file() and (tmp_path / "state" / "oracle.db").is_file()


def test_demo_command_on_the_embedded_chain(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--workdir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "proofs of 256 bytes each" in out
    assert out.count("risk-score") >= 3 and "feed round" in out
    assert "ETH/USD on-chain round" in out
    assert "development single-party setup" in out
