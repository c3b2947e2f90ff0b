"""A daemon running against Anvil with a few fulfilled requests, a failed one and a feed
round: what the status page tests (plain HTTP and the browser) look at.

The real hub on an automining Anvil node, the 3 -> 4 -> 2 MLP registered twice (once as it
is, once with a wider input range than its circuit takes, so that a request can fail in
the daemon with a reason), a push feed of the MLP with a CSV source, and `Service` running
in a thread of the test process with its metrics server on a free port.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from eth_account import Account
from web3 import Web3
from web3.contract import Contract

from oracle import chain as chains
from oracle.chain import Chain
from oracle.daemon.config import load_config
from oracle.daemon.example import ModelEntry, fill_example
from oracle.daemon.jobs import State
from oracle.daemon.service import Service
from oracle.hub import (
    Hub,
    ModelArtifacts,
    compile_model_verifier,
    deploy_contract,
    deploy_model,
    hub_contracts,
    model_id_of,
)
from tests.e2e.e2e_stack import wait_for

KEY_ENV = "ZKORACLE_PAGES_TEST_KEY"
ZERO = "0x" + "00" * 20
FEED_ID = Web3.keccak(text="pages-test-feed")
#: The RPC URL's password (Anvil ignores it); the status page must never show it.
URL_SECRET = "apikey-5ecret-7oken"


@dataclass
class LiveDaemon:
    chain: Chain
    hub: Contract
    model_id: bytes
    wide_id: bytes
    service: Service
    key: str
    requests: dict[str, int] = field(default_factory=dict)  # "good1", "good2", "bad"
    thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self.service.server is not None
        return f"http://127.0.0.1:{self.service.server.port}/"

    def fulfill_receipt(self, request_id: int) -> Any:
        logs = self.hub.events.InferenceFulfilled().get_logs(
            from_block=0, argument_filters={"requestId": request_id}
        )
        assert len(logs) == 1, logs
        return self.chain.w3.eth.get_transaction_receipt(logs[0]["transactionHash"])

    def close(self) -> None:
        self.service.stop()
        if self.thread is not None:
            self.thread.join(30)
        self.chain.close()


def _register_wide(chain: Chain, hub: Contract, model_dir: Path) -> bytes:
    """The MLP again under another id, registered with 32-bit inputs its circuit refuses."""
    art = ModelArtifacts.load(model_dir)
    _, code = compile_model_verifier(art)
    verifier, _ = deploy_contract(chain, code)
    spec = replace(art.spec(verifier), input_bits=32, inputs_per_word=7)
    salt = bytes(Web3.keccak(text="pages-mlp-wide"))
    chain.transact(hub.functions.registerModel(salt, spec.as_abi()), gas=1_000_000)
    return model_id_of(chain.sender, salt)


def _config(folder: Path, chain: Chain, hub: str, models: list[ModelEntry]) -> Path:
    assert chain._node is not None
    values: dict[tuple[str, str], Any] = {
        ("chain", "url"): chain._node.url.replace("http://", f"http://operator:{URL_SECRET}@"),
        ("chain", "chain_id"): chain.chain_id,
        ("chain", "confirmations"): 0,
        ("chain", "poll_interval"): 0.05,
        ("hub", "address"): hub,
        ("account", "key_env"): KEY_ENV,
        ("store", "path"): "state/oracle.db",
        ("metrics", "port"): 0,
        # one transaction per fulfillment, so each row of the page has its own
        ("submitter", "max_batch"): 1,
    }
    feed = (
        f'[[feeds]]\nid = "0x{FEED_ID.hex()}"\nmodel = "{models[0].name}"\nheartbeat = 3600\n'
        'poll_interval = 0.05\n[feeds.source]\nkind = "csv"\npath = "inputs.csv"\n'
    )
    (folder / "inputs.csv").write_text("a,b,c\n0.25,-0.5,0.125\n")
    path = folder / "oracle.toml"
    path.write_text(fill_example(values, models) + feed)
    return path


def start_live_daemon(model_dir: Path, folder: Path) -> LiveDaemon:
    chain = chains.anvil(signer=None)
    try:
        dep = deploy_model(chain, model_dir, name="pages-mlp")
        hub = chain.contract(dep.hub, hub_contracts()["ZkOracle"])
        wide = _register_wide(chain, hub, model_dir)
        operator = Account.create()
        chain.fund(operator.address, 10**20)
        Hub(chain, dep.hub).create_feed(FEED_ID, dep.model_id)
        Hub(chain, dep.hub).set_feed_updater(FEED_ID, operator.address)
        models = [ModelEntry("mlp", dep.model_id, str(model_dir)),
                  ModelEntry("mlp-wide", wide, str(model_dir))]  # fmt: skip
        os.environ[KEY_ENV] = operator.key.hex()
        service = Service(load_config(_config(folder, chain, dep.hub, models)))
    except BaseException:
        chain.close()
        raise
    live = LiveDaemon(chain, hub, dep.model_id, wide, service, operator.key.hex())
    live.thread = threading.Thread(target=service.run, name="pages-daemon", daemon=True)
    live.thread.start()
    wait_for("the metrics server", lambda: service.server is not None, 60)
    return live


def serve_requests(live: LiveDaemon) -> None:
    """Two requests the daemon fulfills and one it refuses; wait until all are settled."""
    sender = live.chain.dev_accounts[1]
    for name, model_id, inputs in (("good1", live.model_id, [1000, 2000, -3000]),
                                   ("good2", live.model_id, [-500, 40000, 7]),
                                   ("bad", live.wide_id, [2**23, 0, 0])):  # fmt: skip
        fn = live.hub.functions.request(model_id, inputs, ZERO, 0, 0)
        receipt = live.chain.transact(fn, sender=sender, gas=500_000)
        (event,) = live.hub.events.InferenceRequested().process_receipt(receipt)
        live.requests[name] = int(event["args"]["requestId"])
    store = live.service.store

    def settled() -> bool:
        counts = store.counts()
        return counts[State.CONFIRMED] >= 3 and counts[State.FAILED] >= 1  # 2 requests, 1 round

    wait_for("two fulfillments, a feed round and a failure", settled, 90)
