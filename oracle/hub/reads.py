"""What the hub and its chain say now: requests, models, feeds, bindings, blocks.

Views that decode a revert the daemon relies on (``UnknownRequest``) read it through the
binding's own error decoder, so they answer the same on a `Chain` and on a bare `Web3`.
"""

from __future__ import annotations

from collections.abc import Sequence

from web3 import Web3
from web3.exceptions import BlockNotFound

from oracle.errors import TransactionReverted
from oracle.hub.base import HubBase
from oracle.hub.events import to_hex
from oracle.hub.records import FeedValue, RegisteredModel, RequestResult, RequestStatus
from oracle.hub.records import registered_model as decode_model
from oracle.reverts import is_revert, revert_data


class HubReads(HubBase):
    """Views of the hub and the head of its chain."""

    # -- requests --------------------------------------------------------------------------

    def request_status(self, request_id: int) -> RequestStatus:
        """Status of a request now; NONE when the hub does not know it."""
        call = self.contract.functions.getRequest(request_id)
        try:
            record = self._read(f"getRequest({request_id})", call.call)
        except Exception as exc:
            if not is_revert(exc):
                raise
            data, _ = revert_data(exc)
            name, _args = self.errors.decode(data or b"")
            if name == "UnknownRequest":
                return RequestStatus.NONE
            raise
        return RequestStatus(int(self._field("getRequest", record, "status")))

    def result(self, request_id: int) -> RequestResult:
        """Status and (once fulfilled) the verified outputs of a request."""
        status, outputs = self._view(self.contract.functions.result(request_id))
        return {"status": RequestStatus(status), "outputs": [int(v) for v in outputs]}

    def request_binding(self, request_id: int, submitter: str) -> int:
        """The binding the hub puts in the statement of `submitter`'s proof for the request."""
        fn = self.contract.functions.requestBinding(request_id, Web3.to_checksum_address(submitter))
        return int(self._view(fn))

    def request_public_inputs(
        self, request_id: int, submitter: str, outputs: Sequence[int]
    ) -> list[int]:
        """The exact public inputs `fulfill` verifies for `submitter` and these outputs."""
        fn = self.contract.functions.requestPublicInputs(
            request_id, Web3.to_checksum_address(submitter), [int(v) for v in outputs]
        )
        return [int(v) for v in self._view(fn)]

    # -- models ----------------------------------------------------------------------------

    def model(self, model_id: bytes) -> RegisteredModel | None:
        """The registration of `model_id`, or None if the id is unused."""
        try:
            raw = self._view(self.contract.functions.getModel(model_id))
        except TransactionReverted as e:
            if e.error_name == "UnknownModel":
                return None
            raise
        return decode_model(raw)

    def model_id_of(self, owner: str, salt: bytes) -> bytes:
        """The id the hub gives `owner`'s model registered with `salt`."""
        fn = self.contract.functions.modelIdOf(Web3.to_checksum_address(owner), salt)
        return bytes(self._view(fn))

    # -- feeds -----------------------------------------------------------------------------

    def feed_state(self, feed_id: bytes) -> tuple[int, int]:
        """(latest round, time of its update) of feed `feed_id`; (0, 0) before any round."""
        call = self.contract.functions.getFeed(feed_id)
        record = self._read(f"getFeed(0x{feed_id.hex()})", call.call)
        return int(self._field("getFeed", record, "round")), int(
            self._field("getFeed", record, "updatedAt")
        )

    def feed_model(self, feed_id: bytes) -> bytes:
        """The model whose proofs feed `feed_id` takes."""
        record = self._view(self.contract.functions.getFeed(feed_id))
        return bytes(self._field("getFeed", record, "modelId"))

    def feed_binding(self, feed_id: bytes, round_: int, submitter: str) -> int:
        fn = self.contract.functions.feedBinding(
            feed_id, round_, Web3.to_checksum_address(submitter)
        )
        return int(self._view(fn))

    def latest(self, feed_id: bytes) -> FeedValue:
        """The latest verified outputs of a feed (empty, round 0 before the first update)."""
        outputs, round_, updated_at = self._view(self.contract.functions.latest(feed_id))
        return {
            "outputs": [int(v) for v in outputs],
            "round": int(round_),
            "updated_at": int(updated_at),
        }

    # -- the chain's head ------------------------------------------------------------------

    def block_hash(self, number: int) -> str | None:
        """Hash of block `number` on the chain now, None if the chain is shorter."""

        def get() -> str | None:
            try:
                block = self.w3.eth.get_block(number)
            except BlockNotFound:
                return None
            return to_hex(block["hash"]) if block.get("hash") else None

        return self._read(f"eth_getBlockByNumber {number}", get)

    def latest_block(self) -> tuple[int, str, int]:
        """(number, hash, timestamp) of the latest block."""
        block = self._read("eth_getBlockByNumber latest", lambda: self.w3.eth.get_block("latest"))
        return int(block["number"]), to_hex(block["hash"]), int(block["timestamp"])

    def base_fee(self) -> int:
        """Base fee per gas of the latest block (0 before EIP-1559)."""
        block = self._read("eth_getBlockByNumber latest", lambda: self.w3.eth.get_block("latest"))
        return int(block.get("baseFeePerGas", 0))

    def head(self) -> int:
        return self._read("eth_blockNumber", lambda: int(self.w3.eth.block_number))
