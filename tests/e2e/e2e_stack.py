"""The pieces every end-to-end daemon test needs: a chain, the hub, a daemon process.

* `Stack`: an Anvil node with the real ZkOracle hub and a model registered through
  `oracle.hub.deploy`, a funded daemon account, and what a test asks the chain (requests,
  fulfillment events, the daemon's own fulfill transactions);
* `Miner`: a block every `interval` seconds on a ``--no-mining`` node, pausable, so that a
  sent transaction waits in the mempool for a while as it does on a real chain;
* `DaemonProcess`: ``zkoracle serve`` as a subprocess, killed or stopped by its PID;
* `write_config`: the daemon's TOML for a stack.

Test files of this folder import it by its module name (pytest puts the folder on sys.path).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.types import RPCEndpoint, TxReceipt

from oracle import chain as chains
from oracle.chain import Chain
from oracle.hub import (
    ModelArtifacts,
    compile_model_verifier,
    deploy_contract,
    deploy_model,
    hub_contracts,
    model_id_of,
)

ROOT = Path(__file__).resolve().parents[2]
KEY_ENV = "ZKORACLE_E2E_DAEMON_KEY"
ZERO = "0x" + "00" * 20
REQUEST_GAS = 500_000


def wait_for(what: str, condition: Callable[[], bool], timeout: float, step: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(step)


class Miner:
    """Mines a block every `interval` seconds until `stop`; `paused()` holds it."""

    def __init__(self, w3: Web3, interval: float) -> None:
        self.w3 = w3
        self.interval = interval
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._running.wait()
            with self._lock:
                if not self._stop.is_set():
                    self.mine()

    def mine(self, blocks: int = 1) -> None:
        for _ in range(blocks):
            self.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]

    def hold(self) -> None:
        """Mine nothing until `release` (a block being mined right now finishes first)."""
        self._running.clear()
        with self._lock:
            pass

    def release(self) -> None:
        self._running.set()

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """No block is mined inside the block except by an explicit `mine`."""
        self.hold()
        try:
            yield
        finally:
            self.release()

    def stop(self) -> None:
        self._stop.set()
        self._running.set()
        self._thread.join(5)


@dataclass
class Stack:
    """A chain with the hub and one registered model, seen from the test's side."""

    chain: Chain
    hub: Contract
    model_id: bytes
    model_dir: Path
    daemon: LocalAccount
    miner: Miner | None

    @property
    def w3(self) -> Web3:
        return self.chain.w3

    @property
    def url(self) -> str:
        assert self.chain._node is not None
        return self.chain._node.url

    def rpc(self, method: str, *params: Any) -> Any:
        response = self.w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
        assert "error" not in response, (method, response)
        return response.get("result")

    def send_request(self, inputs: Sequence[int], model_id: bytes | None = None) -> str:
        """Send a request from dev account 1 without waiting; its transaction hash."""
        fn = self.hub.functions.request(model_id or self.model_id, list(inputs), ZERO, 0, 0)
        sender = self.chain.dev_accounts[1]
        return str(fn.transact({"from": sender, "gas": REQUEST_GAS}).to_0x_hex())

    def receipt(self, tx_hash: str, timeout: float = 30) -> TxReceipt:
        return self.w3.eth.wait_for_transaction_receipt(
            tx_hash,  # type: ignore[arg-type]
            timeout=timeout,
            poll_latency=0.02,
        )

    def request_ids(self, tx_hashes: Sequence[str]) -> list[int]:
        """The ids of requests sent by `send_request`, once mined."""
        event = self.hub.events.InferenceRequested()
        ids = []
        for tx in tx_hashes:
            receipt = self.receipt(tx)
            assert receipt["status"] == 1, f"request {tx} reverted"
            (log,) = event.process_receipt(receipt)
            ids.append(int(log["args"]["requestId"]))
        return ids

    def request(self, inputs: Sequence[int], model_id: bytes | None = None) -> int:
        return self.request_ids([self.send_request(inputs, model_id)])[0]

    def status(self, request_id: int) -> int:
        """0 none, 1 pending, 2 fulfilled, 3 cancelled."""
        return int(self.hub.functions.result(request_id).call()[0])

    def fulfilled_counts(self) -> Counter[int]:
        """``InferenceFulfilled`` events on the canonical chain, per request id."""
        logs = self.hub.events.InferenceFulfilled().get_logs(from_block=0, to_block="latest")
        return Counter(int(e["args"]["requestId"]) for e in logs)

    def daemon_txs(self) -> Iterator[tuple[bytes, TxReceipt]]:
        """(calldata, receipt) of every mined transaction of the daemon's account, reverted
        ones included, read block by block from the canonical chain."""
        for number in range(int(self.w3.eth.block_number) + 1):
            for tx in self.w3.eth.get_block(number, full_transactions=True)["transactions"]:
                assert not isinstance(tx, bytes)
                if tx["from"] == self.daemon.address:
                    yield bytes(tx["input"]), self.w3.eth.get_transaction_receipt(tx["hash"])

    def daemon_fulfill_txs(self) -> dict[int, list[TxReceipt]]:
        """The daemon's mined ``fulfill`` transactions per request id (reverted included)."""
        selector = Web3.keccak(text="fulfill(uint256,int256[],uint256[8])")[:4]
        found: dict[int, list[TxReceipt]] = {}
        for data, receipt in self.daemon_txs():
            if data[:4] == selector:
                found.setdefault(int.from_bytes(data[4:36], "big"), []).append(receipt)
        return found

    def register_variant(self, name: str, **changes: Any) -> bytes:
        """Register the model again with salt keccak(`name`) and its spec changed (e.g. a
        wider input range than the circuit checks): a registration the daemon cannot
        serve, for bad-request tests. Shares a newly deployed copy of the verifier."""
        art = ModelArtifacts.load(self.model_dir)
        _, code = compile_model_verifier(art)
        verifier, _ = deploy_contract(self.chain, code)
        spec = replace(art.spec(verifier), **changes)
        salt = bytes(Web3.keccak(text=name))
        fn = self.hub.functions.registerModel(salt, spec.as_abi())
        self.chain.transact(fn, gas=1_000_000)
        return model_id_of(self.chain.sender, salt)

    def close(self) -> None:
        if self.miner is not None:
            self.miner.stop()
        self.chain.close()


def start_stack(model_dir: Path, *, block_interval: float | None) -> Stack:
    """Anvil (automine, or ``--no-mining`` with a `Miner` every `block_interval` s), the
    hub, the model registered, and a funded daemon account."""
    extra = ("--no-mining",) if block_interval is not None else ()
    chain = chains.anvil(signer=None, extra_args=extra)
    miner = Miner(chain.w3, block_interval) if block_interval is not None else None
    try:
        dep = deploy_model(chain, model_dir, name="e2e-mlp")
        abi = hub_contracts()["ZkOracle"].abi
        hub = chain.w3.eth.contract(address=Web3.to_checksum_address(dep.hub), abi=abi)
        daemon: LocalAccount = Account.create()
        chain.w3.provider.make_request(
            RPCEndpoint("anvil_setBalance"), [daemon.address, hex(10**20)]
        )
    except BaseException:
        if miner is not None:
            miner.stop()
        chain.close()
        raise
    return Stack(chain, hub, dep.model_id, model_dir, daemon, miner)


def write_config(
    folder: Path,
    stack: Stack,
    *,
    url: str | None = None,
    confirmations: int = 1,
    poll_interval: float = 0.1,
    replace_after: float = 60,
    workers: int = 1,
    models: Sequence[tuple[str, bytes]] = (),
    metrics_port: int | None = None,
    provers: str = "",
    max_batch: int = 1,
    max_batch_wait: float = 0,
    feeds: str = "",
) -> Path:
    """The daemon's TOML for `stack` in `folder`/oracle.toml (store in `folder`/state).
    `max_batch` 1 (single fulfillments) unless a test is about batches; `feeds`: its
    ``[[feeds]]`` tables (the model is named "mlp"; paths are relative to `folder`)."""
    entries = [("mlp", stack.model_id), *models]
    model_tables = "".join(
        f'[[models]]\nname = "{name}"\nid = "0x{mid.hex()}"\nartifacts = "{stack.model_dir}"\n'
        for name, mid in entries
    )
    metrics = f"[metrics]\nport = {metrics_port}\n" if metrics_port is not None else ""
    text = f"""[chain]
url = "{url or stack.url}"
chain_id = {stack.chain.chain_id}
confirmations = {confirmations}
poll_interval = {poll_interval}
[hub]
address = "{stack.hub.address}"
[account]
key_env = "{KEY_ENV}"
[gas]
replace_after = {replace_after}
[store]
path = "state/oracle.db"
[provers]
workers = {workers}
{provers}
[submitter]
max_batch = {max_batch}
max_batch_wait = {max_batch_wait}
{metrics}{model_tables}{feeds}"""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "oracle.toml"
    path.write_text(text)
    return path


class DaemonProcess:
    """``zkoracle serve`` in a subprocess of its own session; its log (JSON lines) is
    appended to `log` across restarts."""

    def __init__(self, config: Path, key: str, log: Path, *, grace: float = 5.0) -> None:
        self.config = config
        self.key = key
        self.log = log
        self.grace = grace
        self.proc: subprocess.Popen[bytes] | None = None
        self._started_with = 0

    def start(self, *extra: str) -> DaemonProcess:
        self._started_with = self._serving_lines()
        env = {**os.environ, KEY_ENV: self.key, "PYTHONPATH": str(ROOT)}
        command = [sys.executable, "-m", "oracle.cli", "serve", "-c", str(self.config),
                   "--log-level", "debug", "--grace", str(self.grace), *extra]  # fmt: skip
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=env,
                cwd=self.config.parent, start_new_session=True,
            )  # fmt: skip
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL the daemon (not its prover workers: they notice and exit on their own)."""
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, wait; the exit code."""
        assert self.proc is not None
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"the daemon did not stop within {timeout} s") from None

    def cleanup(self) -> None:
        """Whatever happened: the daemon and anything left in its session end."""
        if self.proc is not None and self.proc.poll() is None:
            self.kill()
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)

    def logs(self) -> list[dict[str, Any]]:
        lines = self.log.read_text(errors="replace").splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]

    def _serving_lines(self) -> int:
        if not self.log.exists():
            return 0
        return sum(1 for e in self.logs() if e["msg"].startswith("serving hub"))

    def wait_started(self, timeout: float = 60) -> None:
        """Until the daemon started last serves (the log is shared across restarts, so its
        own "serving hub" line is counted); its signal handlers are in place from then."""
        before = self._started_with

        def serving() -> bool:
            assert self.alive(), self.tail()
            return self._serving_lines() > before

        wait_for("the daemon to serve", serving, timeout, 0.05)

    def metrics_base(self, timeout: float = 60) -> str:
        """``http://127.0.0.1:PORT`` of the metrics server (``[metrics] port = 0``)."""
        found: list[str] = []

        def logged() -> bool:
            assert self.alive(), self.tail()
            found.extend(
                e["msg"].split()[-1] for e in self.logs() if e["msg"].startswith("metrics on")
            )
            return bool(found)

        wait_for("the metrics server", logged, timeout, 0.05)
        return found[-1].removesuffix("/metrics")

    def tail(self, n: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-n:]
