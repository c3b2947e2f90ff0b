"""Feeds with on-chain inputs: the Python side of ``contracts/OnchainInputFeeds.sol``.

A feed declared there reads its model inputs from aggregator windows and int256 view calls
and posts hub rounds as the feed's updater, so a proof for it is bound to the contract's
address (`OnchainFeeds.binding`). An updater (the daemon or anyone) picks the newest round
of each aggregator window, reads the inputs those rounds give (`inputs_for`, at the block it
targets), proves the model on them and calls `update` with the same round ids: the contract
reads the rounds again in that transaction, so a proof for other rounds or other prices
fails, and stale rounds are refused before the proof is checked.

`to_fixed_point` is the contract's conversion, for checks and tests: value v with d decimals
to q = round(v * 2^s / 10^d), half away from zero, integers only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_typing import ChecksumAddress
from web3 import Web3
from web3.contract import Contract
from web3.types import BlockIdentifier

from oracle.chain import Chain
from oracle.errors import OracleError
from oracle.hub.records import Sent
from oracle.hub.sources import deploy_contract, hub_contracts
from oracle.statement import feed_binding

#: Gas of an on-chain-input update beyond the hub's check: the source reads per input.
READ_GAS_PER_INPUT = 15_000


def to_fixed_point(value: int, decimals: int, scale: int) -> int:
    """``OnchainInputFeeds.toFixedPoint``: round(value * 2^scale / 10^decimals), half away
    from zero. Raises `OracleError` where the contract reverts `ConversionOverflow`."""
    if value == -(1 << 255) or scale > 254 or abs(value) >= 1 << (255 - scale):
        raise OracleError(f"{value} with {decimals} decimals does not fit scale 2^-{scale}")
    unit = 10**decimals
    q: int = ((abs(value) << scale) + unit // 2) // unit
    return int(-q if value < 0 else q)


@dataclass(frozen=True)
class AggregatorWindow:
    """`rounds` consecutive rounds of a Chainlink-style aggregator, newest first."""

    aggregator: str
    rounds: int

    def as_abi(self) -> tuple[Any, ...]:
        return (Web3.to_checksum_address(self.aggregator), self.rounds, 0, b"")


@dataclass(frozen=True)
class ViewCall:
    """One int256 from ``target.staticcall(calldata)``, with `decimals` decimals."""

    target: str
    calldata: bytes
    decimals: int

    def as_abi(self) -> tuple[Any, ...]:
        return (Web3.to_checksum_address(self.target), 0, self.decimals, self.calldata)


Source = AggregatorWindow | ViewCall


class OnchainFeeds:
    """A deployed ``OnchainInputFeeds`` in front of a hub."""

    def __init__(self, chain: Chain, address: str) -> None:
        self.chain = chain
        self.address: ChecksumAddress = Web3.to_checksum_address(address)
        compiled = hub_contracts()
        for name in ("OnchainInputFeeds", "PriceAggregator"):
            chain.register_abi(compiled[name].abi)
        self.contract: Contract = chain.contract(self.address, compiled["OnchainInputFeeds"])
        self.hub: ChecksumAddress = Web3.to_checksum_address(self.contract.functions.hub().call())

    @classmethod
    def deploy(cls, chain: Chain, hub: str, *, sender: str | None = None) -> OnchainFeeds:
        compiled = hub_contracts()["OnchainInputFeeds"]
        address, _ = deploy_contract(chain, compiled, Web3.to_checksum_address(hub), sender=sender)
        return cls(chain, address)

    def declare(
        self,
        feed_id: bytes,
        model_id: bytes,
        max_input_age: int,
        sources: Sequence[Source],
        *,
        sender: str | None = None,
    ) -> Sent:
        """Create hub feed `feed_id` of `model_id` with inputs read from `sources`."""
        fn = self.contract.functions.declareFeed(
            feed_id, model_id, max_input_age, [s.as_abi() for s in sources]
        )
        return Sent.of(self.chain.transact(fn, sender=sender))

    def next_round(self, feed_id: bytes, block: BlockIdentifier = "latest") -> int:
        return int(self.contract.functions.nextRound(feed_id).call(block_identifier=block))

    def inputs_for(
        self, feed_id: bytes, round_ids: Sequence[int], block: BlockIdentifier = "latest"
    ) -> list[int]:
        """The quantized inputs the rounds give, as the contract builds them at `block`."""
        fn = self.contract.functions.inputsFor(feed_id, [int(r) for r in round_ids])
        if block == "latest":
            return [int(v) for v in self.chain.call(fn)]  # reverts decoded
        return [int(v) for v in fn.call(block_identifier=block)]

    def latest_rounds(self, feed_id: bytes, block: BlockIdentifier = "latest") -> list[int]:
        """The newest round of each aggregator source at `block` (0 for view calls)."""
        _, sources = self.contract.functions.getDeclaration(feed_id).call(block_identifier=block)
        out = []
        for target, window, _decimals, _data in sources:
            if window == 0:
                out.append(0)
                continue
            agg = self.chain.w3.eth.contract(address=target, abi=_LATEST_ROUND_ABI)
            out.append(int(agg.functions.latestRoundData().call(block_identifier=block)[0]))
        return out

    def binding(self, feed_id: bytes, round_: int) -> int:
        """The binding of hub round `round_`: the submitter the hub sees is this contract."""
        return feed_binding(self.chain.chain_id, self.hub, feed_id, round_, self.address)

    def update(
        self,
        feed_id: bytes,
        round_: int,
        round_ids: Sequence[int],
        outputs: Sequence[int],
        proof: Sequence[int],
        *,
        sender: str | None = None,
        gas: int | None = None,
    ) -> Sent:
        fn = self.contract.functions.update(
            feed_id, round_, [int(r) for r in round_ids], [int(v) for v in outputs], list(proof)
        )
        return Sent.of(self.chain.transact(fn, sender=sender, gas=gas))


_LATEST_ROUND_ABI = [
    {
        "type": "function",
        "name": "latestRoundData",
        "stateMutability": "view",
        "inputs": [],
        "outputs": [
            {"name": "roundId", "type": "uint80"},
            {"name": "answer", "type": "int256"},
            {"name": "startedAt", "type": "uint256"},
            {"name": "updatedAt", "type": "uint256"},
            {"name": "answeredInRound", "type": "uint80"},
        ],
    }
]
