"""What the daemon reads from and writes to the hub contract, through its ABI.

The daemon needs four things of the hub: the ``InferenceRequested`` logs of a block range,
the status of a request, and the calldata of ``fulfill`` and ``updateFeed``. Every read
goes through `with_retry`, so a flaky endpoint costs time, not correctness.

Calldata and logs go through eth-abi with the ABI's own types: web3's contract encoding
and log processing cost several milliseconds a call, which under a burst of requests
would leave the provers waiting for the daemon's loop.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_typing import ChecksumAddress
from eth_utils.abi import (
    event_abi_to_log_topic,
    function_abi_to_4byte_selector,
    get_abi_input_types,
)
from eth_utils.address import to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import BlockNotFound
from web3.logs import DISCARD
from web3.types import FilterParams, LogReceipt

from oracle.contracts import CONTRACTS_DIR, hub_contracts
from oracle.daemon.jobs import Kind, NewJob, request_key
from oracle.daemon.rpc import DEFAULT_RETRY, RetryPolicy, with_retry
from oracle.errors import OracleError
from oracle.hub_types import only_from
from oracle.reverts import RevertDecoder, is_revert, revert_data


class Status(IntEnum):
    """``IZkOracle.Status``."""

    NONE = 0
    PENDING = 1
    FULFILLED = 2
    CANCELLED = 3


@dataclass(frozen=True)
class RequestEvent:
    """One decoded ``InferenceRequested`` log and where it sits."""

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

    def new_job(self) -> NewJob:
        payload = self.payload()
        return NewJob(
            Kind.REQUEST,
            request_key(self.request_id, payload),
            self.model_id,
            payload,
            self.block_number,
            self.block_hash,
        )


#: Key prefix of the failed jobs that record undecodable logs.
UNDECODABLE = "request:undecodable:"


@dataclass(frozen=True)
class UndecodableLog:
    """An ``InferenceRequested`` log of the hub that does not decode: it becomes a job
    that fails at once with `reason`, so the store says what was skipped."""

    reason: str
    block_number: int
    block_hash: str
    tx_hash: str
    log_index: int

    def new_job(self) -> NewJob:
        payload = {"request_id": 0, "tx_hash": self.tx_hash, "log_index": self.log_index,
                   "error": self.reason}  # fmt: skip
        key = f"{UNDECODABLE}{self.tx_hash}:{self.log_index}"
        return NewJob(Kind.REQUEST, key, b"\x00" * 32, payload, self.block_number,
                      self.block_hash)  # fmt: skip


#: The hand-written contracts, next to the packages in the repository.
def load_hub_abi(contracts_dir: Path = CONTRACTS_DIR) -> list[dict[str, Any]]:
    """The ABI of ``ZkOracle``, from the same (cached) compilation the bindings use."""
    compiled = hub_contracts(contracts_dir)
    if "ZkOracle" not in compiled:
        raise OracleError(f"{contracts_dir} has no ZkOracle contract: cannot get the hub's ABI")
    return list(compiled["ZkOracle"].abi)


def _hex(value: bytes | str) -> str:
    return HexBytes(value).to_0x_hex()


class Hub:
    """The hub contract at ``address`` as the daemon uses it."""

    def __init__(
        self,
        w3: Web3,
        address: str,
        abi: Sequence[Mapping[str, Any]],
        *,
        retry: RetryPolicy = DEFAULT_RETRY,
    ) -> None:
        self.w3 = w3
        self.address: ChecksumAddress = Web3.to_checksum_address(address)
        self.abi = [dict(entry) for entry in abi]
        self.contract = w3.eth.contract(address=self.address, abi=self.abi)
        self.errors = RevertDecoder()
        self.errors.add_abi(self.abi)
        self.retry = retry
        self._requested = self._abi_entry("event", "InferenceRequested")
        self._requested_topic = HexBytes(event_abi_to_log_topic(self._requested))
        self._events = {self._requested_topic: self._requested}
        # A hub ABI without private-input requests (an older hub) is watched for the
        # public ones only.
        private = [
            e
            for e in self.abi
            if e.get("type") == "event" and e.get("name") == "PrivateInferenceRequested"
        ]
        for entry in private:
            topic = event_abi_to_log_topic(entry)  # type: ignore[arg-type]
            self._events[HexBytes(topic)] = entry
        self._calls: dict[str, tuple[bytes, list[str]]] = {}  # selector and input types

    def _abi_entry(self, kind: str, name: str) -> Any:
        for entry in self.abi:
            if entry.get("type") == kind and entry.get("name") == name:
                return entry
        raise OracleError(f"the hub ABI has no {kind} {name}")

    def _calldata(self, function: str, args: Sequence[Any]) -> bytes:
        if function not in self._calls:
            entry = self._abi_entry("function", function)
            self._calls[function] = (
                bytes(function_abi_to_4byte_selector(entry)),
                list(get_abi_input_types(entry)),
            )
        selector, types = self._calls[function]
        return selector + abi_encode(types, list(args))

    def add_error_abi(self, abi: Iterable[Mapping[str, Any]]) -> None:
        """Also decode the custom errors of `abi` (e.g. a verifier's or a consumer's)."""
        self.errors.add_abi(abi)

    def request_logs(
        self, from_block: int, to_block: int, model_ids: Sequence[bytes] = ()
    ) -> list[RequestEvent | UndecodableLog]:
        """``InferenceRequested`` and ``PrivateInferenceRequested`` logs in [from_block,
        to_block], for `model_ids` only (every model if empty), in chain order; a log that
        does not decode is returned as an `UndecodableLog` instead of stopping the others."""
        topics: list[Any] = [[t.to_0x_hex() for t in self._events], None]
        if model_ids:
            topics.append([_hex(m) for m in model_ids])
        params: FilterParams = {
            "address": self.address,
            "fromBlock": from_block,
            "toBlock": to_block,
            "topics": topics,
        }
        logs = with_retry(
            f"eth_getLogs {from_block}..{to_block}",
            lambda: self.w3.eth.get_logs(params),
            self.retry,
        )
        # The node filtered by address already; a provider that ignores the filter must not
        # make look-alike logs of another contract count as requests.
        return [self._decode(entry) for entry in only_from(self.address, logs)]

    def _event_args(self, entry: LogReceipt) -> dict[str, Any]:
        """The arguments of a request log by name (addresses checksummed, as web3 gives
        them: they enter the request's key)."""
        topics = entry["topics"]
        event = self._events.get(HexBytes(topics[0])) if topics else None
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

    def _decode(self, entry: LogReceipt) -> RequestEvent | UndecodableLog:
        try:
            return self._decoded(entry)
        except Exception as exc:
            why = f"undecodable InferenceRequested log in tx {_hex(entry['transactionHash'])}"
            return UndecodableLog(
                f"{why}: {type(exc).__name__}: {exc}",
                int(entry["blockNumber"]),
                _hex(entry["blockHash"]),
                _hex(entry["transactionHash"]),
                int(entry["logIndex"]),
            )

    def _decoded(self, entry: LogReceipt) -> RequestEvent:
        args = self._event_args(entry)
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
            block_hash=_hex(entry["blockHash"]),
            tx_hash=_hex(entry["transactionHash"]),
            log_index=int(entry["logIndex"]),
            input_commitment=int(args["inputCommitment"]) if "ciphertext" in args else None,
            ciphertext=bytes(args["ciphertext"]) if "ciphertext" in args else None,
        )

    def request_status(self, request_id: int) -> Status:
        """Status of a request now; NONE when the hub does not know it."""
        call = self.contract.functions.getRequest(request_id)
        try:
            record = with_retry(f"getRequest({request_id})", call.call, self.retry)
        except Exception as exc:
            if not is_revert(exc):
                raise
            data, _ = revert_data(exc)
            name, _args = self.errors.decode(data or b"")
            if name == "UnknownRequest":
                return Status.NONE
            raise
        return Status(int(self._field("getRequest", record, "status")))

    def feed_state(self, feed_id: bytes) -> tuple[int, int]:
        """(latest round, time of its update) of feed `feed_id`; (0, 0) before any round."""
        call = self.contract.functions.getFeed(feed_id)
        record = with_retry(f"getFeed(0x{feed_id.hex()})", call.call, self.retry)
        return int(self._field("getFeed", record, "round")), int(
            self._field("getFeed", record, "updatedAt")
        )

    def _field(self, function: str, record: Sequence[Any], name: str) -> Any:
        """Field `name` of the struct `function` returns, by the ABI's component names."""
        entry = next(e for e in self.abi if e.get("type") == "function" and e["name"] == function)
        names = [c["name"] for c in entry["outputs"][0]["components"]]
        if name not in names:
            raise OracleError(f"the hub ABI's {function} returns no field {name!r}: {names}")
        return record[names.index(name)]

    def fulfill_calldata(
        self, request_id: int, outputs: Sequence[int], proof_words: Sequence[int]
    ) -> bytes:
        """Calldata of ``fulfill(requestId, outputs, proof)``."""
        return self._calldata("fulfill", [request_id, list(outputs), list(proof_words)])

    def fulfill_batch_calldata(
        self, model_id: bytes, items: Sequence[tuple[int, Sequence[int], Sequence[int]]]
    ) -> bytes:
        """Calldata of ``fulfillBatch(modelId, requestIds, outputs, proofs)`` for
        (request id, outputs, proof words) items."""
        ids = [int(rid) for rid, _, _ in items]
        outputs = [[int(v) for v in outs] for _, outs, _ in items]
        proofs = [[int(w) for w in words] for _, _, words in items]
        return self._calldata("fulfillBatch", [model_id, ids, outputs, proofs])

    def skipped_requests(self, receipt: Any) -> dict[int, int]:
        """Request id -> skip reason of the hub's RequestSkipped logs in a receipt."""
        events = self.contract.events.RequestSkipped().process_receipt(receipt, errors=DISCARD)
        return {int(e["args"]["requestId"]): int(e["args"]["reason"]) for e in events}

    def update_feed_calldata(
        self,
        feed_id: bytes,
        inputs: Sequence[int],
        outputs: Sequence[int],
        round_: int,
        proof_words: Sequence[int],
    ) -> bytes:
        """Calldata of ``updateFeed(feedId, inputs, outputs, round, proof)``."""
        args = [feed_id, list(inputs), list(outputs), round_, list(proof_words)]
        return self._calldata("updateFeed", args)

    def block_hash(self, number: int) -> str | None:
        """Hash of block `number` on the chain now, None if the chain is shorter."""

        def get() -> str | None:
            try:
                block = self.w3.eth.get_block(number)
            except BlockNotFound:
                return None
            return _hex(block["hash"]) if block.get("hash") else None

        return with_retry(f"eth_getBlockByNumber {number}", get, self.retry)

    def latest_block(self) -> tuple[int, str, int]:
        """(number, hash, timestamp) of the latest block."""
        block = with_retry(
            "eth_getBlockByNumber latest", lambda: self.w3.eth.get_block("latest"), self.retry
        )
        return int(block["number"]), _hex(block["hash"]), int(block["timestamp"])

    def base_fee(self) -> int:
        """Base fee per gas of the latest block (0 before EIP-1559)."""
        block = with_retry(
            "eth_getBlockByNumber latest", lambda: self.w3.eth.get_block("latest"), self.retry
        )
        return int(block.get("baseFeePerGas", 0))

    def head(self) -> int:
        return with_retry("eth_blockNumber", lambda: int(self.w3.eth.block_number), self.retry)
