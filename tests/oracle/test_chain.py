"""Chains (embedded, Anvil, RPC URL), accounts and readable reverts, all on real nodes."""

from __future__ import annotations

import json
import logging
import os
import pickle
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account
from eth_typing import HexStr

from circuits.groth16.trapdoor import make_trapdoor
from circuits.solidity import render_verifier, verifier_calldata
from oracle import chain as chains
from oracle import devnet
from oracle.accounts import ENV_KEYSTORE_PASSWORD, ENV_PRIVATE_KEY, Signer, signer_from_env
from oracle.anvil import AnvilNode, rpc_answers
from oracle.chain import Chain
from oracle.errors import (
    AccountError,
    ChainConnectionError,
    TransactionNotMined,
    TransactionReverted,
)
from oracle.solc import CompiledContract, compile_sources

SOURCE = """// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

contract Box {
    error TooBig(uint256 value, address by);
    uint256 public value;

    function put(uint256 v) external payable {
        if (v > 100) revert TooBig(v, msg.sender);
        value = v;
    }
    function fail(string calldata why) external pure { require(false, why); }
    function divide(uint256 d) external pure returns (uint256) { return 10 / d; }
}
"""
GAS = 300_000
GAS_VERIFY = 1_000_000
# A fixed throwaway key for the secrecy tests; what matters is that its text never leaks.
SECRET = "0x" + "5e" * 31 + "01"


@pytest.fixture(scope="module")
def box() -> CompiledContract:
    return compile_sources({"Box.sol": SOURCE})["Box"]


@pytest.fixture(autouse=True)
def no_configured_account(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (ENV_PRIVATE_KEY, "ZKORACLE_KEYSTORE", ENV_KEYSTORE_PASSWORD):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def anvil_chain() -> Iterator[Chain]:
    with chains.anvil(signer=None) as chain:
        yield chain


def _exercise(chain: Chain, box: CompiledContract, gas: int | None) -> None:
    """Deploy, write, and check the three kinds of revert, on any chain."""
    c = chain.contract(chain.deploy(box, gas=gas), box)
    receipt = chain.transact(c.functions.put(42), gas=gas)
    assert receipt["status"] == 1 and receipt["from"] == chain.sender
    assert chain.call(c.functions.value()) == 42

    with pytest.raises(TransactionReverted) as info:
        chain.transact(c.functions.put(101), gas=GAS)
    assert info.value.error_name == "TooBig"
    value, by = info.value.error_args
    assert value == 101 and by.lower() == chain.sender.lower()
    assert info.value.tx_hash is not None
    assert str(info.value).startswith(f"transaction {info.value.tx_hash} reverted: TooBig(101, ")

    with pytest.raises(TransactionReverted) as info:
        chain.call(c.functions.fail("no reason"))
    assert info.value.tx_hash is None
    assert (info.value.error_name, info.value.error_args) in {
        ("Error", ("no reason",)),
        (None, ()),  # py-evm decodes Error(string) itself and gives only the text
    }
    assert "no reason" in str(info.value)

    with pytest.raises(TransactionReverted) as info:
        chain.call(c.functions.divide(0))
    assert (info.value.error_name, info.value.error_args) == ("Panic", (0x12,))


def test_embedded_chain(box: CompiledContract) -> None:
    chain = chains.connect("embedded")
    assert chain.kind == "embedded" and chain.is_local
    assert chain.signer is None and len(chain.accounts) >= 2
    _exercise(chain, box, gas=None)  # no gas given: the fixed embedded limit, no estimate


@pytest.mark.anvil
def test_anvil_chain(anvil_chain: Chain, box: CompiledContract) -> None:
    assert anvil_chain.chain_id == 31337
    assert anvil_chain.sender == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    _exercise(anvil_chain, box, gas=None)  # gas from eth_estimateGas


@pytest.mark.anvil
def test_estimate_reverts_before_sending(anvil_chain: Chain, box: CompiledContract) -> None:
    c = anvil_chain.contract(anvil_chain.deploy(box), box)
    nonce = anvil_chain.w3.eth.get_transaction_count(anvil_chain.sender)
    with pytest.raises(TransactionReverted) as info:
        anvil_chain.transact(c.functions.put(500))
    assert info.value.tx_hash is None and info.value.error_name == "TooBig"
    assert anvil_chain.w3.eth.get_transaction_count(anvil_chain.sender) == nonce


@pytest.mark.anvil
def test_other_dev_accounts_can_send(anvil_chain: Chain, box: CompiledContract) -> None:
    c = anvil_chain.contract(anvil_chain.deploy(box), box)
    other = anvil_chain.accounts[3]
    receipt = anvil_chain.transact(c.functions.put(7), sender=other)
    assert receipt["from"] == other
    with pytest.raises(AccountError, match="neither the signer"):
        anvil_chain.transact(c.functions.put(7), sender="0x" + "12" * 20)


@pytest.mark.anvil
def test_failures_without_revert_data(
    box: CompiledContract, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(chains.RECEIPT_TIMEOUT_S, "anvil", 1.0)
    with chains.anvil(signer=None) as chain:  # its own node: the stuck transaction stays
        c = chain.contract(chain.deploy(box), box)
        with pytest.raises(TransactionReverted, match="used 30000 of its 30000 gas") as info:
            chain.transact(c.functions.put(5), gas=30_000)  # out of gas in SSTORE
        assert info.value.error_name is None and info.value.tx_hash
        # Below the calldata floor: Anvil accepts it into the pool but never mines it.
        with pytest.raises(TransactionNotMined, match="not mined within 1 s"):
            chain.transact(c.functions.put(5), gas=21_100)


def _check_verifier(chain: Chain) -> None:
    """The generated verifier accepts a valid proof and names a wrong one on this chain."""
    td = make_trapdoor(1, seed=77)
    name = "Groth16Verifier"
    compiled = compile_sources({"V.sol": render_verifier(td.verifying_key())})[name]
    v = chain.contract(chain.deploy(compiled), compiled)
    words, public = verifier_calldata(td.forge([12345]), [12345])
    # Explicit gas: Ganache runs its slow pairing once per estimateGas probe.
    assert chain.transact(v.functions.verifyProof(words, public), gas=GAS_VERIFY)["status"] == 1
    with pytest.raises(TransactionReverted) as info:
        chain.call(v.functions.verifyProof(words, [12346]))
    assert info.value.error_name == "ProofInvalid"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _devnet_script(name: str, port: int) -> subprocess.CompletedProcess[str]:
    script = devnet.devnet_dir() / name
    return subprocess.run(
        [str(script), str(port)], capture_output=True, text=True, timeout=90, check=False
    )


@pytest.mark.parametrize(
    ("node", "chain_id"),
    [
        pytest.param("anvil", 31337, marks=pytest.mark.anvil),
        pytest.param("ganache", 1337, marks=[pytest.mark.ganache, pytest.mark.slow]),
    ],
)
def test_devnet_start_and_stop_scripts(node: str, chain_id: int, box: CompiledContract) -> None:
    port = _free_port()
    pidfile = devnet.devnet_dir() / "run" / f"{node}-{port}.pid"
    started = _devnet_script(f"start-{node}.sh", port)
    try:
        assert started.returncode == 0, started.stderr
        assert f"http://127.0.0.1:{port}, chain id {chain_id}" in started.stdout
        pid = int(pidfile.read_text())
        chain = chains.connect(f"http://127.0.0.1:{port}", signer=None)
        assert chain.chain_id == chain_id
        assert chain.sender == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
        again = _devnet_script(f"start-{node}.sh", port)
        assert again.returncode != 0 and "already running" in again.stderr
        c = chain.contract(chain.deploy(box), box)  # a shanghai build runs on both
        chain.transact(c.functions.put(3))
        assert chain.call(c.functions.value()) == 3
        _check_verifier(chain)
    finally:
        stopped = _devnet_script(f"stop-{node}.sh", port)
        pidfile.with_suffix(".log").unlink(missing_ok=True)
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    assert not pidfile.exists() and not _process_exists(pid)
    assert not rpc_answers(f"http://127.0.0.1:{port}")


def _port_is_free(port: int) -> bool:
    """A new server could listen on it (SO_REUSEADDR, as servers set it, so that the
    TIME_WAIT entries of closed connections do not count)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.anvil
def test_anvil_node_starts_fast_and_stops_cleanly() -> None:
    node = AnvilNode()
    with node:
        pid, port, url = node.pid, node.port, node.url
        assert pid is not None and port is not None
        assert url == f"http://127.0.0.1:{port}"
        assert rpc_answers(url) and not _port_is_free(port)
    assert node.pid is None and node.port is None
    assert not _process_exists(pid)
    assert _port_is_free(port) and not rpc_answers(url)
    node.stop()  # idempotent


@pytest.mark.anvil
def test_two_nodes_get_distinct_ports_and_chain_close_stops_its_node() -> None:
    with AnvilNode() as a, AnvilNode() as b:
        assert a.port != b.port
    chain = chains.anvil(signer=None)
    url = chain.w3.provider.endpoint_uri  # type: ignore[attr-defined]
    assert rpc_answers(url)
    chain.close()
    assert not rpc_answers(url)


@pytest.mark.anvil
def test_rpc_url_uses_the_nodes_unlocked_accounts(box: CompiledContract) -> None:
    with AnvilNode(chain_id=4242) as node:
        chain = chains.connect(node.url, signer=None)
        assert chain.kind == "rpc" and chain.chain_id == 4242 and not chain.is_local
        c = chain.contract(chain.deploy(box), box)
        chain.transact(c.functions.put(9))
        assert chain.call(c.functions.value()) == 9


def test_bad_rpc_targets() -> None:
    with pytest.raises(ChainConnectionError, match="unsupported RPC URL"):
        chains.connect("ftp://example")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ChainConnectionError, match="cannot reach"):
        chains.connect(f"http://127.0.0.1:{port}", signer=None)


# -- accounts -----------------------------------------------------------------------------


def _keystore(tmp_path: Path, key: str, password: str) -> Path:
    path = tmp_path / "keystore.json"
    path.write_text(json.dumps(Account.encrypt(HexStr(key), password, kdf="pbkdf2", iterations=2)))
    return path


@pytest.mark.anvil
def test_keystore_account_signs_on_anvil(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, box: CompiledContract
) -> None:
    account = Account.create()
    path = _keystore(tmp_path, account.key.hex(), "correct horse")
    monkeypatch.setenv("ZKORACLE_KEYSTORE", str(path))
    monkeypatch.setenv(ENV_KEYSTORE_PASSWORD, "correct horse")
    with chains.anvil() as chain:  # the signer comes from the environment
        assert chain.signer is not None and chain.sender == account.address
        assert chain.accounts[0] == account.address
        assert chain.w3.eth.get_balance(account.address) > 0, "a local chain funds the signer"
        c = chain.contract(chain.deploy(box), box)
        receipt = chain.transact(c.functions.put(5))
        assert receipt["from"] == account.address


def test_keystore_password_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from oracle.accounts import load_keystore

    account = Account.create()
    path = _keystore(tmp_path, account.key.hex(), "pw")
    monkeypatch.setenv(ENV_KEYSTORE_PASSWORD, "not it")
    with pytest.raises(AccountError, match="wrong password") as info:
        load_keystore(path)
    assert info.value.__context__ is None and "not it" not in str(info.value)
    monkeypatch.delenv(ENV_KEYSTORE_PASSWORD)
    prompts: list[str] = []

    def prompt(text: str) -> str:
        prompts.append(text)
        return "pw"

    signer = load_keystore(path, prompt=prompt)
    assert signer.address == account.address and str(path) in prompts[0]
    with pytest.raises(AccountError, match="not an eth-account keystore"):
        (tmp_path / "other.json").write_text("{}")
        load_keystore(tmp_path / "other.json")


def test_keystore_without_password_and_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _keystore(tmp_path, Account.create().key.hex(), "pw")
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    with pytest.raises(AccountError, match=ENV_KEYSTORE_PASSWORD):
        signer_from_env(keystore=path)


def test_bad_key_in_env_is_named_not_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_PRIVATE_KEY, "0x1234secretish")
    with pytest.raises(AccountError, match=ENV_PRIVATE_KEY) as info:
        signer_from_env()
    assert "secretish" not in str(info.value) and info.value.__context__ is None


def test_key_never_in_logs_reprs_or_errors(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, box: CompiledContract
) -> None:
    monkeypatch.setenv(ENV_PRIVATE_KEY, SECRET)
    caplog.set_level(logging.DEBUG)
    chain = chains.embedded()
    signer = chain.signer
    assert signer is not None and signer.address == Account.from_key(SECRET).address
    c = chain.contract(chain.deploy(box), box)
    chain.transact(c.functions.put(1))
    with pytest.raises(TransactionReverted) as info:
        chain.transact(c.functions.put(1000), gas=GAS)
    with pytest.raises(TypeError):
        pickle.dumps(signer)

    needle = SECRET.removeprefix("0x").lower()
    seen = [caplog.text, repr(chain), str(chain), repr(signer), str(signer), str(info.value)]
    seen += [repr(info.value), repr(vars(chain)), str(Signer.__slots__)]
    assert caplog.records, "the run logged nothing: the check would be empty"
    for text in seen:
        assert needle not in text.lower()
