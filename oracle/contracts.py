"""Typed bindings: the hand-written contracts, a model's verifier, and the `Hub` client.

* `hub_contracts` compiles ``contracts/`` (hub, interfaces, example consumers) once per
  process; `oracle.solc` also caches the output on disk, so it is compiled once per change.
* `compile_model_verifier` renders the Groth16 verifier of a model directory's
  verification key, with the manifest hashes in its header, and compiles it.
* `Hub` wraps a deployed ``ZkOracle``: deployment, model registration (`oracle.artifacts`
  says what is registered and under which id), requests, fulfilments, feeds, views, and the
  hub's events decoded into TypedDicts (`oracle.hub_types`).

Gas: `fulfill` and `updateFeed` run a pairing check, which the embedded chain computes in
pure Python and Ganache slowly, once per probe of eth_estimateGas; the callback's 63/64
rule also makes estimates fragile. Both therefore carry an explicit limit computed from the
model's size and the callback's gas (`Hub.fulfil_gas`); only the gas used is paid.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from eth_typing import ChecksumAddress
from web3 import Web3
from web3.contract import Contract
from web3.logs import DISCARD
from web3.types import TxReceipt

from circuits import Proof, quantize, render_verifier
from oracle.artifacts import ModelArtifacts
from oracle.chain import Chain
from oracle.errors import OracleError, TransactionReverted
from oracle.hub_types import (
    CallbackFailed,
    FeedValue,
    Fulfilment,
    InferenceFulfilled,
    InferenceRequested,
    RegisteredModel,
    Registration,
    RequestResult,
    RequestSent,
    RequestStatus,
    Sent,
    callback_failed,
    fulfilled,
    registered_model,
    requested,
)
from oracle.solc import CompiledContract, compile_sources

#: The hand-written Solidity sources, next to the packages in the repository.
CONTRACTS_DIR = Path(__file__).resolve().parents[1] / "contracts"
#: Contract name of a rendered model verifier.
VERIFIER_NAME = "Groth16Verifier"
ZERO_ADDRESS = "0x" + "00" * 20

#: Gas bound of a fulfilment: base, per public input (ECMUL + ECADD + calldata), per output
#: (a stored word); the callback's share is added on top (see `Hub.fulfil_gas`).
FULFIL_GAS_BASE = 300_000
FULFIL_GAS_PER_PUBLIC = 10_000
FULFIL_GAS_PER_OUTPUT = 25_000
#: Gas bound per request of a batch beyond the first check: a pairing pair, two scalar
#: multiplications, the statement, the stored outputs and the calldata.
BATCH_GAS_PER_REQUEST = 120_000
#: ``ZkOracle.CALLBACK_GAS_RESERVE`` plus the cost of the CALL itself.
CALLBACK_GAS_OVERHEAD = 20_000

FloatInputs = Sequence[float] | npt.NDArray[np.floating[Any]]
Inputs = Sequence[int] | FloatInputs


@functools.cache
def _compile_dir(contracts_dir: Path) -> dict[str, CompiledContract]:
    files = sorted(contracts_dir.rglob("*.sol"))
    if not files:
        raise OracleError(f"{contracts_dir} holds no Solidity sources (contracts/*.sol)")
    sources = {f"contracts/{p.relative_to(contracts_dir).as_posix()}": p.read_text() for p in files}
    return compile_sources(sources)


def hub_contracts(contracts_dir: Path = CONTRACTS_DIR) -> dict[str, CompiledContract]:
    """Every contract of ``contracts/`` by name (``ZkOracle``, ``RiskGatedLendingPool``...)."""
    return dict(_compile_dir(contracts_dir.resolve()))


def render_model_verifier(art: ModelArtifacts, contract_name: str = VERIFIER_NAME) -> str:
    """Solidity source of the verifier for the model's key, its hashes in the header."""
    return render_verifier(art.vk, contract_name=contract_name, header=art.verifier_header())


def compile_model_verifier(
    art: ModelArtifacts, contract_name: str = VERIFIER_NAME
) -> tuple[str, CompiledContract]:
    """(source, compiled contract) of the model's verifier."""
    source = render_model_verifier(art, contract_name)
    return source, compile_sources({f"{contract_name}.sol": source})[contract_name]


def deploy_contract(
    chain: Chain,
    compiled: CompiledContract,
    *args: Any,
    gas: int | None = None,
    value: int = 0,
    sender: str | None = None,
) -> tuple[ChecksumAddress, Sent]:
    """Deploy `compiled` with constructor `args`: its address and the transaction."""
    if not compiled.bytecode:
        raise OracleError(f"{compiled.name} has no bytecode (an interface or abstract)")
    chain.register_abi(compiled.abi)
    factory = chain.w3.eth.contract(abi=compiled.abi, bytecode=compiled.bytecode)
    receipt = chain.transact(factory.constructor(*args), gas=gas, value=value, sender=sender)
    address = receipt["contractAddress"]
    if address is None:
        raise OracleError(f"deployment of {compiled.name} returned no contract address")
    return address, Sent.of(receipt)


def _is_quantized(values: Inputs) -> bool:
    """True for integers only (already quantized), False for real numbers."""
    flat = list(np.asarray(values, dtype=object).reshape(-1))
    if all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in flat):
        return True
    if all(isinstance(v, int | float | np.integer | np.floating) for v in flat):
        return False
    raise OracleError("inputs must be numbers: integers (quantized) or real numbers")


class Hub:
    """A deployed ``ZkOracle`` on `chain`. Transactions come from `chain`'s sender unless a
    call names another; a revert raises `TransactionReverted` with the decoded error."""

    def __init__(self, chain: Chain, address: str) -> None:
        self.chain = chain
        self.address: ChecksumAddress = Web3.to_checksum_address(address)
        if not chain.w3.eth.get_code(self.address):
            raise OracleError(
                f"no contract at hub address {self.address} on chain {chain.chain_id}"
            )
        compiled = hub_contracts()
        for c in compiled.values():  # consumers' errors too, for their reverts
            chain.register_abi(c.abi)
        self.contract: Contract = chain.contract(self.address, compiled["ZkOracle"])
        self.deploy_tx: Sent | None = None
        self._models: dict[bytes, ModelArtifacts] = {}

    def __repr__(self) -> str:
        return f"Hub({self.address}, chain_id={self.chain.chain_id})"

    @classmethod
    def deploy(cls, chain: Chain, *, sender: str | None = None, gas: int | None = None) -> Hub:
        """Deploy a new hub; its transaction is kept in `deploy_tx`."""
        address, tx = deploy_contract(chain, hub_contracts()["ZkOracle"], gas=gas, sender=sender)
        hub = cls(chain, address)
        hub.deploy_tx = tx
        return hub

    def _send(self, fn: Any, *, gas: int | None, sender: str | None, value: int = 0) -> TxReceipt:
        return self.chain.transact(fn, gas=gas, value=value, sender=sender)

    # -- registry --------------------------------------------------------------------------

    def register_model(
        self,
        model: str | Path | ModelArtifacts,
        verifier: str,
        *,
        name: str | None = None,
        model_id: bytes | None = None,
        sender: str | None = None,
        gas: int | None = None,
    ) -> Registration:
        """Register a model directory with its deployed verifier under `model_id`, or the
        id `oracle.artifacts` derives (from `name` if given)."""
        art = model if isinstance(model, ModelArtifacts) else ModelArtifacts.load(model)
        model_id = model_id or art.model_id(name)
        spec = art.spec(Web3.to_checksum_address(verifier))
        fn = self.contract.functions.registerModel(model_id, spec.as_abi())
        receipt = self._send(fn, gas=gas, sender=sender)
        self._models[model_id] = art
        return Registration(model_id, spec, Sent.of(receipt))

    def attach(self, model_id: bytes, model: str | Path | ModelArtifacts) -> None:
        """Use this model directory's manifest to quantize real inputs of `model_id`."""
        self._models[model_id] = (
            model if isinstance(model, ModelArtifacts) else ModelArtifacts.load(model)
        )

    def model(self, model_id: bytes) -> RegisteredModel | None:
        """The registration of `model_id`, or None if the id is unused."""
        try:
            raw = self.chain.call(self.contract.functions.getModel(model_id))
        except TransactionReverted as e:
            if e.error_name == "UnknownModel":
                return None
            raise
        return registered_model(raw)

    def retire(self, model_id: bytes, *, sender: str | None = None) -> Sent:
        fn = self.contract.functions.retireModel(model_id)
        return Sent.of(self._send(fn, gas=None, sender=sender))

    # -- requests --------------------------------------------------------------------------

    def quantize_inputs(self, model_id: bytes, values: FloatInputs) -> list[int]:
        """Real inputs as the model's quantized integers (``round(x * 2^scale)``), with the
        scale of the attached manifest, else the one registered on the hub."""
        art = self._models.get(model_id)
        if art is not None:
            scale = art.input_scale
        else:
            registered = self.model(model_id)
            if registered is None:
                raise OracleError(f"model 0x{model_id.hex()} is not registered on {self.address}")
            scale = registered["input_scale"]
        return [int(v) for v in quantize(np.asarray(values, dtype=np.float64).reshape(-1), scale)]

    def request(
        self,
        model_id: bytes,
        inputs: Inputs,
        *,
        callback: str | None = None,
        gas_limit: int = 0,
        fee: int = 0,
        expiry: int = 0,
        sender: str | None = None,
        gas: int | None = None,
    ) -> RequestSent:
        """Request an inference. Integer `inputs` are taken as quantized; real numbers are
        quantized first (`quantize_inputs`). `fee` wei is escrowed for the prover."""
        values = (
            [int(v) for v in np.asarray(inputs, dtype=object).reshape(-1)]
            if _is_quantized(inputs)
            else self.quantize_inputs(model_id, inputs)
        )
        fn = self.contract.functions.request(
            model_id, values, callback or ZERO_ADDRESS, gas_limit, expiry
        )
        receipt = self._send(fn, gas=gas, sender=sender, value=fee)
        (event,) = self.requested_in(receipt)
        return RequestSent(event["request_id"], event, Sent.of(receipt))

    def _verify_gas(self, model_id: bytes) -> int:
        """Gas of a proof check and the storage of the outputs, for `model_id`'s size."""
        model = self.model(model_id)
        if model is None:
            raise OracleError(f"model 0x{model_id.hex()} is not registered on {self.address}")
        return (
            FULFIL_GAS_BASE
            + FULFIL_GAS_PER_PUBLIC * model["n_public"]
            + FULFIL_GAS_PER_OUTPUT * model["n_outputs"]
        )

    def fulfil_gas(self, request_id: int) -> int:
        """A gas limit that covers fulfilling `request_id`, its callback included: the hub
        reverts unless the callback can get its full limit past the 63/64 rule."""
        fields = self.chain.call(self.contract.functions.getRequest(request_id))
        model_id, _requester, _fee, _status, callback, callback_gas, _expiry = fields
        gas = self._verify_gas(bytes(model_id))
        if int(callback, 16) != 0:
            gas += int(callback_gas) + int(callback_gas) // 63 + CALLBACK_GAS_OVERHEAD
        return gas

    def fulfill(
        self,
        request_id: int,
        outputs: Sequence[int],
        proof: Proof | Sequence[int],
        *,
        sender: str | None = None,
        gas: int | None = None,
    ) -> Fulfilment:
        """Post quantized `outputs` and the proof (made for `request_binding(request_id,
        sender)`); the decoded InferenceFulfilled event and any CallbackFailed."""
        words = list(proof.words()) if isinstance(proof, Proof) else [int(w) for w in proof]
        if len(words) != 8:
            raise OracleError(f"a proof is 8 words, got {len(words)}")
        fn = self.contract.functions.fulfill(request_id, [int(v) for v in outputs], words)
        receipt = self._send(fn, gas=gas or self.fulfil_gas(request_id), sender=sender)
        (event,) = self.fulfilled_in(receipt)
        failures = self.callback_failures_in(receipt)
        return Fulfilment(event, failures[0] if failures else None, Sent.of(receipt))

    def batch_gas(self, model_id: bytes, request_ids: Sequence[int]) -> int:
        """A gas limit for `fulfill_batch`: one proof check's base, the per-proof share of the
        batch check and storage, and every callback's gas with its 63/64 margin."""
        gas = self._verify_gas(model_id) + BATCH_GAS_PER_REQUEST * len(request_ids)
        for rid in request_ids:
            fields = self.chain.call(self.contract.functions.getRequest(rid))
            if int(fields[4], 16) != 0 and int(fields[3]) == RequestStatus.PENDING:
                gas += int(fields[5]) + int(fields[5]) // 63 + CALLBACK_GAS_OVERHEAD
        return gas

    def fulfill_batch(
        self,
        model_id: bytes,
        items: Sequence[tuple[int, Sequence[int], Proof | Sequence[int]]],
        *,
        sender: str | None = None,
        gas: int | None = None,
    ) -> Sent:
        """Answer requests of `model_id` in one transaction: (request id, outputs, proof made
        for `request_binding(id, sender)`) each. Requests no longer pending are skipped
        (`skipped_in`); one bad proof reverts the whole batch."""
        ids, outputs, proofs = [], [], []
        for rid, outs, proof in items:
            words = list(proof.words()) if isinstance(proof, Proof) else [int(w) for w in proof]
            if len(words) != 8:
                raise OracleError(f"request {rid}: a proof is 8 words, got {len(words)}")
            ids.append(int(rid))
            outputs.append([int(v) for v in outs])
            proofs.append(words)
        fn = self.contract.functions.fulfillBatch(model_id, ids, outputs, proofs)
        gas = gas or self.batch_gas(model_id, ids)
        return Sent.of(self._send(fn, gas=gas, sender=sender))

    def skipped_in(self, receipt: TxReceipt) -> list[tuple[int, int]]:
        """(request id, reason) of the RequestSkipped events of a batch receipt."""
        logs = self._logs(receipt, "RequestSkipped")
        return [(int(e["args"]["requestId"]), int(e["args"]["reason"])) for e in logs]

    def cancel(self, request_id: int, *, sender: str | None = None) -> Sent:
        return Sent.of(
            self._send(self.contract.functions.cancel(request_id), gas=None, sender=sender)
        )

    def result(self, request_id: int) -> RequestResult:
        """Status and (once fulfilled) the verified outputs of a request."""
        status, outputs = self.chain.call(self.contract.functions.result(request_id))
        return {"status": RequestStatus(status), "outputs": [int(v) for v in outputs]}

    def request_binding(self, request_id: int, submitter: str) -> int:
        """The binding the hub puts in the statement of `submitter`'s proof for the request."""
        fn = self.contract.functions.requestBinding(request_id, Web3.to_checksum_address(submitter))
        return int(self.chain.call(fn))

    def request_public_inputs(
        self, request_id: int, submitter: str, outputs: Sequence[int]
    ) -> list[int]:
        """The exact public inputs `fulfill` verifies for `submitter` and these outputs."""
        fn = self.contract.functions.requestPublicInputs(
            request_id, Web3.to_checksum_address(submitter), [int(v) for v in outputs]
        )
        return [int(v) for v in self.chain.call(fn)]

    def statement_for(
        self, model_id: bytes, binding: int, inputs: Sequence[int], outputs: Sequence[int]
    ) -> list[int]:
        """The hub's encoding of [binding, inputs, outputs] for `model_id`."""
        fn = self.contract.functions.statementFor(model_id, binding, list(inputs), list(outputs))
        return [int(v) for v in self.chain.call(fn)]

    # -- feeds -----------------------------------------------------------------------------

    def create_feed(self, feed_id: bytes, model_id: bytes, *, sender: str | None = None) -> Sent:
        fn = self.contract.functions.createFeed(feed_id, model_id)
        return Sent.of(self._send(fn, gas=None, sender=sender))

    def set_feed_updater(self, feed_id: bytes, updater: str, *, sender: str | None = None) -> Sent:
        """Let `updater` post the feed's rounds (the creator until changed)."""
        fn = self.contract.functions.setFeedUpdater(feed_id, Web3.to_checksum_address(updater))
        return Sent.of(self._send(fn, gas=None, sender=sender))

    def feed_binding(self, feed_id: bytes, round_: int, submitter: str) -> int:
        fn = self.contract.functions.feedBinding(
            feed_id, round_, Web3.to_checksum_address(submitter)
        )
        return int(self.chain.call(fn))

    def update_feed(
        self,
        feed_id: bytes,
        inputs: Sequence[int],
        outputs: Sequence[int],
        round_: int,
        proof: Proof | Sequence[int],
        *,
        sender: str | None = None,
        gas: int | None = None,
    ) -> Sent:
        """Publish round `round_` (proof made for `feed_binding(feed_id, round_, sender)`)."""
        words = list(proof.words()) if isinstance(proof, Proof) else [int(w) for w in proof]
        fn = self.contract.functions.updateFeed(
            feed_id, [int(v) for v in inputs], [int(v) for v in outputs], round_, words
        )
        if gas is None:
            model_id = self.chain.call(self.contract.functions.getFeed(feed_id))[0]
            gas = self._verify_gas(bytes(model_id))
        return Sent.of(self._send(fn, gas=gas, sender=sender))

    def latest(self, feed_id: bytes) -> FeedValue:
        """The latest verified outputs of a feed (empty, round 0 before the first update)."""
        outputs, round_, updated_at = self.chain.call(self.contract.functions.latest(feed_id))
        return {
            "outputs": [int(v) for v in outputs],
            "round": int(round_),
            "updated_at": int(updated_at),
        }

    # -- events ----------------------------------------------------------------------------

    def _logs(self, receipt: TxReceipt, event: str) -> list[Any]:
        return list(getattr(self.contract.events, event)().process_receipt(receipt, errors=DISCARD))

    def requested_in(self, receipt: TxReceipt) -> list[InferenceRequested]:
        """InferenceRequested events of the hub in a receipt (e.g. a consumer's request)."""
        return [requested(e) for e in self._logs(receipt, "InferenceRequested")]

    def fulfilled_in(self, receipt: TxReceipt) -> list[InferenceFulfilled]:
        return [fulfilled(e) for e in self._logs(receipt, "InferenceFulfilled")]

    def callback_failures_in(self, receipt: TxReceipt) -> list[CallbackFailed]:
        return [callback_failed(e) for e in self._logs(receipt, "CallbackFailed")]

    def requested_since(
        self, from_block: int, to_block: int | str = "latest"
    ) -> list[InferenceRequested]:
        """InferenceRequested logs of a block range."""
        event = self.contract.events.InferenceRequested()
        return [requested(e) for e in event.get_logs(from_block=from_block, to_block=to_block)]
