"""The hub's events, decoded: request logs of a block range and the events of a receipt.

Request logs go through eth-abi with the ABI's own types: web3's log processing costs
several milliseconds a log, which under a burst of requests would leave the provers
waiting for the daemon's loop. A log that does not decode becomes an `UndecodableLog`
instead of stopping the others.

Every reader drops logs of other addresses first (`only_from`): a consumer's callback runs
inside the hub's transaction and can emit logs with the hub's event signatures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_utils.abi import event_abi_to_log_topic
from eth_utils.address import to_checksum_address
from hexbytes import HexBytes
from web3.types import FilterParams, LogReceipt, TxReceipt

from oracle.hub.base import HubBase
from oracle.hub.records import (
    CallbackFailed,
    InferenceFulfilled,
    InferenceRequested,
    callback_failed,
    fulfilled,
    only_from,
    requested,
)


def to_hex(value: bytes | str) -> str:
    return HexBytes(value).to_0x_hex()


@dataclass(frozen=True)
class RequestEvent:
    """One decoded ``InferenceRequested`` (or ``PrivateInferenceRequested``) log and where
    it sits."""

    request_id: int
    model_id: bytes
    requester: str
    inputs: tuple[int, ...]
    callback: str
    callback_gas_limit: int
    fee: int
    expiry: int
    block_number: int
    block_hash: str
    tx_hash: str
    log_index: int
    #: A ``PrivateInferenceRequested``: the posted input commitment and the sealed inputs.
    input_commitment: int | None = None
    ciphertext: bytes | None = None

    def payload(self) -> dict[str, Any]:
        """The request itself, without its position in the chain (a reorg may move it)."""
        sealed = {}
        if self.ciphertext is not None:
            sealed = {"input_commitment": str(self.input_commitment),
                      "ciphertext": self.ciphertext.hex()}  # fmt: skip
        return {
            **sealed,
            "request_id": self.request_id,
            "model_id": "0x" + self.model_id.hex(),
            "requester": self.requester,
            "inputs": list(self.inputs),
            "callback": self.callback,
            "callback_gas_limit": self.callback_gas_limit,
            "fee": self.fee,
            "expiry": self.expiry,
        }


@dataclass(frozen=True)
class UndecodableLog:
    """A request log of the hub that does not decode, and why."""

    reason: str
    block_number: int
    block_hash: str
    tx_hash: str
    log_index: int


class HubEvents(HubBase):
    """Request logs of block ranges and the hub's events in receipts."""

    def _request_events(self) -> dict[HexBytes, Any]:
        """Topic -> ABI entry of the request events; a hub ABI without private-input
        requests (an older hub) is watched for the public ones only."""
        events = {}
        for entry in self.abi:
            name = entry.get("name")
            if entry.get("type") == "event" and name in (
                "InferenceRequested",
                "PrivateInferenceRequested",
            ):
                events[HexBytes(event_abi_to_log_topic(entry))] = entry  # type: ignore[arg-type]
        if not events:
            self._abi_entry("event", "InferenceRequested")  # raises, naming it
        return events

    def request_logs(
        self, from_block: int, to_block: int, model_ids: tuple[bytes, ...] | list[bytes] = ()
    ) -> list[RequestEvent | UndecodableLog]:
        """``InferenceRequested`` and ``PrivateInferenceRequested`` logs in [from_block,
        to_block], for `model_ids` only (every model if empty), in chain order."""
        events = self._request_events()
        topics: list[Any] = [[t.to_0x_hex() for t in events], None]
        if model_ids:
            topics.append([to_hex(m) for m in model_ids])
        params: FilterParams = {
            "address": self.address,
            "fromBlock": from_block,
            "toBlock": to_block,
            "topics": topics,
        }
        logs = self._read(
            f"eth_getLogs {from_block}..{to_block}", lambda: self.w3.eth.get_logs(params)
        )
        # The node filtered by address already; a provider that ignores the filter must not
        # make look-alike logs of another contract count as requests.
        return [_decode(events, entry) for entry in only_from(self.address, logs)]

    def requested_in(self, receipt: TxReceipt) -> list[InferenceRequested]:
        """InferenceRequested events of the hub in a receipt (e.g. a consumer's request)."""
        return [requested(e) for e in self._logs(receipt, "InferenceRequested")]

    def fulfilled_in(self, receipt: TxReceipt) -> list[InferenceFulfilled]:
        return [fulfilled(e) for e in self._logs(receipt, "InferenceFulfilled")]

    def callback_failures_in(self, receipt: TxReceipt) -> list[CallbackFailed]:
        return [callback_failed(e) for e in self._logs(receipt, "CallbackFailed")]

    def skipped_in(self, receipt: TxReceipt) -> list[tuple[int, int]]:
        """(request id, ``SkipReason``) of the RequestSkipped events of a batch receipt."""
        logs = self._logs(receipt, "RequestSkipped")
        return [(int(e["args"]["requestId"]), int(e["args"]["reason"])) for e in logs]

    def rounds_skipped_in(self, receipt: TxReceipt) -> list[tuple[bytes, int, int]]:
        """(feed id, round, ``RoundSkipReason``) of the FeedRoundSkipped events."""
        logs = self._logs(receipt, "FeedRoundSkipped")
        return [
            (bytes(e["args"]["feedId"]), int(e["args"]["round"]), int(e["args"]["reason"]))
            for e in logs
        ]

    def requested_since(
        self, from_block: int, to_block: int | str = "latest"
    ) -> list[InferenceRequested]:
        """InferenceRequested logs of a block range, as web3 decodes them."""
        event = self.contract.events.InferenceRequested()
        logs = event.get_logs(from_block=from_block, to_block=to_block)
        return [requested(e) for e in only_from(self.address, logs)]


def _event_args(events: dict[HexBytes, Any], entry: LogReceipt) -> dict[str, Any]:
    """The arguments of a request log by name (addresses checksummed, as web3 gives them:
    they enter the request's key)."""
    topics = entry["topics"]
    event = events.get(HexBytes(topics[0])) if topics else None
    if event is None:
        raise ValueError(f"not a request event: topic {topics[0] if topics else None!r}")
    inputs = event["inputs"]
    indexed = [i for i in inputs if i["indexed"]]
    plain = [i for i in inputs if not i["indexed"]]
    if len(topics) != 1 + len(indexed):
        raise ValueError(f"{len(topics)} topics, {topics[0]!r} first")
    args = {
        i["name"]: abi_decode([i["type"]], bytes(t))[0]
        for i, t in zip(indexed, topics[1:], strict=True)
    }
    values = abi_decode([i["type"] for i in plain], bytes(entry["data"]))
    args.update({i["name"]: v for i, v in zip(plain, values, strict=True)})
    for i in inputs:
        if i["type"] == "address":
            args[i["name"]] = to_checksum_address(args[i["name"]])
    return args


def _decode(events: dict[HexBytes, Any], entry: LogReceipt) -> RequestEvent | UndecodableLog:
    try:
        args = _event_args(events, entry)
        return RequestEvent(
            request_id=int(args["requestId"]),
            model_id=bytes(args["modelId"]),
            requester=str(args["requester"]),
            inputs=tuple(int(v) for v in args.get("inputs", ())),
            callback=str(args["callback"]),
            callback_gas_limit=int(args["callbackGasLimit"]),
            fee=int(args["fee"]),
            expiry=int(args["expiry"]),
            block_number=int(entry["blockNumber"]),
            block_hash=to_hex(entry["blockHash"]),
            tx_hash=to_hex(entry["transactionHash"]),
            log_index=int(entry["logIndex"]),
            input_commitment=int(args["inputCommitment"]) if "ciphertext" in args else None,
            ciphertext=bytes(args["ciphertext"]) if "ciphertext" in args else None,
        )
    except Exception as exc:
        why = f"undecodable InferenceRequested log in tx {to_hex(entry['transactionHash'])}"
        return UndecodableLog(
            f"{why}: {type(exc).__name__}: {exc}",
            int(entry["blockNumber"]),
            to_hex(entry["blockHash"]),
            to_hex(entry["transactionHash"]),
            int(entry["logIndex"]),
        )
