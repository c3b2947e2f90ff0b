"""Exceptions of the chain side: one root, specific subclasses that say what went wrong.

Messages never contain key material: an account is named by its address only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class OracleError(Exception):
    """Root of every error raised by the `oracle` package."""

    def __reduce__(self) -> tuple[Any, ...]:
        # As `circuits.errors.CircuitError`: rebuilt from the message and the attributes, so
        # an error crosses a process boundary (prover workers, the Ray bridge) intact.
        return (_restore, (type(self), str(self), dict(self.__dict__)))


def _restore(cls: type[OracleError], message: str, state: dict[str, Any]) -> OracleError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


class DevnetError(OracleError):
    """The local devnet toolchain (node, node_modules, Anvil, Ganache) is missing or broken."""


class SolidityCompileError(OracleError):
    """solc reported errors. ``errors`` holds one ``file:line:column: Type: message`` each;
    ``excerpts`` (same length, "" where unknown) the source line with a caret under it."""

    def __init__(self, errors: Sequence[str], excerpts: Sequence[str] = ()) -> None:
        self.errors = list(errors)
        self.excerpts = list(excerpts) or [""] * len(self.errors)
        listing = "\n".join(
            f"  {e}\n{x}" if x else f"  {e}"
            for e, x in zip(self.errors, self.excerpts, strict=True)
        )
        super().__init__(
            f"Solidity compilation failed with {len(self.errors)} error(s):\n{listing}"
        )


class CompilerUnavailableError(OracleError):
    """No Solidity compiler could be run (neither a native solc nor solc-js)."""


class ChainConnectionError(OracleError):
    """The chain could not be reached or started."""


class AccountError(OracleError):
    """No usable sending account: a missing key, a bad keystore or a wrong password."""


class TransactionReverted(OracleError):
    """A transaction or call reverted.

    ``error_name`` / ``error_args`` come from the contract ABIs the chain knows (a custom
    error, ``Error(string)`` or ``Panic(uint256)``); ``data`` is the raw revert data.
    ``tx_hash`` is None when the revert was found before sending (gas estimation, eth_call).
    """

    def __init__(
        self,
        *,
        tx_hash: str | None,
        error_name: str | None,
        error_args: Sequence[Any] = (),
        data: bytes = b"",
        detail: str = "",
    ) -> None:
        self.tx_hash = tx_hash
        self.error_name = error_name
        self.error_args = tuple(error_args)
        self.data = data
        where = f"transaction {tx_hash}" if tx_hash else "call"
        if error_name is not None:
            what = f"{error_name}({', '.join(repr(a) for a in self.error_args)})"
        elif data:
            what = f"unknown revert data 0x{data.hex()}"
        else:
            what = detail or "no revert data"
            detail = ""
        extra = f" ({detail})" if detail else ""
        super().__init__(f"{where} reverted: {what}{extra}")


class TransactionNotMined(OracleError):
    """A sent transaction got no receipt in time (e.g. a gas limit below what its calldata
    costs, which some nodes keep pending instead of refusing)."""

    def __init__(self, tx_hash: str, timeout: float) -> None:
        super().__init__(f"transaction {tx_hash} was not mined within {timeout:g} s")
        self.tx_hash = tx_hash
