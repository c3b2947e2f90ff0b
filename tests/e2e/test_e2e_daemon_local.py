"""The daemon on local chains: the embedded chain handed to the service in-process (as a
demo runs it), and ``[chain].kind = "anvil"``, where ``zkoracle serve`` starts its own
Anvil node, deploys the hub with the configured model and stops the node on exit."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from eth_account import Account
from eth_utils.crypto import keccak
from web3 import Web3

from oracle import chain as chains
from oracle.accounts import Signer
from oracle.anvil import rpc_answers
from oracle.daemon.config import load_config
from oracle.daemon.jobs import State
from oracle.daemon.service import Service
from oracle.hub import deploy_model, hub_contracts, model_id_of
from tests.e2e.e2e_stack import KEY_ENV, DaemonProcess, wait_for

pytestmark = pytest.mark.slow
ZERO = "0x" + "00" * 20


def _config(
    folder: Path, kind: str, model_id: bytes | None, model_dir: Path, hub: str | None = None
) -> Path:
    """With a hub, the model by its id; without, by the salt the daemon registers with."""
    hub_table = f'[hub]\naddress = "{hub}"\n' if hub else ""
    model = f'id = "0x{model_id.hex()}"' if model_id else 'salt = "e2e-mlp-local"'
    text = f"""[chain]
kind = "{kind}"
poll_interval = 0.2
{hub_table}[account]
key_env = "{KEY_ENV}"
[store]
path = "oracle.db"
[metrics]
port = 0
[[models]]
name = "mlp"
{model}
artifacts = "{model_dir}"
"""
    path = folder / "oracle.toml"
    path.write_text(text)
    return path


def test_the_service_serves_an_embedded_chain_handed_in(mlp_model: Path, tmp_path: Path) -> None:
    signer = Signer.from_key(Account.create().key)
    with chains.embedded(signer=signer) as chain:
        dep = deploy_model(chain, mlp_model, name="e2e-mlp")
        path = _config(tmp_path, "embedded", dep.model_id, mlp_model, hub=dep.hub)
        config = load_config(path)
        assert config.chain.confirmations == 0 and config.gas.gas_limit is not None
        hub = chain.contract(dep.hub, hub_contracts()["ZkOracle"])
        fn = hub.functions.request(dep.model_id, [1000, 2000, -3000], ZERO, 0, 0)
        chain.transact(fn, sender=chain.dev_accounts[1])

        service = Service(config, chain=chain)  # the chain's signer sends the fulfillment
        service.start()
        try:
            deadline = time.monotonic() + 60
            while service.store.counts()[State.CONFIRMED] < 1:
                assert time.monotonic() < deadline, service.store.jobs()
                service.tick()  # in this thread: py-evm is not shared across threads
                time.sleep(0.05)
        finally:
            service.close()
        status, outputs = hub.functions.result(1).call()
    assert status == 2 and len(outputs) == 2


@pytest.mark.anvil
def test_serve_with_kind_anvil_starts_deploys_serves_and_stops_its_chain(
    mlp_model: Path, tmp_path: Path
) -> None:
    config = _config(tmp_path, "anvil", None, mlp_model)
    key = Account.create().key.hex()
    # The daemon registers with its own account: the id is that account's.
    model_id = model_id_of(Account.from_key(key).address, keccak(text="e2e-mlp-local"))
    daemon = DaemonProcess(config, key, tmp_path / "daemon.log")
    try:
        daemon.start()
        base = daemon.metrics_base()
        health: dict[str, str] = {}

        def healthy() -> bool:
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=5) as resp:
                    health.update(json.loads(resp.read()))
            except urllib.error.HTTPError:  # 503 until a first pass over the chain
                return False
            return True

        wait_for("a healthy daemon", healthy, 30, 0.1)
        (url,) = [e["rpc_url"] for e in daemon.logs() if "rpc_url" in e]
        w3 = Web3(Web3.HTTPProvider(url))
        hub = w3.eth.contract(
            address=Web3.to_checksum_address(health["hub"]), abi=hub_contracts()["ZkOracle"].abi
        )
        assert hub.functions.getModel(model_id).call()[0] != ZERO  # registered, with a verifier
        fn = hub.functions.request(model_id, [1000, 2000, -3000], ZERO, 0, 0)
        sender = list(w3.eth.accounts)[1]
        w3.eth.wait_for_transaction_receipt(fn.transact({"from": sender}))
        # 2 confirmations (the default) come from the node's own block every second.
        wait_for("the fulfillment", lambda: hub.functions.result(1).call()[0] == 2, 30, 0.1)
        assert daemon.stop() == 0, daemon.tail()
    finally:
        daemon.cleanup()
    assert health["account"] == Account.from_key(key).address
    assert not rpc_answers(url)  # the daemon's node went with it
