"""The annotated example configuration loads and validates, lists every key the daemon
reads, and `zkoracle init` fills it in to a configuration `zkoracle serve` accepts."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from oracle.cli import main
from oracle.daemon import config as config_module
from oracle.daemon import feeds_config, models_config
from oracle.daemon.config import load_config, parse_config
from oracle.daemon.example import example_text

HUB = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
#: A key read by the configuration modules: t.integer("confirmations", ...), has("key"), ...
_KEY_READ = re.compile(
    r"""\.(?:string|strings|integer|number|choice|path|address|bytes32|has|table|tables)\(\s*"([a-z_]+)\""""
)


def _keys_read() -> set[str]:
    modules = (config_module, feeds_config, models_config)
    text = "".join(Path(m.__file__ or "").read_text() for m in modules)
    forbidden = {"key", "private_key", "password"}  # named only to be refused
    return set(_KEY_READ.findall(text)) - forbidden


def test_the_example_names_every_key_the_daemon_reads() -> None:
    text = example_text()
    documented = set(re.findall(r"^(?:# )?([a-z_]+) = ", text, re.MULTILINE))
    documented |= {k.split(".")[-1] for k in re.findall(r"^\[+([a-z_.]+)\]+", text, re.MULTILINE)}
    missing = _keys_read() - documented
    assert not missing, f"keys read by the daemon but not in the example: {sorted(missing)}"


def test_the_example_loads_and_validates(tmp_path: Path) -> None:
    (tmp_path / "build" / "risk-score").mkdir(parents=True)
    (tmp_path / "inputs.csv").write_text("x0,x1,x2\n1,2,3\n")
    path = tmp_path / "oracle.toml"
    path.write_text(example_text())
    config = load_config(path)
    assert config.chain.kind == "rpc" and config.chain.chain_id == 31337
    assert config.chain.confirmations == 2 and config.chain.reorg_depth == 128
    assert config.hub == HUB and config.account.key_env == "ZKORACLE_PRIVATE_KEY"
    assert config.gas.max_fee_wei == 200 * 10**9 and config.gas.bump_percent == 12.5
    assert config.store_path == tmp_path / "state" / "oracle.db"
    assert config.metrics_port == 9464 and config.prover_workers == 1
    assert [m.name for m in config.models] == ["risk-score"]
    (feed,) = config.feeds
    assert feed.heartbeat == 3600 and feed.source.columns == ("x0", "x1", "x2")


def test_the_defaults_stated_in_the_example_are_the_daemons(tmp_path: Path) -> None:
    """The example's values are the defaults: leaving the optional lines out changes nothing."""
    (tmp_path / "build" / "risk-score").mkdir(parents=True)
    (tmp_path / "inputs.csv").write_text("x0,x1,x2\n1,2,3\n")
    full = tomllib.loads(example_text())
    bare = {
        "chain": {k: full["chain"][k] for k in ("kind", "url", "chain_id")},
        "hub": full["hub"], "account": full["account"],
        "models": full["models"],
        "feeds": [{k: v for k, v in f.items() if k in ("id", "model", "heartbeat", "source")}
                  for f in full["feeds"]],
    }  # fmt: skip
    a = parse_config(full, tmp_path / "a.toml")
    b = parse_config(bare, tmp_path / "a.toml")
    assert (a.chain, a.gas, a.prover_workers, a.proof_timeout) == (
        b.chain, b.gas, b.prover_workers, b.proof_timeout)  # fmt: skip
    assert a.feeds == b.feeds


def test_init_writes_a_configuration_serve_accepts(
    model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "oracle.toml"
    model_id = "0x" + "ab" * 32
    argv = ["init", "--chain-id", "31337", "--hub", HUB.lower(), "--model",
            f"{model_id}:{model_dir}", "-o", str(out)]  # fmt: skip
    assert main(argv) == 0
    config = load_config(out)
    assert config.hub == HUB and config.chain.url == "http://127.0.0.1:8545"
    assert [(m.name, "0x" + m.model_id.hex(), m.artifacts.resolve()) for m in config.models] == [
        ("mlp", model_id, model_dir.resolve())
    ]
    assert config.feeds == () and "# [[feeds]]" in out.read_text()
    assert "# The sending account." in out.read_text()  # the annotations stay
    assert "zkoracle serve --config" in capsys.readouterr().out
    assert main(argv) == 2  # an existing file is not overwritten
    assert "--force" in capsys.readouterr().err


def test_init_without_a_hub_or_model_says_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["init", "--chain-id", "1", "--deployment", str(tmp_path / "none.json"),
            "-o", str(tmp_path / "o.toml")]  # fmt: skip
    assert main(argv) == 2
    assert "zkoracle deploy" in capsys.readouterr().err


def test_init_refuses_a_bad_model_argument(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["init", "--model", "0x12:dir"])
    assert "ID:DIR" in capsys.readouterr().err
