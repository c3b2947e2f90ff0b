"""EIP-1559 fees: what to offer for a first attempt and for a replacement.

A first attempt offers the configured priority fee and a max fee of twice the latest base
fee plus that priority fee (room for six full blocks of base-fee growth), capped. A
replacement must raise BOTH fees by the node's minimum bump (geth and most nodes: 10 %)
or the node refuses it as underpriced; it offers the larger of the bumped old fees and
the market, and gives up (keeps waiting) when the cap leaves no room for the bump.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class GasPolicy:
    """The operator's gas policy (`oracle.daemon.config.GasConfig`, in wei and seconds)."""

    max_fee_wei: int
    priority_fee_wei: int
    replace_after: float
    bump_percent: float
    gas_limit: int | None = None
    gas_margin_percent: int = 20  # over eth_estimateGas, against state changing meanwhile


@dataclass(frozen=True)
class Fees:
    max_fee: int  # maxFeePerGas, wei
    priority_fee: int  # maxPriorityFeePerGas, wei

    def __post_init__(self) -> None:
        if not 0 <= self.priority_fee <= self.max_fee:
            raise ValueError(f"need 0 <= priority fee <= max fee, got {self}")


def first_fees(base_fee: int, policy: GasPolicy) -> Fees:
    """Fees of a first attempt when the latest block's base fee is `base_fee`."""
    priority = min(policy.priority_fee_wei, policy.max_fee_wei)
    return Fees(min(2 * base_fee + priority, policy.max_fee_wei), priority)


def _bump(value: int, percent: float) -> int:
    return math.ceil(value * (100 + percent) / 100)


def replacement_fees(old: Fees, base_fee: int, policy: GasPolicy) -> Fees | None:
    """Fees that replace a transaction offering `old`, or None if the cap forbids it.

    Both fees rise by at least ``bump_percent`` (and by at least 1 wei, so tiny fees move
    too), follow the market if it rose further, and never exceed the cap.
    """
    market = first_fees(base_fee, policy)
    priority = max(_bump(old.priority_fee, policy.bump_percent), old.priority_fee + 1)
    max_fee = max(_bump(old.max_fee, policy.bump_percent), old.max_fee + 1)
    max_fee = max(max_fee, market.max_fee)
    priority = max(priority, market.priority_fee)
    if max_fee > policy.max_fee_wei or priority > max_fee:
        return None
    return Fees(max_fee, priority)
