"""The public statement of a model proof, computed exactly as the hub contract computes it.

Public inputs, in order: ``binding``, the encoded model inputs, the encoded model outputs
(``contracts/Statement.sol`` is the on-chain side; tests check the two agree value for
value). A list of signed values with signed bit width ``bits`` is encoded with
``per_word`` values per field element:

* ``per_word == 1``, unpacked: one element per value, ``v mod r``;
* ``per_word >= 2``, packed (``per_word * bits <= 253``): element k holds values
  ``k*per_word .. k*per_word + per_word - 1`` as ``sum_j (v_j + 2^(bits-1)) << (bits*j)``.

Every value must lie in ``[-2^(bits-1), 2^(bits-1))``: the contract rejects anything else,
and without that check ``v`` and ``v - r`` would share an encoding.

The encoding itself is the circuit's (`circuits.Packing`, `circuits.PublicLayout`): the
prover, this module and the hub therefore share one definition. This module adds what the
hub checks on top (counts, the public-input limit) and reports every violation, the
circuit side's range errors included, as a `StatementError`.

The binding ties a proof to one request (or feed round) and one submitter:
``keccak256(abi.encode(chainid, hub, requestId, submitter)) mod r`` for a request and
``keccak256(abi.encode(chainid, hub, feedId, round, submitter)) mod r`` for a feed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from eth_abi.abi import encode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from circuits import MAX_PUBLIC_INPUTS, FieldRangeError, PublicLayout, R
from oracle.errors import OracleError

#: Largest signed bit width, and largest ``per_word * bits``, a packing may use.
MAX_BITS = 253


class StatementError(OracleError):
    """A value or layout does not fit the statement the hub verifies (names which and where)."""


@contextmanager
def _statement_errors() -> Iterator[None]:
    """Report the circuit side's range errors as the chain side's `StatementError`."""
    try:
        yield
    except FieldRangeError as e:
        raise StatementError(str(e)) from None


@dataclass(frozen=True)
class StatementLayout(PublicLayout):
    """Shape of a model's statement: counts and packings of its inputs and outputs."""

    def __post_init__(self) -> None:
        if self.n_inputs < 1 or self.n_outputs < 1:
            raise StatementError("a model needs at least one input and one output")
        if self.n_public > MAX_PUBLIC_INPUTS:
            raise StatementError(
                f"{self.n_public} public inputs exceed {MAX_PUBLIC_INPUTS}, the most a "
                "verifier takes: pack inputs or outputs several per field element"
            )

    @staticmethod
    def of(layout: PublicLayout) -> StatementLayout:
        """The layout of a compiled model (its manifest's ``public_inputs``)."""
        return StatementLayout(
            layout.n_inputs,
            layout.n_outputs,
            layout.inputs,
            layout.outputs,
            layout.inputs_committed,
            layout.outputs_kind,
            layout.weights_committed,
        )

    def public_inputs(
        self, binding: int, inputs: Sequence[int], outputs: Sequence[int]
    ) -> list[int]:
        """The vector the hub verifies: [binding, encoded inputs, encoded outputs]."""
        if len(inputs) != self.n_inputs:
            raise StatementError(f"expected {self.n_inputs} inputs, got {len(inputs)}")
        if len(outputs) != self.n_outputs:
            raise StatementError(f"expected {self.n_outputs} outputs, got {len(outputs)}")
        with _statement_errors():
            return super().public_inputs(binding, inputs, outputs)


def request_binding(chain_id: int, hub: str, request_id: int, submitter: str) -> int:
    """Binding of a proof that ``submitter`` posts for request ``request_id`` on ``hub``."""
    data = encode(
        ["uint256", "address", "uint256", "address"],
        [chain_id, to_checksum_address(hub), request_id, to_checksum_address(submitter)],
    )
    return int.from_bytes(keccak(data), "big") % R


def feed_binding(chain_id: int, hub: str, feed_id: bytes, round_: int, submitter: str) -> int:
    """Binding of a proof that ``submitter`` posts for round ``round_`` of feed ``feed_id``."""
    if len(feed_id) != 32:
        raise StatementError(f"a feed id is 32 bytes, got {len(feed_id)}")
    if not 0 <= round_ < 1 << 64:
        raise StatementError(f"feed round {round_} does not fit uint64")
    data = encode(
        ["uint256", "address", "bytes32", "uint64", "address"],
        [chain_id, to_checksum_address(hub), feed_id, round_, to_checksum_address(submitter)],
    )
    return int.from_bytes(keccak(data), "big") % R


def verifier_selector(n_public: int) -> bytes:
    """Selector of ``verifyProof(uint256[8],uint256[n_public])``, as the hub stores it."""
    return keccak(f"verifyProof(uint256[8],uint256[{n_public}])".encode())[:4]
