"""The whole daemon on Anvil with the real hub, a generated verifier and real proofs.

A 3 -> 4 -> 2 MLP is compiled and set up (arkworks); its verifier is rendered, compiled
with the hub by solc-js and registered. The service then answers a request and posts feed
rounds (CSV source) on its own, from its TOML configuration.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from eth_account import Account
from eth_utils.crypto import keccak
from web3.contract import Contract

import circuits
from circuits.formats.snarkjs_json import read_vk
from circuits.groth16.backend import load_key_info
from circuits.onnx.manifest import manifest_sha256
from circuits.solidity import render_verifier
from oracle import chain as oracle_chain
from oracle.chain import Chain
from oracle.daemon.config import load_config
from oracle.daemon.jobs import State
from oracle.daemon.service import Service
from oracle.daemon.store import Store
from oracle.hub import model_id_of
from oracle.solc import compile_sources
from tests.oracle.daemon.daemon_helpers import free_port, mine_until, tiny_model

pytestmark = [pytest.mark.anvil, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[3]
MODEL_SALT = keccak(text="model:daemon-mlp")
#: Anvil's first dev account (from its fixed mnemonic) registers the model.
ANVIL_OWNER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
MODEL_ID = model_id_of(ANVIL_OWNER, MODEL_SALT)
FEED_ID = keccak(text="feed:daemon-mlp")
KEY_ENV = "ZKORACLE_DAEMON_TEST_KEY"


@dataclass
class Deployment:
    chain: Chain
    hub: Contract
    abi: list[dict[str, object]]
    model_dir: Path
    daemon: object  # the daemon's eth_account LocalAccount


def _spec(model_dir: Path, verifier: str) -> tuple[object, ...]:
    m = circuits.Manifest.load(model_dir)
    lay = m.layout
    return (
        verifier,
        bytes.fromhex(m.onnx_sha256),
        bytes.fromhex(m.r1cs_sha256),
        bytes.fromhex(manifest_sha256(model_dir)),
        lay.n_inputs,
        lay.n_outputs,
        lay.inputs.bits,
        lay.inputs.per_word,
        lay.outputs.bits,
        lay.outputs.per_word,
        m.inputs[0].scale,
        m.outputs[0].scale,
        0,
        0,
    )


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    model_dir = tiny_model(tmp_path_factory.mktemp("e2e"))
    vk = read_vk(load_key_info(model_dir).verification_key)
    sources = {f"contracts/{p.name}": p.read_text() for p in (ROOT / "contracts").glob("*.sol")}
    sources["verifiers/MlpVerifier.sol"] = render_verifier(vk, contract_name="MlpVerifier")
    compiled = compile_sources(sources)
    chain = oracle_chain.anvil(signer=None)
    try:
        assert chain.sender == ANVIL_OWNER
        hub = chain.contract(
            chain.deploy(compiled["ZkOracle"], gas=8_000_000), compiled["ZkOracle"]
        )
        verifier = chain.deploy(compiled["MlpVerifier"], gas=8_000_000)
        chain.transact(
            hub.functions.registerModel(MODEL_SALT, _spec(model_dir, verifier)), gas=1_000_000
        )
        daemon = Account.create()
        chain.fund(daemon.address, 10**19)
        chain.transact(hub.functions.createFeed(FEED_ID, MODEL_ID), gas=500_000)
        chain.transact(hub.functions.setFeedUpdater(FEED_ID, daemon.address), gas=200_000)
        yield Deployment(chain, hub, list(compiled["ZkOracle"].abi), model_dir, daemon)
    finally:
        chain.close()


def _config(tmp_path: Path, d: Deployment, *, feeds: bool, start_block: int = 0) -> Path:
    assert d.chain._node is not None
    feed = f"""
[[feeds]]
id = "0x{FEED_ID.hex()}"
model = "mlp"
heartbeat = 3600
deviation_percent = 5
poll_interval = 0.2
[feeds.source]
kind = "csv"
path = "features.csv"
"""
    text = f"""
[chain]
url = "{d.chain._node.url}"
chain_id = {d.chain.chain_id}
confirmations = 1
poll_interval = 0.2
start_block = {start_block}
[hub]
address = "{d.hub.address}"
[account]
key_env = "{KEY_ENV}"
[gas]
replace_after = 30
[store]
path = "state/oracle.db"
[metrics]
port = 0
[provers]
workers = 1
[[models]]
name = "mlp"
id = "0x{MODEL_ID.hex()}"
artifacts = "{d.model_dir}"
{feed if feeds else ""}"""
    (tmp_path / "oracle.toml").write_text(text)
    return tmp_path / "oracle.toml"


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return str(resp.read().decode())


def test_the_daemon_answers_a_request_and_posts_feed_rounds(
    deployment: Deployment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = deployment
    monkeypatch.setenv(KEY_ENV, d.daemon.key.hex())  # type: ignore[attr-defined]
    csv = tmp_path / "features.csv"
    csv.write_text("a,b,c\n0.5,-0.25,0.125\n")
    config = load_config(_config(tmp_path, d, feeds=True))
    requester = d.chain.dev_accounts[1]
    inputs = [32768, -16384, 8192]  # 0.5, -0.25, 0.125 at scale 16
    fee = 10**15
    receipt = d.chain.transact(
        d.hub.functions.request(MODEL_ID, inputs, "0x" + "00" * 20, 0, 0), gas=500_000,
        value=fee, sender=requester,
    )  # fmt: skip
    (event,) = d.hub.events.InferenceRequested().process_receipt(receipt)
    request_id = int(event["args"]["requestId"])
    balance = d.chain.w3.eth.get_balance(d.daemon.address)  # type: ignore[attr-defined]

    service = Service(config, hub_abi=d.abi, shutdown_grace=5)
    thread = threading.Thread(target=service.run)
    thread.start()
    try:
        result = d.hub.functions.result(request_id).call
        latest = d.hub.functions.latest(FEED_ID).call
        mine_until("the fulfillment", lambda: result()[0] == 2, d.chain)
        _, outputs = result()
        mine_until("the first feed round", lambda: latest()[1] == 1, d.chain)
        feed_outputs, round_, _ = latest()
        assert feed_outputs == outputs  # same model, same inputs
        csv.write_text("a,b,c\n0.5,-0.25,0.125\n0.75,-0.25,0.125\n")  # +50 % on a
        mine_until("a deviation round", lambda: latest()[1] == 2, d.chain)
        assert latest()[0] != outputs
        watch = Store(config.store_path)  # a second connection, as an operator's tool would
        mine_until("3 confirmed jobs", lambda: watch.counts()[State.CONFIRMED] == 3, d.chain)
        watch.close()

        assert service.server is not None
        metrics = _get(f"http://127.0.0.1:{service.server.port}/metrics")
        health = json.loads(_get(f"http://127.0.0.1:{service.server.port}/health"))
    finally:
        service.stop()
        thread.join(30)
    assert not thread.is_alive()
    assert len(outputs) == 2 and round_ == 1
    # The fee came in; gas went out: the balance moved by fee - gas.
    after = d.chain.w3.eth.get_balance(d.daemon.address)  # type: ignore[attr-defined]
    assert after != balance
    assert "zkoracle_requests_seen_total 1" in metrics.splitlines()
    assert "zkoracle_proofs_generated_total 3" in metrics.splitlines()
    assert health["status"] == "ok" and health["account"] == d.daemon.address  # type: ignore[attr-defined]
    store = Store(config.store_path)
    jobs = store.jobs()
    assert [j.state for j in jobs] == [State.CONFIRMED] * 3
    assert all(j.gas_cost and j.gas_cost > 0 for j in jobs)
    store.close()


def test_due_rounds_of_two_feeds_go_out_in_one_update_feed_batch(
    deployment: Deployment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two feeds of one model due at once: the real prover proves both rounds, each proof
    is checked off-chain, and the submitter posts them in one ``updateFeedBatch``."""
    d = deployment
    monkeypatch.setenv(KEY_ENV, d.daemon.key.hex())  # type: ignore[attr-defined]
    feeds = [keccak(text=f"feed:daemon-mlp-batch-{i}") for i in range(2)]
    for feed_id in feeds:
        d.chain.transact(d.hub.functions.createFeed(feed_id, MODEL_ID), gas=500_000)
        fn = d.hub.functions.setFeedUpdater(feed_id, d.daemon.address)  # type: ignore[attr-defined]
        d.chain.transact(fn, gas=200_000)
    (tmp_path / "features.csv").write_text("a,b,c\n0.5,-0.25,0.125\n")
    path = _config(tmp_path, d, feeds=False, start_block=d.chain.w3.eth.block_number + 1)
    tables = [
        f'[[feeds]]\nid = "0x{f.hex()}"\nmodel = "mlp"\nheartbeat = 3600\n'
        'poll_interval = 0.2\n[feeds.source]\nkind = "csv"\npath = "features.csv"\n'
        for f in feeds
    ]
    # The second proof may finish a little after the first: it gets time to join.
    tables.append("[submitter]\nmax_batch = 16\nmax_batch_wait = 20\n")
    path.write_text(path.read_text() + "\n" + "\n".join(tables))
    config = load_config(path)
    service = Service(config, hub_abi=d.abi, shutdown_grace=5)
    thread = threading.Thread(target=service.run)
    thread.start()
    try:
        latest = [d.hub.functions.latest(f).call for f in feeds]
        mine_until("both rounds", lambda: all(x()[1] == 1 for x in latest), d.chain, 120.0)
        watch = Store(config.store_path)
        mine_until("2 confirmed jobs", lambda: watch.counts()[State.CONFIRMED] == 2, d.chain)
        jobs = watch.jobs()
        watch.close()
    finally:
        service.stop()
        thread.join(30)
    assert latest[0]()[0] == latest[1]()[0]  # same model, same inputs
    assert len({j.tx_hash for j in jobs}) == 1  # one transaction for both rounds
    receipt = d.chain.w3.eth.get_transaction_receipt(jobs[0].tx_hash)  # type: ignore[arg-type]
    updated = d.hub.events.FeedUpdated().process_receipt(receipt)
    assert sorted(bytes(e["args"]["feedId"]) for e in updated) == sorted(feeds)


def _request(d: Deployment, inputs: list[int]) -> int:
    receipt = d.chain.transact(
        d.hub.functions.request(MODEL_ID, inputs, "0x" + "00" * 20, 0, 0), gas=500_000,
        sender=d.chain.dev_accounts[1],
    )  # fmt: skip
    (event,) = d.hub.events.InferenceRequested().process_receipt(receipt)
    return int(event["args"]["requestId"])


def test_a_proof_in_flight_at_shutdown_is_parked_and_done_after_restart(
    deployment: Deployment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = deployment
    monkeypatch.setenv(KEY_ENV, d.daemon.key.hex())  # type: ignore[attr-defined]
    head = d.chain.w3.eth.block_number
    config = load_config(_config(tmp_path, d, feeds=False, start_block=head + 1))
    request_id = _request(d, [1000, 2000, -3000])
    d.chain.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    # One iteration: the job goes to a prover that is still starting when the loop stops,
    # and no grace is given.
    Service(config, hub_abi=d.abi, shutdown_grace=0).run(max_iterations=1)
    store = Store(config.store_path)
    (job,) = store.jobs()
    history = [to for _, to, _ in store.history(job.id)]
    store.close()
    assert job.state is State.SEEN and history == ["seen", "proving", "seen"]

    service = Service(config, hub_abi=d.abi, shutdown_grace=5)
    thread = threading.Thread(target=service.run)
    thread.start()
    try:
        result = d.hub.functions.result(request_id).call
        mine_until("the fulfillment after a restart", lambda: result()[0] == 2, d.chain)
    finally:
        service.stop()
        thread.join(30)
    assert not thread.is_alive()


def test_serve_stops_cleanly_on_sigterm_and_never_logs_the_key(
    deployment: Deployment, tmp_path: Path
) -> None:
    d = deployment
    port = free_port()
    path = _config(tmp_path, d, feeds=False, start_block=d.chain.w3.eth.block_number + 1)
    path.write_text(path.read_text().replace("port = 0", f"port = {port}"))
    key = d.daemon.key.hex()  # type: ignore[attr-defined]
    env = {**os.environ, KEY_ENV: key, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "oracle.cli", "serve", "-c", str(path), "--log-level", "debug"],
        stderr=subprocess.PIPE, stdout=subprocess.PIPE, env=env, cwd=tmp_path,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.communicate()[1].decode()[-3000:]
            try:
                if json.loads(_get(f"http://127.0.0.1:{port}/health"))["status"] == "ok":
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the daemon never became healthy"
            time.sleep(0.2)
        os.kill(proc.pid, signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = err.decode()
    assert proc.returncode == 0, text[-3000:]
    assert "zkoracle serve: SIGTERM: finishing" in text and "stopped; state kept in" in text
    logs = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    assert any(entry["msg"] == "stopped" for entry in logs)
    assert key.removeprefix("0x").lower() not in text.lower()
