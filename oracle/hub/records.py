"""What the hub returns, as Python types: events and views as TypedDicts, sent transactions
and their outcomes as frozen dataclasses.

Field names follow the Solidity names in snake case. Values are plain Python: ids are
``bytes``, addresses checksummed strings, quantized values ``int`` (real = q / 2^scale
with the model's scale).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import TYPE_CHECKING, Any, TypedDict

from web3 import Web3
from web3.types import TxReceipt

if TYPE_CHECKING:
    from oracle.hub.artifacts import ModelSpec


class RequestStatus(IntEnum):
    """``IZkOracle.Status``."""

    NONE = 0
    PENDING = 1
    FULFILLED = 2
    CANCELLED = 3


class LogPosition(TypedDict):
    """Where a decoded event was emitted."""

    tx_hash: str
    block_number: int
    log_index: int


class InferenceRequested(LogPosition):
    request_id: int
    model_id: bytes
    requester: str
    inputs: list[int]
    callback: str
    callback_gas_limit: int
    fee: int
    expiry: int


class InferenceFulfilled(LogPosition):
    request_id: int
    model_id: bytes
    submitter: str
    outputs: list[int]


class CallbackFailed(LogPosition):
    request_id: int
    reason: bytes  # the callback's revert data, cut to 256 bytes by the hub


class RequestResult(TypedDict):
    status: RequestStatus
    outputs: list[int]  # empty unless fulfilled


class FeedValue(TypedDict):
    outputs: list[int]  # empty before the first round
    round: int
    updated_at: int  # block time of the latest round, 0 before the first


class RegisteredModel(TypedDict):
    """``IZkOracle.Model``: a registration as the hub stores it."""

    verifier: str
    selector: bytes
    n_inputs: int
    n_outputs: int
    inputs_per_word: int
    output_bits: int
    outputs_per_word: int
    retired: bool
    owner: str
    input_bits: int
    input_scale: int
    output_scale: int
    n_public: int
    privacy: int
    onnx_sha256: bytes
    r1cs_sha256: bytes
    manifest_hash: bytes
    verifier_code_hash: bytes  # codehash of `verifier` at registration; checked on every proof
    min_fee: int  # owner's terms for new requests (wei)
    max_callback_gas: int  # owner's terms for new requests; 0 = the hub's maximum
    weights_commitment: int


@dataclass(frozen=True)
class Sent:
    """A mined, successful transaction."""

    tx_hash: str
    gas_used: int
    block_number: int
    receipt: TxReceipt = field(repr=False, compare=False)

    @staticmethod
    def of(receipt: TxReceipt) -> Sent:
        return Sent(
            receipt["transactionHash"].to_0x_hex(),
            int(receipt["gasUsed"]),
            int(receipt["blockNumber"]),
            receipt,
        )


@dataclass(frozen=True)
class Registration:
    model_id: bytes
    spec: ModelSpec
    tx: Sent


@dataclass(frozen=True)
class RequestSent:
    request_id: int
    event: InferenceRequested
    tx: Sent


@dataclass(frozen=True)
class Fulfillment:
    """A fulfillment that was mined: the outputs are stored and the fee paid. A consumer
    callback that failed is reported in `callback_failure` (the fulfillment stands)."""

    event: InferenceFulfilled
    callback_failure: CallbackFailed | None
    tx: Sent


def only_from(address: str, logs: Sequence[Any]) -> list[Any]:
    """The logs emitted by `address`. Everything that reads hub events goes through this:
    a consumer's callback runs inside the hub's transaction and can emit logs with the
    hub's event signatures, and a provider may not honour a log filter's address."""
    want = Web3.to_checksum_address(address)
    return [log for log in logs if Web3.to_checksum_address(log["address"]) == want]


def _position(log: Any) -> LogPosition:
    return {
        "tx_hash": log["transactionHash"].to_0x_hex(),
        "block_number": int(log["blockNumber"]),
        "log_index": int(log["logIndex"]),
    }


def requested(log: Any) -> InferenceRequested:
    a = log["args"]
    return {
        **_position(log),
        "request_id": int(a["requestId"]),
        "model_id": bytes(a["modelId"]),
        "requester": Web3.to_checksum_address(a["requester"]),
        "inputs": [int(v) for v in a["inputs"]],
        "callback": Web3.to_checksum_address(a["callback"]),
        "callback_gas_limit": int(a["callbackGasLimit"]),
        "fee": int(a["fee"]),
        "expiry": int(a["expiry"]),
    }


def fulfilled(log: Any) -> InferenceFulfilled:
    a = log["args"]
    return {
        **_position(log),
        "request_id": int(a["requestId"]),
        "model_id": bytes(a["modelId"]),
        "submitter": Web3.to_checksum_address(a["submitter"]),
        "outputs": [int(v) for v in a["outputs"]],
    }


def callback_failed(log: Any) -> CallbackFailed:
    a = log["args"]
    return {**_position(log), "request_id": int(a["requestId"]), "reason": bytes(a["reason"])}


def registered_model(raw: Sequence[Any]) -> RegisteredModel:
    """The decoded ``getModel`` tuple (fields in ``IZkOracle.Model`` order)."""
    (verifier, selector, n_in, n_out, in_per, out_bits, out_per, retired, owner,
     in_bits, in_scale, out_scale, n_public, privacy, onnx, r1cs, manifest, code_hash,
     min_fee, max_callback_gas, weights) = raw  # fmt: skip
    return {
        "verifier": Web3.to_checksum_address(verifier),
        "selector": bytes(selector),
        "n_inputs": int(n_in),
        "n_outputs": int(n_out),
        "inputs_per_word": int(in_per),
        "output_bits": int(out_bits),
        "outputs_per_word": int(out_per),
        "retired": bool(retired),
        "owner": Web3.to_checksum_address(owner),
        "input_bits": int(in_bits),
        "input_scale": int(in_scale),
        "output_scale": int(out_scale),
        "n_public": int(n_public),
        "privacy": int(privacy),
        "onnx_sha256": bytes(onnx),
        "r1cs_sha256": bytes(r1cs),
        "manifest_hash": bytes(manifest),
        "verifier_code_hash": bytes(code_hash),
        "min_fee": int(min_fee),
        "max_callback_gas": int(max_callback_gas),
        "weights_commitment": int(weights),
    }
