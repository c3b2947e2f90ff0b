"""One interface to the three kinds of chain the oracle runs on.

* ``embedded``: web3's EthereumTesterProvider (py-evm in this process), the default. Its
  gas estimation is slow, so every transaction carries an explicit gas limit.
* ``anvil``: a local Anvil node this process starts on a free port and stops by PID.
* any JSON-RPC URL (``http://`` or ``https://``).

Transactions come from the configured signer (``ZKORACLE_PRIVATE_KEY`` or a keystore, see
`oracle.accounts`), or, on a local chain when none is configured, from the funded dev
accounts. A revert becomes `TransactionReverted` naming the custom error and its arguments,
decoded from the ABIs of every contract deployed or bound through the chain.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any, Literal, cast

from eth_typing import ChecksumAddress
from web3 import EthereumTesterProvider, Web3
from web3.contract import Contract
from web3.contract.contract import ContractConstructor, ContractFunction
from web3.exceptions import TimeExhausted
from web3.types import TxParams, TxReceipt, Wei

from oracle.accounts import Signer, signer_from_env
from oracle.anvil import AnvilNode
from oracle.errors import (
    AccountError,
    ChainConnectionError,
    OracleError,
    TransactionNotMined,
    TransactionReverted,
)
from oracle.redaction import redact_url, scrub
from oracle.reverts import RevertDecoder, decoded_revert, is_revert
from oracle.solc import CompiledContract

log = logging.getLogger(__name__)

ChainKind = Literal["embedded", "anvil", "rpc"]
SignerChoice = Signer | None | Literal["env"]
#: Gas limit of a transaction on the embedded chain when none is given (no estimation).
EMBEDDED_GAS = 10_000_000
#: Headroom over eth_estimateGas, in percent, against state changing before inclusion.
GAS_MARGIN_PERCENT = 20
#: How long to wait for a receipt: local nodes mine at once, a public chain takes blocks.
RECEIPT_TIMEOUT_S = {"embedded": 10.0, "anvil": 10.0, "rpc": 180.0}
#: A failed transaction that used this share of its gas limit (percent) may have run out.
_NEAR_LIMIT_PERCENT = 97
#: What a configured signer is given on a local chain where it starts without funds.
LOCAL_FUNDING_WEI = Web3.to_wei(100, "ether")

TxCall = ContractFunction | ContractConstructor
_REPLAY_FIELDS = ("from", "to", "data", "value", "gas")


class Chain:
    """A connection plus the accounts that can send on it. Build it with `connect`."""

    def __init__(
        self,
        w3: Web3,
        *,
        kind: ChainKind,
        signer: Signer | None,
        node: AnvilNode | None = None,
    ) -> None:
        self.w3 = w3
        self.kind = kind
        self.signer = signer
        self._node = node
        self._lock = threading.Lock()
        self.errors = RevertDecoder()
        try:
            self.chain_id: int = w3.eth.chain_id
            self.dev_accounts: list[ChecksumAddress] = list(w3.eth.accounts)
        except Exception as exc:
            raise ChainConnectionError(f"cannot reach the {kind} chain: {exc}") from exc
        if signer is None and not self.dev_accounts:
            raise AccountError(
                "no account to send from: set ZKORACLE_PRIVATE_KEY or ZKORACLE_KEYSTORE"
            )

    def __repr__(self) -> str:
        return f"Chain(kind={self.kind!r}, chain_id={self.chain_id}, sender={self.sender})"

    @property
    def is_local(self) -> bool:
        return self.kind in ("embedded", "anvil")

    @property
    def sender(self) -> ChecksumAddress:
        """The default sending address: the signer's, else the first dev account."""
        return self.signer.address if self.signer else self.dev_accounts[0]

    @property
    def accounts(self) -> list[ChecksumAddress]:
        """Every address this chain can send from, the default sender first."""
        own = [self.signer.address] if self.signer else []
        return own + [a for a in self.dev_accounts if a not in own]

    # -- contracts -------------------------------------------------------------------------

    def register_abi(self, abi: Iterable[Mapping[str, Any]]) -> None:
        """Make the custom errors of `abi` readable in reverts."""
        self.errors.add_abi(abi)

    def contract(self, address: str, compiled: CompiledContract) -> Contract:
        """A binding to a deployed contract."""
        self.register_abi(compiled.abi)
        return self.w3.eth.contract(address=Web3.to_checksum_address(address), abi=compiled.abi)

    def deploy(
        self,
        compiled: CompiledContract,
        *args: Any,
        gas: int | None = None,
        value: int = 0,
        sender: str | None = None,
    ) -> ChecksumAddress:
        """Deploy `compiled` with constructor `args`; the new contract's address."""
        return self.deploy_receipt(compiled, *args, gas=gas, value=value, sender=sender)[0]

    def deploy_receipt(
        self,
        compiled: CompiledContract,
        *args: Any,
        gas: int | None = None,
        value: int = 0,
        sender: str | None = None,
    ) -> tuple[ChecksumAddress, TxReceipt]:
        """Deploy `compiled` with constructor `args`; its address and the receipt."""
        if not compiled.bytecode:
            raise OracleError(f"{compiled.name} has no bytecode (an interface or abstract)")
        self.register_abi(compiled.abi)
        factory = self.w3.eth.contract(abi=compiled.abi, bytecode=compiled.bytecode)
        receipt = self.transact(factory.constructor(*args), gas=gas, value=value, sender=sender)
        address = receipt["contractAddress"]
        if address is None:
            raise OracleError(f"deployment of {compiled.name} returned no contract address")
        log.info("deployed %s at %s", compiled.name, address)
        return address, receipt

    # -- calls and transactions ------------------------------------------------------------

    def _reverted(self, exc: BaseException, tx_hash: str | None) -> TransactionReverted:
        return decoded_revert(exc, self.errors, tx_hash)

    def call(self, fn_call: ContractFunction, *, sender: str | None = None) -> Any:
        """eth_call; a revert raises `TransactionReverted` without a hash."""
        self.register_abi(fn_call.contract_abi)
        try:
            return fn_call.call({"from": self._sender(sender)})
        except Exception as exc:
            if is_revert(exc):
                raise self._reverted(exc, None) from exc
            raise

    def estimate_gas(self, fn_call: TxCall, *, value: int = 0, sender: str | None = None) -> int:
        """eth_estimateGas; a revert raises `TransactionReverted` without a hash."""
        self._register(fn_call)
        params: TxParams = {"from": self._sender(sender), "value": Wei(value)}
        try:
            return int(fn_call.estimate_gas(params))
        except Exception as exc:
            if is_revert(exc):
                raise self._reverted(exc, None) from exc
            raise

    def transact(
        self,
        fn_call: TxCall,
        *,
        gas: int | None = None,
        value: int = 0,
        sender: str | None = None,
    ) -> TxReceipt:
        """Send a transaction and wait for its receipt.

        Without `gas`, the limit is eth_estimateGas plus a margin (a revert found there
        raises `TransactionReverted` with no hash), or `EMBEDDED_GAS` on the embedded
        chain. A mined transaction that failed raises `TransactionReverted` with its hash.
        """
        self._register(fn_call)
        frm = self._sender(sender)
        if gas is None:
            if self.kind == "embedded":
                gas = EMBEDDED_GAS
            else:
                gas = self.estimate_gas(fn_call, value=value, sender=frm)
                gas += gas * GAS_MARGIN_PERCENT // 100
        tx = fn_call.build_transaction({"from": frm, "gas": gas, "value": Wei(value)})
        return self._send(tx, frm)

    def _register(self, fn_call: TxCall) -> None:
        abi = getattr(fn_call, "contract_abi", None) or getattr(fn_call, "abi", None)
        if isinstance(abi, list):
            self.register_abi(abi)

    def _sender(self, sender: str | None) -> ChecksumAddress:
        if sender is None:
            return self.sender
        address = Web3.to_checksum_address(sender)
        if address not in self.accounts:
            raise AccountError(f"{address} is neither the signer nor an unlocked dev account")
        return address

    def _send(self, tx: TxParams, sender: ChecksumAddress) -> TxReceipt:
        with self._lock:  # nonce read and send must not interleave between threads
            if self.signer is not None and sender == self.signer.address:
                tx["nonce"] = self.w3.eth.get_transaction_count(sender, "pending")
                signed = self.signer.sign_transaction(tx)
                tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
            else:
                tx_hash = self.w3.eth.send_transaction(tx)
        timeout = RECEIPT_TIMEOUT_S[self.kind]
        try:
            receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=timeout)
        except TimeExhausted:
            raise TransactionNotMined(tx_hash.to_0x_hex(), timeout) from None
        log.debug("tx %s from %s: status %s", tx_hash.to_0x_hex(), sender, receipt["status"])
        if receipt["status"] != 1:
            raise self._explain_failure(tx, receipt)
        return receipt

    def _explain_failure(self, tx: TxParams, receipt: TxReceipt) -> TransactionReverted:
        """Replay a failed transaction with eth_call on the state before its block to
        recover the revert data, which receipts do not carry."""
        tx_hash = receipt["transactionHash"].to_0x_hex()
        replay = cast(TxParams, {k: tx[k] for k in _REPLAY_FIELDS if k in tx})  # type: ignore[literal-required]
        detail, limit = "", int(tx.get("gas", 0))
        if receipt["gasUsed"] * 100 >= limit * _NEAR_LIMIT_PERCENT:
            detail = f"it used {receipt['gasUsed']} of its {limit} gas"
        try:
            self.w3.eth.call(replay, receipt["blockNumber"] - 1)
        except Exception as exc:
            if is_revert(exc):
                err = self._reverted(exc, tx_hash)
                if err.error_name is not None or err.data:
                    return TransactionReverted(
                        tx_hash=tx_hash,
                        error_name=err.error_name,
                        error_args=err.error_args,
                        data=err.data,
                        detail=detail,
                    )
                detail = detail or str(err.args[0]).partition("reverted: ")[2]
            else:
                detail = detail or str(exc)
        return TransactionReverted(tx_hash=tx_hash, error_name=None, detail=detail)

    # -- lifecycle -------------------------------------------------------------------------

    def fund(self, address: str, amount_wei: int) -> None:
        """Send ether from the first dev account (local chains only)."""
        if not self.dev_accounts:
            raise AccountError("this chain has no dev account to fund from")
        tx: TxParams = {
            "from": self.dev_accounts[0],
            "to": Web3.to_checksum_address(address),
            "value": Wei(amount_wei),
            "gas": 21000,
        }
        self._send(tx, self.dev_accounts[0])

    def close(self) -> None:
        """Stop the Anvil node this chain started, if any."""
        if self._node is not None:
            self._node.stop()
            self._node = None

    def __enter__(self) -> Chain:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _resolve_signer(signer: SignerChoice) -> Signer | None:
    return signer_from_env() if signer == "env" else signer


def _local_chain(w3: Web3, kind: ChainKind, signer: Signer | None, node: AnvilNode | None) -> Chain:
    chain = Chain(w3, kind=kind, signer=signer, node=node)
    if signer is not None and w3.eth.get_balance(signer.address) < LOCAL_FUNDING_WEI // 10:
        chain.fund(signer.address, LOCAL_FUNDING_WEI)
    return chain


def embedded(*, signer: SignerChoice = "env") -> Chain:
    """A fresh in-process chain (py-evm)."""
    return _local_chain(Web3(EthereumTesterProvider()), "embedded", _resolve_signer(signer), None)


def anvil(*, signer: SignerChoice = "env", extra_args: Sequence[str] = ()) -> Chain:
    """A new Anvil node on a free port; `Chain.close` (or ``with``) stops it."""
    resolved = _resolve_signer(signer)
    node = AnvilNode(extra_args=tuple(extra_args)).start()
    try:
        w3 = Web3(Web3.HTTPProvider(node.url, request_kwargs={"timeout": 60}))
        return _local_chain(w3, "anvil", resolved, node)
    except BaseException:
        node.stop()
        raise


def rpc(url: str, *, signer: SignerChoice = "env") -> Chain:
    """A chain behind a JSON-RPC URL. Without a signer, the node's unlocked accounts send."""
    if not url.startswith(("http://", "https://")):
        raise ChainConnectionError(
            f"unsupported RPC URL {redact_url(url)!r}: use http:// or https://"
        )
    w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 60}))
    resolved = _resolve_signer(signer)
    try:
        return Chain(w3, kind="rpc", signer=resolved)
    except ChainConnectionError as exc:  # the HTTP client's errors quote the URL and its key
        why = scrub(str(exc.__cause__ or exc), url)
        raise ChainConnectionError(f"cannot reach {redact_url(url)}: {why}") from None


def connect(target: str = "embedded", *, signer: SignerChoice = "env") -> Chain:
    """``"embedded"``, ``"anvil"`` or an RPC URL. `signer` defaults to the environment's."""
    if target == "embedded":
        return embedded(signer=signer)
    if target == "anvil":
        return anvil(signer=signer)
    return rpc(target, signer=signer)
