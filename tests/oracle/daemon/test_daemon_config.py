"""The daemon configuration: a full file loads; every bad value names file, key and type."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_account import Account
from eth_utils.crypto import keccak

from oracle.daemon.config import GWEI, DaemonConfig, load_config
from oracle.daemon.errors import ConfigError
from oracle.daemon.models_config import ModelPolicy
from oracle.errors import AccountError
from oracle.hub import model_id_of

HUB = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
MODEL_ID = "0x" + "11" * 32
FEED_ID = "0x" + "22" * 32


def _base(tmp_path: Path) -> str:
    (tmp_path / "mnist").mkdir(exist_ok=True)
    (tmp_path / "features.csv").write_text("a,b\n1,2\n")
    return f"""
[chain]
kind = "rpc"
url = "http://127.0.0.1:8545"
chain_id = 31337
confirmations = 3

[hub]
address = "{HUB}"

[account]
key_env = "ORACLE_TEST_KEY"

[gas]
max_fee_gwei = 50
priority_fee_gwei = 1.5
replace_after = 30
bump_percent = 15

[store]
path = "state/oracle.db"

[metrics]
port = 9464

[provers]
workers = 2

[[models]]
name = "mnist"
id = "{MODEL_ID}"
artifacts = "mnist"

[[feeds]]
id = "{FEED_ID}"
model = "mnist"
heartbeat = 3600
deviation_percent = 1.0
[feeds.source]
kind = "csv"
path = "features.csv"
columns = ["a", "b"]
"""


def _load(tmp_path: Path, text: str) -> DaemonConfig:
    path = tmp_path / "oracle.toml"
    path.write_text(text)
    return load_config(path)


def _error(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, text)
    return str(info.value)


def test_full_config_loads_with_resolved_paths_and_wei(tmp_path: Path) -> None:
    cfg = _load(tmp_path, _base(tmp_path))
    assert cfg.chain.kind == "rpc" and cfg.chain.chain_id == 31337
    assert cfg.chain.confirmations == 3
    assert cfg.hub == HUB
    assert cfg.gas.max_fee_wei == 50 * GWEI and cfg.gas.priority_fee_wei == 1_500_000_000
    assert cfg.gas.bump_percent == 15.0 and cfg.gas.gas_limit is None
    assert cfg.store_path == tmp_path / "state" / "oracle.db"
    assert cfg.metrics_port == 9464 and cfg.prover_workers == 2
    assert cfg.models[0].artifacts == tmp_path / "mnist"
    assert cfg.model("mnist").model_id == bytes.fromhex("11" * 32)
    feed = cfg.feeds[0]
    assert feed.source.kind == "csv" and feed.source.columns == ("a", "b")
    assert feed.heartbeat == 3600.0


def test_minimal_config_gets_defaults(tmp_path: Path) -> None:
    text = f"""
[chain]
kind = "anvil"
[hub]
address = "{HUB.lower()}"
[account]
key_env = "K"
"""
    cfg = _load(tmp_path, text)
    assert cfg.chain.confirmations == 2 and cfg.chain.url is None
    assert cfg.hub == HUB  # checksummed
    assert cfg.metrics_port is None and cfg.models == () and cfg.feeds == ()
    assert cfg.gas.bump_percent >= 10


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "confirmations = 3",
            'confirmations = "two"',
            "[chain].confirmations: expected a non-negative integer, got 'two'",
        ),
        ("confirmations = 3", "confirmations = -1", "[chain].confirmations: expected a non"),
        ("confirmations = 3", "confirmations = true", "[chain].confirmations: expected"),
        ('kind = "rpc"', 'kind = "ganache"', "[chain].kind: expected one of 'embedded'"),
        ("chain_id = 31337\n", "", "[chain].chain_id: missing"),
        ("bump_percent = 15", "bump_percent = 5", "[gas].bump_percent: expected a number >= 10"),
        ("max_fee_gwei = 50", "max_fee_gwei = 0", "[gas].max_fee_gwei: expected a number > 0"),
        ("priority_fee_gwei = 1.5", "priority_fee_gwei = 60", "[gas].priority_fee_gwei"),
        ("workers = 2", "workers = 0", "[provers].workers: expected an integer >= 1, got 0"),
        ("port = 9464", "port = 70000", "[metrics].port: expected a TCP port"),
        ('artifacts = "mnist"', 'artifacts = "nowhere"', "[models][0].artifacts: expected an"),
        (f'id = "{MODEL_ID}"', 'id = "0x12"', "[models][0].id: expected a 0x-prefixed 32-byte"),
        ('model = "mnist"', 'model = "resnet"', "[feeds][0].model: expected the name of a"),
        ('kind = "csv"', 'kind = "ftp"', "[feeds][0].source.kind: expected one of"),
        (
            "confirmations = 3",
            "confirmations = 3\nconfirmation = 3",
            "[chain].confirmation: unknown",
        ),
        ("[store]", "[stor]", "[stor]: unknown section"),
        (f'address = "{HUB}"', 'address = "0x1234"', "[hub].address: expected a 0x-prefixed"),
    ],
)
def test_bad_values_name_file_key_and_expectation(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    text = _base(tmp_path)
    assert old in text
    error = _error(tmp_path, text.replace(old, new, 1))
    assert error.startswith(f"{tmp_path / 'oracle.toml'}: ")
    assert message in error


def test_bad_checksum_and_toml_syntax(tmp_path: Path) -> None:
    bad = HUB.replace("F", "f", 1)
    error = _error(tmp_path, _base(tmp_path).replace(HUB, bad))
    assert "[hub].address: expected a valid EIP-55 checksum" in error
    error = _error(tmp_path, "[chain\nkind = 1")
    assert "not valid TOML" in error and "line 1" in error
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "absent.toml")


def test_a_key_in_the_file_is_refused_and_never_echoed(tmp_path: Path) -> None:
    key = Account.create().key.hex()
    text = _base(tmp_path)
    error = _error(tmp_path, text.replace('key_env = "ORACLE_TEST_KEY"', f'private_key = "{key}"'))
    assert "[account].private_key: secrets never go in the config file" in error
    assert key not in error
    error = _error(tmp_path, text.replace('"ORACLE_TEST_KEY"', f'"0x{key}"'))
    assert "[account].key_env: expected the NAME of an environment variable" in error
    assert key not in error


def test_account_from_env_and_keystore(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    account = Account.create()
    cfg = _load(tmp_path, _base(tmp_path))
    monkeypatch.delenv("ORACLE_TEST_KEY", raising=False)
    with pytest.raises(AccountError, match="ORACLE_TEST_KEY"):
        cfg.account.load()
    monkeypatch.setenv("ORACLE_TEST_KEY", account.key.hex())
    signer = cfg.account.load()
    assert signer.address == account.address
    assert account.key.hex() not in repr(signer)

    keystore = tmp_path / "key.json"
    keystore.write_text(json.dumps(Account.encrypt(account.key, "pw", iterations=2)))
    text = _base(tmp_path).replace(
        'key_env = "ORACLE_TEST_KEY"', 'keystore = "key.json"\npassword_env = "ORACLE_TEST_PW"'
    )
    cfg = _load(tmp_path, text)
    monkeypatch.delenv("ORACLE_TEST_PW", raising=False)
    with pytest.raises(AccountError, match="ORACLE_TEST_PW"):
        cfg.account.load()
    monkeypatch.setenv("ORACLE_TEST_PW", "pw")
    assert cfg.account.load().address == account.address


def test_account_needs_exactly_one_source(tmp_path: Path) -> None:
    text = _base(tmp_path).replace('key_env = "ORACLE_TEST_KEY"', "")
    assert "[account].key_env: set exactly one of key_env and keystore" in _error(tmp_path, text)


def test_rpc_fields_are_refused_for_a_local_chain(tmp_path: Path) -> None:
    text = _base(tmp_path).replace('kind = "rpc"', 'kind = "anvil"')
    assert "[chain].url: only allowed with kind = 'rpc'" in _error(tmp_path, text)


def test_submitter_batching_defaults_and_bounds(tmp_path: Path) -> None:
    base = _base(tmp_path)
    cfg = _load(tmp_path, base)
    assert (cfg.submitter.max_batch, cfg.submitter.max_batch_wait) == (16, 0.0)
    cfg = _load(tmp_path, base + "\n[submitter]\nmax_batch = 4\nmax_batch_wait = 0.5\n")
    assert (cfg.submitter.max_batch, cfg.submitter.max_batch_wait) == (4, 0.5)
    for bad, message in (
        ("max_batch = 0", "[submitter].max_batch: expected an integer >= 1"),
        ("max_batch = 65", "[submitter].max_batch: expected at most 64"),
        ("max_batch_wait = -1", "[submitter].max_batch_wait: expected"),
        ("max_batches = 2", "[submitter].max_batches: unknown"),
    ):
        assert message in _error(tmp_path, base + f"\n[submitter]\n{bad}\n"), bad


def test_an_onchain_feed_source_names_its_contract(tmp_path: Path) -> None:
    text = _base(tmp_path).replace(
        'kind = "csv"\npath = "features.csv"\ncolumns = ["a", "b"]',
        f'kind = "onchain"\naddress = "{HUB.lower()}"',
    )
    (feed,) = _load(tmp_path, text).feeds
    assert (feed.source.kind, feed.source.address) == ("onchain", HUB)


# -- [[models]]: ids, salts and the request policy ------------------------------------------


def _local(tmp_path: Path, model: str) -> str:
    (tmp_path / "mnist").mkdir(exist_ok=True)
    return f"""
[chain]
kind = "anvil"
[account]
key_env = "K"
[[models]]
name = "mnist"
artifacts = "mnist"
{model}
"""


def test_without_a_hub_models_get_the_ids_of_the_daemons_account(tmp_path: Path) -> None:
    owner = Account.create().address
    cfg = _load(tmp_path, _local(tmp_path, 'salt = "risk-v2"'))
    (model,) = cfg.with_owner(owner).models
    assert model.salt == keccak(text="risk-v2")
    assert model.model_id == model_id_of(owner, keccak(text="risk-v2"))
    hex_salt = "0x" + "ab" * 32
    (model,) = _load(tmp_path, _local(tmp_path, f'salt = "{hex_salt}"')).with_owner(owner).models
    assert model.model_id == model_id_of(owner, bytes.fromhex("ab" * 32))
    (model,) = _load(tmp_path, _local(tmp_path, "")).with_owner(owner).models
    assert model.model_id == model_id_of(owner, keccak(text="mnist"))  # the name is the salt
    wrong = _load(tmp_path, _local(tmp_path, f'id = "{MODEL_ID}"'))
    with pytest.raises(ConfigError, match=r"is not the id .* registers with its salt"):
        wrong.with_owner(owner)


def test_with_a_hub_models_need_their_id_and_take_no_salt(tmp_path: Path) -> None:
    base = _base(tmp_path)
    assert "[models][0].id: required with [hub].address" in _error(
        tmp_path, base.replace(f'id = "{MODEL_ID}"\n', "")
    )
    salted = base.replace(f'id = "{MODEL_ID}"', f'id = "{MODEL_ID}"\nsalt = "x"')
    assert "[models][0].salt: only used when the daemon deploys the hub" in _error(tmp_path, salted)
    cfg = _load(tmp_path, base)
    assert cfg.with_owner(Account.create().address) == cfg


def test_model_policy_defaults_and_values(tmp_path: Path) -> None:
    base = _base(tmp_path)
    assert _load(tmp_path, base).models[0].policy == ModelPolicy()
    policy = "min_fee = 1000\nmax_callback_gas = 300000\nfee_margin = 1.5\nmin_time_left = 60"
    cfg = _load(tmp_path, base.replace('artifacts = "mnist"', f'artifacts = "mnist"\n{policy}'))
    assert cfg.models[0].policy == ModelPolicy(1000, 300_000, 1.5, 60.0)
    bad = base.replace('artifacts = "mnist"', 'artifacts = "mnist"\nmin_fee = -1')
    assert "[models][0].min_fee: expected a non-negative integer" in _error(tmp_path, bad)


def test_a_chainlink_source_takes_its_freshness_limits(tmp_path: Path) -> None:
    aggregator = "0x" + "33" * 20
    source = f'kind = "chainlink"\naddress = "{aggregator}"\nmax_age = 900\npositive = false'
    text = _base(tmp_path).replace(
        'kind = "csv"\npath = "features.csv"\ncolumns = ["a", "b"]', source
    )
    (feed,) = _load(tmp_path, text).feeds
    assert (feed.source.kind, feed.source.max_age, feed.source.positive) == (
        "chainlink",
        900,
        False,
    )
    bad = text.replace("positive = false", 'positive = "no"')
    assert "[feeds][0].source.positive: expected true or false" in _error(tmp_path, bad)


def test_prover_threads_share_the_cores_between_workers(tmp_path: Path) -> None:
    import os

    cfg = _load(tmp_path, _base(tmp_path))
    assert cfg.prover_workers == 2
    assert cfg.prover_threads == max(1, (os.cpu_count() or 1) // 2)
    cfg = _load(tmp_path, _base(tmp_path).replace("workers = 2", "workers = 2\nthreads = 3"))
    assert cfg.prover_threads == 3
    err = _error(tmp_path, _base(tmp_path).replace("workers = 2", "workers = 2\nthreads = 0"))
    assert "[provers].threads: expected an integer >= 1, got 0" in err


def test_an_operator_key_registry_is_optional_and_checked(tmp_path: Path) -> None:
    assert _load(tmp_path, _base(tmp_path)).operator_keys is None
    keys = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"
    with_keys = _base(tmp_path).replace(
        f'address = "{HUB}"', f'address = "{HUB}"\noperator_keys = "{keys}"'
    )
    assert _load(tmp_path, with_keys).operator_keys == keys
    error = _error(tmp_path, with_keys.replace(keys, "0x1234"))
    assert "[hub].operator_keys" in error
