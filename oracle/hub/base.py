"""What every part of the `Hub` binding shares: the connection, the ABI, retried reads.

A `Hub` is built on a `Chain` (it can then send transactions from the chain's accounts,
and a revert raises `TransactionReverted` with the decoded error) or on a bare `Web3` (the
daemon, which signs and sends its own transactions and only needs reads, logs and
calldata). Reads the daemon makes go through `with_retry`, so a flaky endpoint costs time,
not correctness.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar, cast

from eth_typing import ChecksumAddress
from web3 import Web3
from web3.contract import Contract
from web3.logs import DISCARD
from web3.types import TxReceipt

from oracle.chain import Chain
from oracle.errors import OracleError
from oracle.hub.records import only_from
from oracle.hub.sources import HUB_NAME, hub_contracts
from oracle.reverts import RevertDecoder, decoded_revert, is_revert
from oracle.rpc import DEFAULT_RETRY, RetryPolicy, with_retry

T = TypeVar("T")


class HubBase:
    """The hub contract at `address`, reached through `chain` (a `Chain` or a `Web3`)."""

    def __init__(
        self,
        chain: Chain | Web3,
        address: str,
        *,
        abi: Sequence[Mapping[str, Any]] | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
    ) -> None:
        self._chain = chain if isinstance(chain, Chain) else None
        self.w3: Web3 = chain.w3 if isinstance(chain, Chain) else chain
        self.address: ChecksumAddress = Web3.to_checksum_address(address)
        self.retry = retry
        compiled = hub_contracts()
        self.abi = [dict(e) for e in (abi if abi is not None else compiled[HUB_NAME].abi)]
        self.errors = RevertDecoder()
        self.errors.add_abi(self.abi)
        if self._chain is not None:
            if not self.w3.eth.get_code(self.address):
                raise OracleError(
                    f"no contract at hub address {self.address} on chain {self._chain.chain_id}"
                )
            for c in compiled.values():  # consumers' errors too, for their reverts
                self._chain.register_abi(c.abi)
            self._chain.register_abi(self.abi)
        self.contract: Contract = self.w3.eth.contract(address=self.address, abi=self.abi)
        self._calls: dict[str, tuple[bytes, list[str]]] = {}  # selector and input types

    def __repr__(self) -> str:
        return f"Hub({self.address})"

    @property
    def chain(self) -> Chain:
        """The `Chain` transactions go through; a binding on a bare `Web3` has none."""
        if self._chain is None:
            raise OracleError(
                f"the binding of hub {self.address} was built on a Web3 connection, which "
                "cannot send transactions: build it with a Chain (oracle.chain.connect)"
            )
        return self._chain

    def add_error_abi(self, abi: Iterable[Mapping[str, Any]]) -> None:
        """Also decode the custom errors of `abi` (e.g. a verifier's or a consumer's)."""
        self.errors.add_abi(abi)

    def _read(self, what: str, call: Callable[[], T]) -> T:
        """`call()` retried on transport failures (`oracle.rpc`)."""
        return with_retry(what, call, self.retry)

    def _view(self, fn: Any) -> Any:
        """A view call: through the chain (reverts decoded) if there is one, else retried."""
        if self._chain is not None:
            return self._chain.call(fn)
        try:
            return self._read(f"{fn.fn_name}()", fn.call)
        except Exception as exc:
            if not is_revert(exc):
                raise
            raise decoded_revert(exc, self.errors) from exc

    def _abi_entry(self, kind: str, name: str) -> Any:
        for entry in self.abi:
            if entry.get("type") == kind and entry.get("name") == name:
                return entry
        raise OracleError(f"the hub ABI has no {kind} {name}")

    def _field(self, function: str, record: Sequence[Any], name: str) -> Any:
        """Field `name` of the struct `function` returns, by the ABI's component names."""
        entry = self._abi_entry("function", function)
        names = [c["name"] for c in entry["outputs"][0]["components"]]
        if name not in names:
            raise OracleError(f"the hub ABI's {function} returns no field {name!r}: {names}")
        return record[names.index(name)]

    def _logs(self, receipt: TxReceipt, event: str) -> list[Any]:
        """The hub's own `event` logs in `receipt`: a consumer's callback runs inside the
        same transaction and can emit look-alike events, so logs of any other address are
        dropped before decoding."""
        only_hub = cast(TxReceipt, {**receipt, "logs": only_from(self.address, receipt["logs"])})
        return list(
            getattr(self.contract.events, event)().process_receipt(only_hub, errors=DISCARD)
        )
