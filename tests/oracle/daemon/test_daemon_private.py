"""The daemon with a private-input model on Anvil: it publishes its encryption key in the
OperatorKeys registry at start; a request sealed to the key read from there is opened,
checked against its commitment, proved and fulfilled; one sealed to another key fails on
its own, with its reason naming both keys, and blocks nothing."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from eth_account import Account
from web3.logs import DISCARD

import circuits
from circuits import Visibility, input_commitment, new_salt
from circuits.onnx import examples
from oracle import chain as oracle_chain
from oracle.accounts import Signer
from oracle.chain import Chain
from oracle.daemon.config import load_config
from oracle.daemon.jobs import State
from oracle.daemon.service import Service
from oracle.daemon.store import Store
from oracle.hub import Hub, deploy_model
from oracle.operator_keys import OperatorKeys
from oracle.private_inputs import seal
from tests.oracle.daemon.daemon_helpers import mine_until

pytestmark = [pytest.mark.anvil]
KEY_ENV = "ZKORACLE_DAEMON_PRIVATE_TEST_KEY"


def _model(root: Path) -> Path:
    onnx_path = examples.save(examples.mlp([3, 4, 2], seed=1), root / "mlp.onnx")
    vis = Visibility("private", "private", "public")
    circuits.compile_model(onnx_path, root / "model", visibility=vis)
    circuits.setup(root / "model")
    return root / "model"


def _config(
    tmp_path: Path, chain: Chain, hub: str, model_id: bytes, model_dir: Path, keys: str
) -> Path:
    assert chain._node is not None
    text = f"""
[chain]
url = "{chain._node.url}"
chain_id = {chain.chain_id}
confirmations = 1
poll_interval = 0.2
[hub]
address = "{hub}"
operator_keys = "{keys}"
[account]
key_env = "{KEY_ENV}"
[store]
path = "state/oracle.db"
[metrics]
port = 0
[provers]
workers = 1
[[models]]
name = "score"
id = "0x{model_id.hex()}"
artifacts = "{model_dir}"
"""
    (tmp_path / "oracle.toml").write_text(text)
    return tmp_path / "oracle.toml"


def _sealed_request(hub: Hub, model_id: bytes, key: bytes, sender: str, bits: int) -> int:
    inputs, salt = [32768, -16384, 8192], new_salt()
    sealed = seal(key, model_id, inputs, salt)
    fn = hub.contract.functions.requestPrivate(
        model_id, input_commitment(inputs, bits, salt), sealed, "0x" + "00" * 20, 0, 0
    )
    receipt = hub.chain.transact(fn, value=10**15, sender=sender)
    event = hub.contract.events.PrivateInferenceRequested()
    (log,) = event.process_receipt(receipt, errors=DISCARD)
    return int(log["args"]["requestId"])


def test_sealed_requests_are_answered_or_failed_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model_dir = _model(tmp_path)
    daemon = Account.create()
    monkeypatch.setenv(KEY_ENV, daemon.key.hex())
    stranger_key = Signer.from_key(os.urandom(32)).encryption_public_key
    with oracle_chain.anvil(signer=None) as chain:
        dep = deploy_model(chain, model_dir, name="score")
        keys = OperatorKeys.deploy(chain)
        chain.fund(daemon.address, 10**19)
        hub = Hub(chain, dep.hub)
        requester = chain.dev_accounts[1]
        bits = circuits.load_model_dir(model_dir).compiled.config.input_bits
        cfg = _config(tmp_path, chain, dep.hub, dep.model_id, model_dir, keys.address)
        config = load_config(cfg)
        service = Service(config, shutdown_grace=5)  # publishes the key as it starts
        operator_key = keys.key_of(daemon.address).public_key
        assert operator_key == Signer.from_key(daemon.key).encryption_public_key
        bad = _sealed_request(hub, dep.model_id, stranger_key, requester, bits)
        good = _sealed_request(hub, dep.model_id, operator_key, requester, bits)
        thread = threading.Thread(target=service.run)
        thread.start()
        try:
            mine_until("the fulfillment", lambda: hub.result(good)["status"] == 2, chain)
            watch = Store(config.store_path)
            mine_until("the failed job", lambda: watch.counts()[State.FAILED] == 1, chain)
            (failed,) = watch.jobs(State.FAILED)
            watch.close()
        finally:
            service.stop()
            thread.join(30)
        assert failed.request_id == bad
        assert failed.reason_code == "undecryptable"
        assert f"sealed to operator key 0x{stranger_key.hex()}" in (failed.reason or "")
        assert len(hub.result(good)["outputs"]) == 2
