"""Operators' encryption keys on-chain: the binding of ``contracts/OperatorKeys.sol``.

A requester of a private-input model seals its inputs to the operator's secp256k1 key
(`oracle.private_inputs`). Instead of receiving that key out of band, it reads it from the
``OperatorKeys`` registry, where each operator account publishes its own key (the contract
refuses a key that is not a point of the curve). The daemon publishes its key at start when
the registry holds none for it or another one (``[hub] operator_keys`` in its
configuration). Keys travel as 33-byte compressed points; the contract stores the affine
coordinates, which it can check against the curve equation cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass

from coincurve import PublicKey
from eth_typing import ChecksumAddress
from web3 import Web3

from oracle.accounts import Signer
from oracle.chain import Chain, ChainKind
from oracle.errors import OracleError, TransactionReverted
from oracle.hub import Sent, deploy_contract, hub_contracts

CONTRACT = "OperatorKeys"


class OperatorKeyError(OracleError):
    """No key, or not a usable key, for an operator."""


@dataclass(frozen=True)
class PublishedKey:
    """An operator's key as the registry holds it."""

    operator: ChecksumAddress
    public_key: bytes  # 33-byte compressed secp256k1 point
    version: int  # 1 for the first key, +1 per change
    updated_at: int  # block timestamp of the last change


def coordinates(public_key: bytes) -> tuple[int, int]:
    """(x, y) of a compressed or uncompressed secp256k1 public key."""
    try:
        raw = PublicKey(bytes(public_key)).format(compressed=False)
    except (ValueError, TypeError) as e:
        raise OperatorKeyError(f"not a secp256k1 public key ({len(public_key)} bytes): {e}") from e
    return int.from_bytes(raw[1:33], "big"), int.from_bytes(raw[33:], "big")


def compressed(x: int, y: int) -> bytes:
    """The 33-byte compressed form of the point (x, y)."""
    return bytes([2 | (y & 1)]) + x.to_bytes(32, "big")


class OperatorKeys:
    """A deployed ``OperatorKeys`` registry on `chain`."""

    def __init__(self, chain: Chain, address: str) -> None:
        self.chain = chain
        self.address: ChecksumAddress = Web3.to_checksum_address(address)
        self.contract = chain.contract(self.address, hub_contracts()[CONTRACT])

    @classmethod
    def deploy(cls, chain: Chain, *, sender: str | None = None) -> OperatorKeys:
        """A new registry (one per chain is enough: every operator publishes in it)."""
        address, _ = deploy_contract(chain, hub_contracts()[CONTRACT], sender=sender)
        return cls(chain, address)

    def key_of(self, operator: str) -> PublishedKey:
        """The operator's published key; `OperatorKeyError` when it has none."""
        who = Web3.to_checksum_address(operator)
        try:
            x, y, version, updated = self.chain.call(self.contract.functions.keyOf(who))
        except TransactionReverted as e:
            if e.error_name == "NoKey":
                raise OperatorKeyError(
                    f"operator {who} has published no encryption key in OperatorKeys at "
                    f"{self.address}; private-input requests cannot be sealed to it"
                ) from None
            raise
        return PublishedKey(who, compressed(int(x), int(y)), int(version), int(updated))

    def publish(self, public_key: bytes, *, sender: str | None = None) -> Sent:
        """Publish `public_key` as the sender's encryption key (a revert names a bad key)."""
        x, y = coordinates(public_key)
        return Sent.of(self.chain.transact(self.contract.functions.publish(x, y), sender=sender))

    def ensure_published(self, signer: Signer) -> Sent | None:
        """Publish `signer`'s encryption key when the registry holds none or another one for
        its address (the daemon's start); None when it is already current."""
        own = signer.encryption_public_key
        try:
            if self.key_of(signer.address).public_key == own:
                return None
        except OperatorKeyError:
            pass
        return self.publish(own, sender=signer.address)


def publish_at_start(
    chain_or_w3: Chain | Web3, kind: ChainKind, address: str, signer: Signer
) -> Sent | None:
    """The daemon's start: publish `signer`'s key in the registry at `address` unless it is
    already there (a daemon handed a bare Web3 sends through a `Chain` over it)."""
    chain = (
        chain_or_w3
        if isinstance(chain_or_w3, Chain)
        else Chain(chain_or_w3, kind=kind, signer=signer)
    )
    return OperatorKeys(chain, address).ensure_published(signer)
