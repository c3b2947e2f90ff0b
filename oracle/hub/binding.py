"""`Hub`: the one Python binding of a deployed ``ZkOracle``.

It is assembled from parts that each hold one concern: `HubBase` (connection, ABI, retried
reads), `HubReads` (views), `HubEvents` (request logs and receipt events), `HubCalldata`
(the bytes of the proof-carrying calls, for a sender that signs itself). This module adds
what sends transactions through a `Chain`: deployment, model registration (`oracle.hub.
artifacts` says what is registered and under which id), requests, fulfillments, feeds.

Gas: `fulfill` and `updateFeed` run a pairing check, which the embedded chain computes in
pure Python and Ganache slowly, once per probe of eth_estimateGas; the callback's 63/64
rule also makes estimates fragile. Both therefore carry an explicit limit computed from the
model's size and the callback's gas (`Hub.fulfill_gas`); only the gas used is paid.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from web3 import Web3
from web3.types import TxReceipt

from circuits import Proof, quantize
from oracle.chain import Chain
from oracle.errors import OracleError
from oracle.hub.artifacts import ModelArtifacts
from oracle.hub.calldata import HubCalldata
from oracle.hub.events import HubEvents
from oracle.hub.reads import HubReads
from oracle.hub.records import (
    Fulfillment,
    Registration,
    RequestSent,
    RequestStatus,
    Sent,
)
from oracle.hub.sources import HUB_NAME, ZERO_ADDRESS, deploy_contract, hub_contracts

#: Gas bound of a fulfillment: base, per public input (ECMUL + ECADD + calldata), per output
#: (a stored word); the callback's share is added on top (see `Hub.fulfill_gas`).
FULFILL_GAS_BASE = 300_000
FULFILL_GAS_PER_PUBLIC = 10_000
FULFILL_GAS_PER_OUTPUT = 25_000
#: Gas bound per request (or feed round) of a batch beyond the first check: a pairing
#: pair, two scalar multiplications, the statement, the stored outputs and the calldata.
BATCH_GAS_PER_REQUEST = 120_000
#: ``ZkOracle.CALLBACK_GAS_RESERVE`` plus the cost of the CALL itself.
CALLBACK_GAS_OVERHEAD = 20_000

FloatInputs = Sequence[float] | npt.NDArray[np.floating[Any]]
Inputs = Sequence[int] | FloatInputs
ProofLike = Proof | Sequence[int]


def _is_quantized(values: Inputs) -> bool:
    """True for integers only (already quantized), False for real numbers."""
    flat = list(np.asarray(values, dtype=object).reshape(-1))
    if all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in flat):
        return True
    if all(isinstance(v, int | float | np.integer | np.floating) for v in flat):
        return False
    raise OracleError("inputs must be numbers: integers (quantized) or real numbers")


def proof_words(proof: ProofLike, what: str = "a proof") -> list[int]:
    """The 8 words of a proof as the hub takes them."""
    words = list(proof.words()) if isinstance(proof, Proof) else [int(w) for w in proof]
    if len(words) != 8:
        raise OracleError(f"{what}: a proof is 8 words, got {len(words)}")
    return words


class Hub(HubReads, HubEvents, HubCalldata):
    """A deployed ``ZkOracle``. Built on a `Chain`, transactions come from the chain's
    sender unless a call names another, and a revert raises `TransactionReverted` with the
    decoded error; built on a bare `Web3` (``abi=`` and ``retry=`` as the daemon passes
    them), it reads, decodes and builds calldata only."""

    deploy_tx: Sent | None = None

    @cached_property
    def _models(self) -> dict[bytes, ModelArtifacts]:
        """Manifests of registered or attached models, for quantizing real inputs."""
        return {}

    @classmethod
    def deploy(cls, chain: Chain, *, sender: str | None = None, gas: int | None = None) -> Hub:
        """Deploy a new hub; its transaction is kept in `deploy_tx`."""
        address, tx = deploy_contract(chain, hub_contracts()[HUB_NAME], gas=gas, sender=sender)
        hub = cls(chain, address)
        hub.deploy_tx = tx
        return hub

    def _send(self, fn: Any, *, gas: int | None, sender: str | None, value: int = 0) -> TxReceipt:
        return self.chain.transact(fn, gas=gas, value=value, sender=sender)

    def _sent(self, fn: Any, sender: str | None) -> Sent:
        return Sent.of(self._send(fn, gas=None, sender=sender))

    # -- registry --------------------------------------------------------------------------

    def register_model(
        self,
        model: str | Path | ModelArtifacts,
        verifier: str,
        *,
        name: str | None = None,
        salt: bytes | None = None,
        sender: str | None = None,
        gas: int | None = None,
    ) -> Registration:
        """Register a model directory with its deployed verifier, with `salt` (else the
        salt `oracle.hub.artifacts` derives, from `name` if given). The hub derives the id
        from the sender and the salt."""
        art = model if isinstance(model, ModelArtifacts) else ModelArtifacts.load(model)
        salt = salt or art.salt(name)
        spec = art.spec(Web3.to_checksum_address(verifier))
        fn = self.contract.functions.registerModel(salt, spec.as_abi())
        receipt = self._send(fn, gas=gas, sender=sender)
        (event,) = self._logs(receipt, "ModelRegistered")
        model_id = bytes(event["args"]["modelId"])
        self._models[model_id] = art
        return Registration(model_id, spec, Sent.of(receipt))

    def set_terms(
        self, model_id: bytes, min_fee: int, max_callback_gas: int, *, sender: str | None = None
    ) -> Sent:
        """Owner only: the smallest fee and the largest callback gas of new requests."""
        fn = self.contract.functions.setModelTerms(model_id, min_fee, max_callback_gas)
        return self._sent(fn, sender)

    def attach(self, model_id: bytes, model: str | Path | ModelArtifacts) -> None:
        """Use this model directory's manifest to quantize real inputs of `model_id`."""
        self._models[model_id] = (
            model if isinstance(model, ModelArtifacts) else ModelArtifacts.load(model)
        )

    def retire(self, model_id: bytes, *, sender: str | None = None) -> Sent:
        return self._sent(self.contract.functions.retireModel(model_id), sender)

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

    def cancel(self, request_id: int, *, sender: str | None = None) -> Sent:
        return self._sent(self.contract.functions.cancel(request_id), sender)

    # -- fulfillments ----------------------------------------------------------------------

    def _verify_gas(self, model_id: bytes) -> int:
        """Gas of a proof check and the storage of the outputs, for `model_id`'s size."""
        model = self.model(model_id)
        if model is None:
            raise OracleError(f"model 0x{model_id.hex()} is not registered on {self.address}")
        return (
            FULFILL_GAS_BASE
            + FULFILL_GAS_PER_PUBLIC * model["n_public"]
            + FULFILL_GAS_PER_OUTPUT * model["n_outputs"]
        )

    def _callback_gas(self, request_id: int, pending_only: bool = False) -> int:
        """The gas a request's callback may take, with its 63/64 margin (0 without one)."""
        fields = self._view(self.contract.functions.getRequest(request_id))
        _model, _requester, _fee, status, callback, callback_gas, _expiry = fields
        if int(callback, 16) == 0 or (pending_only and status != RequestStatus.PENDING):
            return 0
        return int(callback_gas) + int(callback_gas) // 63 + CALLBACK_GAS_OVERHEAD

    def fulfill_gas(self, request_id: int) -> int:
        """A gas limit that covers fulfilling `request_id`, its callback included: the hub
        reverts unless the callback can get its full limit past the 63/64 rule."""
        model_id = self._view(self.contract.functions.getRequest(request_id))[0]
        return self._verify_gas(bytes(model_id)) + self._callback_gas(request_id)

    def fulfill(
        self,
        request_id: int,
        outputs: Sequence[int],
        proof: ProofLike,
        *,
        sender: str | None = None,
        gas: int | None = None,
    ) -> Fulfillment:
        """Post quantized `outputs` and the proof (made for `request_binding(request_id,
        sender)`); the decoded InferenceFulfilled event and any CallbackFailed."""
        words = proof_words(proof)
        fn = self.contract.functions.fulfill(request_id, [int(v) for v in outputs], words)
        receipt = self._send(fn, gas=gas or self.fulfill_gas(request_id), sender=sender)
        (event,) = self.fulfilled_in(receipt)
        failures = self.callback_failures_in(receipt)
        return Fulfillment(event, failures[0] if failures else None, Sent.of(receipt))

    def batch_gas(self, model_id: bytes, request_ids: Sequence[int]) -> int:
        """A gas limit for `fulfill_batch`: one proof check's base, the per-proof share of the
        batch check and storage, and every pending callback's gas with its 63/64 margin."""
        gas = self._verify_gas(model_id) + BATCH_GAS_PER_REQUEST * len(request_ids)
        return gas + sum(self._callback_gas(rid, pending_only=True) for rid in request_ids)

    def fulfill_batch(
        self,
        model_id: bytes,
        items: Sequence[tuple[int, Sequence[int], ProofLike]],
        *,
        sender: str | None = None,
        gas: int | None = None,
    ) -> Sent:
        """Answer requests of `model_id` in one transaction: (request id, outputs, proof made
        for `request_binding(id, sender)`) each. Requests no longer pending are skipped
        (`skipped_in`); one bad proof reverts the whole batch."""
        ids = [int(rid) for rid, _, _ in items]
        outputs = [[int(v) for v in outs] for _, outs, _ in items]
        proofs = [proof_words(p, f"request {rid}") for rid, _, p in items]
        fn = self.contract.functions.fulfillBatch(model_id, ids, outputs, proofs)
        return Sent.of(self._send(fn, gas=gas or self.batch_gas(model_id, ids), sender=sender))

    # -- feeds -----------------------------------------------------------------------------

    def create_feed(self, feed_id: bytes, model_id: bytes, *, sender: str | None = None) -> Sent:
        return self._sent(self.contract.functions.createFeed(feed_id, model_id), sender)

    def set_feed_updater(self, feed_id: bytes, updater: str, *, sender: str | None = None) -> Sent:
        """Let `updater` post the feed's rounds (the creator until changed)."""
        fn = self.contract.functions.setFeedUpdater(feed_id, Web3.to_checksum_address(updater))
        return self._sent(fn, sender)

    def update_feed(
        self,
        feed_id: bytes,
        inputs: Sequence[int],
        outputs: Sequence[int],
        round_: int,
        proof: ProofLike,
        *,
        sender: str | None = None,
        gas: int | None = None,
    ) -> Sent:
        """Publish round `round_` (proof made for `feed_binding(feed_id, round_, sender)`)."""
        fn = self.contract.functions.updateFeed(
            feed_id, [int(v) for v in inputs], [int(v) for v in outputs], round_, proof_words(proof)
        )
        gas = gas or self._verify_gas(self.feed_model(feed_id))
        return Sent.of(self._send(fn, gas=gas, sender=sender))

    def update_feed_batch(
        self,
        model_id: bytes,
        rounds: Sequence[tuple[bytes, int, Sequence[int], Sequence[int], ProofLike]],
        *,
        sender: str | None = None,
        gas: int | None = None,
    ) -> Sent:
        """Publish rounds of feeds of `model_id` in one transaction: (feed id, round, inputs,
        outputs, proof made for `feed_binding(feed id, round, sender)`) each. A round the
        hub no longer takes is skipped (`rounds_skipped_in`); one bad proof reverts all."""
        structs = [
            (fid, int(r), [int(v) for v in ins], [int(v) for v in outs])
            for fid, r, ins, outs, _ in rounds
        ]
        proofs = [proof_words(p, f"feed 0x{fid.hex()} round {r}") for fid, r, _, _, p in rounds]
        fn = self.contract.functions.updateFeedBatch(model_id, structs, proofs)
        gas = gas or self._verify_gas(model_id) + BATCH_GAS_PER_REQUEST * len(rounds)
        return Sent.of(self._send(fn, gas=gas, sender=sender))
