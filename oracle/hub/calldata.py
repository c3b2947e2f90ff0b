"""Calldata of the hub's submitting functions, for a sender that signs its own transactions.

The daemon builds, signs and replaces transactions itself (nonces, fees, crash safety), so
it needs the bytes of ``fulfill``, ``fulfillBatch``, ``updateFeed`` and ``updateFeedBatch``
rather than a sent transaction. They go through eth-abi with the ABI's own types: web3's
contract encoding costs several milliseconds a call.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eth_abi.abi import encode as abi_encode
from eth_utils.abi import function_abi_to_4byte_selector, get_abi_input_types

from oracle.hub.base import HubBase

#: (request id, outputs, proof words) of one request in a batch.
BatchItem = tuple[int, Sequence[int], Sequence[int]]
#: (feed id, round, inputs, outputs, proof words) of one feed round in a batch.
RoundItem = tuple[bytes, int, Sequence[int], Sequence[int], Sequence[int]]


class HubCalldata(HubBase):
    """The bytes of the hub calls that carry proofs."""

    def _calldata(self, function: str, args: Sequence[Any]) -> bytes:
        if function not in self._calls:
            entry = self._abi_entry("function", function)
            self._calls[function] = (
                bytes(function_abi_to_4byte_selector(entry)),
                list(get_abi_input_types(entry)),
            )
        selector, types = self._calls[function]
        return selector + abi_encode(types, list(args))

    def fulfill_calldata(
        self, request_id: int, outputs: Sequence[int], proof_words: Sequence[int]
    ) -> bytes:
        """Calldata of ``fulfill(requestId, outputs, proof)``."""
        return self._calldata("fulfill", [request_id, list(outputs), list(proof_words)])

    def fulfill_batch_calldata(self, model_id: bytes, items: Sequence[BatchItem]) -> bytes:
        """Calldata of ``fulfillBatch(modelId, requestIds, outputs, proofs)``."""
        ids = [int(rid) for rid, _, _ in items]
        outputs = [[int(v) for v in outs] for _, outs, _ in items]
        proofs = [[int(w) for w in words] for _, _, words in items]
        return self._calldata("fulfillBatch", [model_id, ids, outputs, proofs])

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

    def update_feed_batch_calldata(self, model_id: bytes, items: Sequence[RoundItem]) -> bytes:
        """Calldata of ``updateFeedBatch(modelId, rounds, proofs)``, rounds in item order."""
        rounds = [
            (feed_id, int(round_), [int(v) for v in ins], [int(v) for v in outs])
            for feed_id, round_, ins, outs, _ in items
        ]
        proofs = [[int(w) for w in words] for *_, words in items]
        return self._calldata("updateFeedBatch", [model_id, rounds, proofs])
