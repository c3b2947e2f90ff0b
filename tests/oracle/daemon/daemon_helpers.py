"""Helpers of the daemon tests: an Anvil chain with the hub stand-in, fixed-port nodes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from eth_abi.abi import encode as abi_encode
from eth_account import Account
from eth_typing import ChecksumAddress
from eth_utils.crypto import keccak
from web3 import Web3
from web3.contract import Contract

from oracle import devnet
from oracle.anvil import rpc_answers
from oracle.chain import Chain
from oracle.hub import Hub
from oracle.rpc import RetryPolicy
from oracle.solc import CompiledContract

MODEL = b"\x42" * 32
FAST_RETRY = RetryPolicy(attempts=3, first_delay=0.05, max_delay=0.1)


class Devchain:
    """An Anvil node with a deployed MockHub, and the handful of calls tests need."""

    def __init__(self, url: str, compiled: CompiledContract) -> None:
        self.w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 10}))
        self.compiled = compiled
        self.dev: ChecksumAddress = self.w3.eth.accounts[0]
        factory = self.w3.eth.contract(abi=compiled.abi, bytecode=compiled.bytecode)
        tx = factory.constructor().transact({"from": self.dev})
        self.mine_if_manual()
        receipt = self.w3.eth.wait_for_transaction_receipt(tx, timeout=10)
        assert receipt["contractAddress"] is not None
        self.hub: Contract = self.w3.eth.contract(
            address=receipt["contractAddress"], abi=compiled.abi
        )

    def rpc(self, method: str, *params: Any) -> Any:
        response = self.w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
        assert "error" not in response, response
        return response.get("result")

    def mine_if_manual(self) -> None:
        if not self.rpc("anvil_getAutomine"):
            self.mine()

    def mine(self, blocks: int = 1) -> None:
        self.rpc("anvil_mine", hex(blocks))

    def head(self) -> int:
        return int(self.w3.eth.block_number)

    def request(
        self, inputs: Sequence[int], *, model: bytes = MODEL, sender: str | None = None
    ) -> int:
        """Send a request; the id the hub assigned (from its log)."""
        tx = self.hub.functions.request(model, list(inputs), "0x" + "00" * 20, 100_000, 0).transact(
            {"from": sender or self.dev}
        )
        self.mine_if_manual()
        receipt = self.w3.eth.wait_for_transaction_receipt(tx, timeout=10)
        (event,) = self.hub.events.InferenceRequested().process_receipt(receipt)
        return int(event["args"]["requestId"])

    def funded_account(self) -> Any:
        account = Account.create()
        self.rpc("anvil_setBalance", account.address, hex(10**20))
        return account

    def daemon_hub(self, retry: RetryPolicy = FAST_RETRY) -> Hub:
        return Hub(self.w3, self.hub.address, abi=self.compiled.abi, retry=retry)


def proof_for(request_id: int, outputs: Sequence[int], submitter: str) -> list[int]:
    """The stand-in proof MockHub accepts: keccak256(abi.encode(id, outputs, submitter))."""
    data = abi_encode(["uint256", "int256[]", "address"], [request_id, list(outputs), submitter])
    return [int.from_bytes(keccak(data), "big"), 0, 0, 0, 0, 0, 0, 0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class FixedPortAnvil:
    """Anvil on a chosen port, so it can be stopped and started again at the same URL."""

    def __init__(self, port: int, *extra: str) -> None:
        self.port = port
        self.extra = extra
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FixedPortAnvil:
        command = [str(devnet.anvil_binary()), "--host", "127.0.0.1", "--port", str(self.port)]
        self.proc = subprocess.Popen(
            [*command, *self.extra], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 20
        while not rpc_answers(self.url):
            assert time.monotonic() < deadline, "anvil did not start"
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            self.proc.wait(10)
        self.proc = None


def tiny_model(out_dir: Path, name: str = "model") -> Path:
    """A 3 -> 4 -> 2 MLP compiled and set up (development keys) in `out_dir`/`name`."""
    import onnx

    import circuits
    from circuits.onnx import examples

    onnx_path = out_dir / "mlp.onnx"
    onnx.save(examples.mlp([3, 4, 2], seed=1), onnx_path)
    model_dir = out_dir / name
    circuits.compile_model(onnx_path, model_dir)
    circuits.setup(model_dir)
    return model_dir


def mine_until(
    what: str, condition: Callable[[], bool], chain: Chain, timeout: float = 60.0
) -> None:
    """Mine a block every 0.2 s (Anvil only mines on transactions) until `condition`."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        chain.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
        time.sleep(0.2)
