"""Turning revert data into a readable error: custom errors from ABIs, Error and Panic.

Revert data reaches us in three shapes: web3's ``ContractLogicError`` carries it as hex in
``data`` (Anvil and most RPC nodes) or in ``data["result"]`` (Ganache), and eth-tester's
``TransactionFailed`` carries it in its message as a Python bytes literal (the embedded
chain).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_utils.abi import (
    abi_to_signature,
    function_signature_to_4byte_selector,
    get_abi_input_types,
)
from hexbytes import HexBytes
from web3.exceptions import ContractLogicError

from oracle.errors import TransactionReverted

_STANDARD: dict[bytes, tuple[str, list[str]]] = {
    function_signature_to_4byte_selector("Error(string)"): ("Error", ["string"]),
    function_signature_to_4byte_selector("Panic(uint256)"): ("Panic", ["uint256"]),
}
_TESTER_PREFIX = "execution reverted: "


class RevertDecoder:
    """Knows the custom errors of every ABI added to it, by 4-byte selector."""

    def __init__(self) -> None:
        self._errors: dict[bytes, tuple[str, list[str]]] = dict(_STANDARD)

    def add_abi(self, abi: Iterable[Mapping[str, Any]]) -> None:
        for entry in abi:
            if entry.get("type") != "error":
                continue
            signature = abi_to_signature(dict(entry))  # type: ignore[arg-type]
            types = get_abi_input_types(dict(entry))  # type: ignore[arg-type]
            self._errors[function_signature_to_4byte_selector(signature)] = (entry["name"], types)

    def decode(self, data: bytes) -> tuple[str | None, tuple[Any, ...]]:
        """(error name, decoded arguments), or (None, ()) for unknown or empty data."""
        known = self._errors.get(bytes(data[:4])) if len(data) >= 4 else None
        if known is None:
            return None, ()
        name, types = known
        try:
            return name, tuple(abi_decode(types, bytes(data[4:])))
        except (DecodingError, ValueError, OverflowError):
            return None, ()


def _hex_to_bytes(value: object) -> bytes | None:
    if isinstance(value, Mapping):  # Ganache: {"result": "0x...", "programCounter": ...}
        return _hex_to_bytes(value.get("result", value.get("data")))
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str) and value.startswith("0x"):
        try:
            return bytes(HexBytes(value))
        except ValueError:
            return None
    return None


def _tester_message_data(message: str) -> tuple[bytes | None, str]:
    """eth-tester writes raw revert data as ``execution reverted: b'...'``; an Error(string)
    reason it writes decoded, as plain text."""
    text = message.removeprefix(_TESTER_PREFIX)
    if text.startswith(("b'", 'b"')):
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return None, text
        if isinstance(value, bytes):
            return value, ""
    return None, text


def revert_data(exc: BaseException) -> tuple[bytes | None, str]:
    """(raw revert data if the exception carries it, a reason text otherwise)."""
    if isinstance(exc, ContractLogicError):
        return _hex_to_bytes(exc.data), exc.message or ""
    if type(exc).__name__ == "TransactionFailed" and exc.args:
        first = exc.args[0]
        if isinstance(first, bytes):
            return first, ""
        return _tester_message_data(str(first))
    return None, str(exc)


def decoded_revert(
    exc: BaseException, errors: RevertDecoder, tx_hash: str | None = None
) -> TransactionReverted:
    """`exc` (a revert) as `TransactionReverted`, its error named by `errors`."""
    data, text = revert_data(exc)
    name, args = errors.decode(data) if data else (None, ())
    return TransactionReverted(
        tx_hash=tx_hash,
        error_name=name,
        error_args=args,
        data=data or b"",
        detail="" if name else text,
    )


def is_revert(exc: BaseException) -> bool:
    """True for the exceptions web3 and eth-tester raise when execution reverted."""
    return isinstance(exc, ContractLogicError) or type(exc).__name__ == "TransactionFailed"
