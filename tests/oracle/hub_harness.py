"""Chains, compiled contracts, models and transaction helpers for the hub contract tests.

Everything real: the contracts compiled by solc-js, verifiers rendered by
`circuits.solidity`, Anvil and the embedded py-evm chain. Proofs are forged with the
trapdoor of each verifier's key, which yields a valid proof for any chosen public inputs.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from web3.contract import Contract
from web3.logs import DISCARD

from circuits import Packing
from circuits.groth16.trapdoor import Trapdoor, make_trapdoor
from circuits.solidity import render_verifier
from oracle import chain as oracle_chain
from oracle.chain import Chain
from oracle.errors import TransactionReverted
from oracle.hub import model_id_of
from oracle.solc import CompiledContract, compile_sources
from oracle.statement import StatementLayout, request_binding

ROOT = Path(__file__).resolve().parents[2]
TEST_SOURCES = Path(__file__).with_name("TestConsumers.sol")
#: Gas sent with every transaction (the embedded chain's estimateGas is slow).
GAS = 3_000_000


@dataclass(frozen=True)
class ModelCase:
    """A model as the tests register it: a statement layout and quantization scales."""

    name: str
    layout: StatementLayout
    input_scale: int = 8
    output_scale: int = 8

    @property
    def salt(self) -> bytes:
        return keccak(text=f"model:{self.name}")

    def id_for(self, owner: str) -> bytes:
        """The id the hub gives this model registered by `owner`."""
        return model_id_of(owner, self.salt)

    @property
    def trapdoor(self) -> Trapdoor:
        return _trapdoor(self.layout.n_public)

    def spec(self, verifier: str) -> tuple[Any, ...]:
        """The ModelSpec tuple for `registerModel`."""
        lay = self.layout
        return (
            verifier,
            keccak(text=f"onnx:{self.name}"),
            keccak(text=f"r1cs:{self.name}"),
            keccak(text=f"manifest:{self.name}"),
            lay.n_inputs,
            lay.n_outputs,
            lay.inputs.bits,
            lay.inputs.per_word,
            lay.outputs.bits,
            lay.outputs.per_word,
            self.input_scale,
            self.output_scale,
            0,  # privacy: everything public
            0,  # weightsCommitment: public weights
        )

    def forge(self, public_inputs: Sequence[int], seed: int = 1) -> list[int]:
        """Proof words that the model's verifier accepts for exactly these public inputs."""
        proof = self.trapdoor.forge(list(public_inputs), random.Random(seed))
        return list(proof.words())


def _layout(
    n_in: int, in_bits: int, in_per: int, n_out: int, out_bits: int, out_per: int
) -> StatementLayout:
    return StatementLayout(n_in, n_out, Packing(in_bits, in_per), Packing(out_bits, out_per))


#: 8 inputs and 1 output, unpacked (10 public inputs) and packed 8 per word (3).
RISK = ModelCase("risk8", _layout(8, 16, 1, 1, 32, 1))
RISK_PACKED = ModelCase("risk8-packed", _layout(8, 16, 8, 1, 32, 1))
#: Partial last words on both sides and extreme widths, for the encoding cross-checks.
MIXED = ModelCase("mixed", _layout(5, 20, 3, 3, 40, 2))
WIDE = ModelCase("wide", _layout(2, 253, 1, 3, 1, 253))
SIGNAL = ModelCase("signal", _layout(4, 16, 1, 1, 16, 1))
MODELS = (RISK, RISK_PACKED, MIXED, WIDE, SIGNAL)


@functools.cache
def _trapdoor(n_public: int) -> Trapdoor:
    return make_trapdoor(n_public, seed=n_public)


def verifier_name(n_public: int) -> str:
    return f"Groth16Verifier{n_public}"


@functools.cache
def compiled() -> dict[str, CompiledContract]:
    """The hand-written contracts, the test consumers and one verifier per model size."""
    sources = {
        str(p.relative_to(ROOT)): p.read_text() for p in sorted((ROOT / "contracts").rglob("*.sol"))
    }
    sources["tests/oracle/TestConsumers.sol"] = TEST_SOURCES.read_text()
    for n in sorted({m.layout.n_public for m in MODELS}):
        vk = _trapdoor(n).verifying_key()
        sources[f"verifiers/{verifier_name(n)}.sol"] = render_verifier(
            vk, contract_name=verifier_name(n)
        )
    return compile_sources(sources)


class HarnessChain:
    """An `oracle.chain.Chain` from the dev accounts, plus the time control and revert
    assertions the tests need. Every transaction carries explicit gas."""

    def __init__(self, chain: Chain) -> None:
        self.chain = chain
        self.name = chain.kind
        self.w3 = chain.w3
        self.accounts: list[str] = list(chain.dev_accounts)
        for c in compiled().values():
            chain.register_abi(c.abi)

    def now(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def advance(self, seconds: int) -> None:
        """Mine a block `seconds` later than the latest one."""
        if self.chain.kind == "embedded":
            tester = self.w3.provider.ethereum_tester  # type: ignore[attr-defined]
            tester.time_travel(self.now() + seconds)
        else:
            self.w3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
            self.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]

    def balance(self, address: str) -> int:
        return int(self.w3.eth.get_balance(address))  # type: ignore[arg-type]

    def deploy(self, name: str, *args: Any, sender: str | None = None, value: int = 0) -> Contract:
        c = compiled()[name]
        address = self.chain.deploy(c, *args, gas=8_000_000, value=value, sender=sender)
        return self.chain.contract(address, c)

    def send(self, fn: Any, sender: str, value: int = 0, gas: int = GAS) -> Any:
        """Send a transaction that must succeed; its receipt."""
        return self.chain.transact(fn, gas=gas, value=value, sender=sender)

    def fee_paid(self, receipt: Any) -> int:
        """Wei the sender of `receipt` paid for gas."""
        return int(receipt["gasUsed"]) * int(receipt["effectiveGasPrice"])

    def reverts(
        self, fn: Any, sender: str, error: str, value: int = 0, gas: int = GAS
    ) -> tuple[Any, ...]:
        """Assert that `fn`, sent as a transaction, is mined as failed with custom error
        `error` (which `oracle.chain` recovers by replaying it); the error's arguments."""
        with pytest.raises(TransactionReverted) as info:
            self.send(fn, sender, value=value, gas=gas)
        assert info.value.tx_hash is not None, "the transaction was not mined"
        assert info.value.error_name == error, info.value
        return tuple(_checksum(a) for a in info.value.error_args)

    @staticmethod
    def events(contract: Contract, receipt: Any, event: str) -> list[Any]:
        """Decoded `event` logs of `contract` in `receipt`."""
        return list(getattr(contract.events, event)().process_receipt(receipt, errors=DISCARD))


def _checksum(value: Any) -> Any:
    """Decoded error arguments name addresses in lower case; tests compare checksummed."""
    if isinstance(value, str) and len(value) == 42 and value.startswith("0x"):
        return to_checksum_address(value)
    return value


def _open_chain(kind: str) -> HarnessChain:
    if kind == "embedded":
        return HarnessChain(oracle_chain.embedded(signer=None))
    return HarnessChain(oracle_chain.anvil(signer=None))


#: Both chains: the embedded one is slow at pairings (~1.5 s per proof check).
CHAIN_PARAMS = [
    pytest.param("embedded", marks=pytest.mark.slow),
    pytest.param("anvil", marks=pytest.mark.anvil),
]
#: For tests that repeat a path already covered on both chains many times over (each
#: failing proof check costs two pairings on the embedded chain: the transaction and the
#: replay that recovers its error): run them on Anvil only.
anvil_only = pytest.mark.parametrize(
    "env", [pytest.param("anvil", marks=pytest.mark.anvil)], indirect=True
)

ZERO = "0x" + "00" * 20
FEE = 10**15


@dataclass
class HubEnv:
    """A deployed hub with every test model registered, on one chain."""

    chain: HarnessChain
    hub: Contract
    verifiers: dict[int, Contract]

    @property
    def owner(self) -> str:
        return self.chain.accounts[0]

    def id(self, model: ModelCase) -> bytes:
        """The id of a test model on this hub (registered by `owner`)."""
        return model.id_for(self.owner)

    def pinned(self, model: ModelCase) -> tuple[str, bytes, bytes]:
        """(owner, id, verifier code hash) of a test model: what a consumer pins."""
        record = self.hub.functions.getModel(self.id(model)).call()
        return self.owner, self.id(model), bytes(record[17])

    @property
    def requester(self) -> str:
        return self.chain.accounts[1]

    @property
    def submitter(self) -> str:
        return self.chain.accounts[2]

    @property
    def other(self) -> str:
        return self.chain.accounts[3]

    def request(
        self,
        model: ModelCase,
        inputs: Sequence[int],
        *,
        callback: str = ZERO,
        gas_limit: int = 0,
        expiry: int = 0,
        fee: int = FEE,
        sender: str | None = None,
    ) -> int:
        """Place a request; its id."""
        fn = self.hub.functions.request(self.id(model), list(inputs), callback, gas_limit, expiry)
        receipt = self.chain.send(fn, sender or self.requester, value=fee)
        (event,) = self.chain.events(self.hub, receipt, "InferenceRequested")
        return int(event["args"]["requestId"])

    def binding(self, request_id: int, submitter: str) -> int:
        return request_binding(self.chain.chain.chain_id, self.hub.address, request_id, submitter)

    def proof(
        self,
        model: ModelCase,
        request_id: int,
        inputs: Sequence[int],
        outputs: Sequence[int],
        submitter: str,
        seed: int = 1,
    ) -> list[int]:
        """A valid proof for this request, with the statement built by `oracle.statement`."""
        binding = self.binding(request_id, submitter)
        return model.forge(model.layout.public_inputs(binding, inputs, outputs), seed)

    def fulfill(
        self,
        request_id: int,
        outputs: Sequence[int],
        proof: Sequence[int],
        sender: str,
        gas: int = GAS,
    ) -> Any:
        fn = self.hub.functions.fulfill(request_id, list(outputs), list(proof))
        return self.chain.send(fn, sender, gas=gas)


def deploy_env(chain: HarnessChain) -> HubEnv:
    """Deploy the hub and one verifier per model size, and register every test model."""
    hub = chain.deploy("ZkOracle")
    verifiers: dict[int, Contract] = {}
    for model in MODELS:
        n = model.layout.n_public
        if n not in verifiers:
            verifiers[n] = chain.deploy(verifier_name(n))
        fn = hub.functions.registerModel(model.salt, model.spec(verifiers[n].address))
        chain.send(fn, chain.accounts[0])
    return HubEnv(chain, hub, verifiers)


@contextmanager
def open_env(kind: str) -> Iterator[HubEnv]:
    """A fresh chain of `kind` with the hub deployed; the chain is closed on exit."""
    chain = _open_chain(kind)
    try:
        yield deploy_env(chain)
    finally:
        chain.chain.close()
