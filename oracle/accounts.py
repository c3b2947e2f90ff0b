"""The account that signs transactions, loaded from the environment or a keystore file.

Sources, in this order:

1. ``ZKORACLE_PRIVATE_KEY``: a 32-byte hex private key;
2. an eth-account keystore file (``ZKORACLE_KEYSTORE`` or an explicit path), decrypted with
   ``ZKORACLE_KEYSTORE_PASSWORD`` or, on a terminal, a getpass prompt.

The key stays inside `Signer`: its repr and every error message name the address only, and
errors from the key parsers are neither chained nor kept as context (their text could
quote the input).
"""

from __future__ import annotations

import getpass
import json
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.datastructures import SignedTransaction
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress

from oracle.errors import AccountError

ENV_PRIVATE_KEY = "ZKORACLE_PRIVATE_KEY"
ENV_KEYSTORE = "ZKORACLE_KEYSTORE"
ENV_KEYSTORE_PASSWORD = "ZKORACLE_KEYSTORE_PASSWORD"


class Signer:
    """Signs transactions for one address; never reveals its key in repr or str."""

    __slots__ = ("_account", "address")

    def __init__(self, account: LocalAccount) -> None:
        self._account = account
        self.address: ChecksumAddress = account.address

    def __repr__(self) -> str:
        return f"Signer(address={self.address})"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("a Signer holds a private key and cannot be pickled")

    def sign_transaction(self, tx: Mapping[str, Any]) -> SignedTransaction:
        return self._account.sign_transaction(dict(tx))

    @property
    def encryption_public_key(self) -> bytes:
        """The compressed secp256k1 public key private-input requests are sealed to."""
        from oracle.private_inputs import public_key_of

        return public_key_of(bytes(self._account.key))

    def decrypt(self, ciphertext: bytes) -> bytes:
        """Open an ECIES ciphertext sealed to this account's key (raises if it does not
        decrypt); the key never leaves this object."""
        import ecies

        return bytes(ecies.decrypt(bytes(self._account.key), ciphertext))

    @classmethod
    def from_key(cls, key: str | bytes, *, source: str = "the private key") -> Signer:
        """A signer for a 32-byte key given as bytes or hex; `source` names it in errors."""
        account: LocalAccount | None
        try:
            account = Account.from_key(key)
        except Exception:
            account = None
        if account is None:
            # Raised outside the handler so that no context holds the parser's message,
            # which may quote the key.
            raise AccountError(
                f"{source} is not a valid secp256k1 private key (expected 32 bytes as hex)"
            )
        return cls(account)


def _keystore_password(path: Path, prompt: Callable[[str], str] | None) -> str:
    password = os.environ.get(ENV_KEYSTORE_PASSWORD)
    if password is not None:
        return password
    if prompt is None:
        if not sys.stdin.isatty():
            raise AccountError(
                f"keystore {path} needs a password: set {ENV_KEYSTORE_PASSWORD} "
                "(no terminal to prompt on)"
            )
        prompt = getpass.getpass
    return prompt(f"Password for keystore {path}: ")


def load_keystore(path: Path, *, prompt: Callable[[str], str] | None = None) -> Signer:
    """Decrypt an eth-account (Web3 Secret Storage) keystore file."""
    try:
        keyfile = json.loads(path.read_text())
    except OSError as exc:
        raise AccountError(f"cannot read keystore {path}: {exc.strerror}") from None
    except ValueError:
        raise AccountError(f"keystore {path} is not JSON") from None
    if not isinstance(keyfile, dict) or "crypto" not in {k.lower() for k in keyfile}:
        raise AccountError(f"keystore {path} is not an eth-account keystore (no 'crypto')")
    password = _keystore_password(path, prompt)
    key: bytes | None = None
    failure = "wrong password"
    try:
        key = bytes(Account.decrypt(keyfile, password))
    except ValueError:
        pass
    except Exception as exc:
        failure = f"malformed keystore ({type(exc).__name__})"
    if key is None:  # raised outside the handler: no context refers to the password
        raise AccountError(f"cannot decrypt keystore {path}: {failure}")
    return Signer.from_key(key, source=f"keystore {path}")


def signer_from_env(
    *, keystore: Path | None = None, prompt: Callable[[str], str] | None = None
) -> Signer | None:
    """The configured signer, or None when neither a key nor a keystore is configured."""
    key = os.environ.get(ENV_PRIVATE_KEY)
    if key:
        return Signer.from_key(key.strip(), source=ENV_PRIVATE_KEY)
    path = keystore or (Path(os.environ[ENV_KEYSTORE]) if os.environ.get(ENV_KEYSTORE) else None)
    if path is not None:
        return load_keystore(path, prompt=prompt)
    return None
