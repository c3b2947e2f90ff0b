"""Private-input requests: inputs sealed to the operator, a commitment on-chain.

A requester of a model compiled with ``--inputs private`` quantizes its inputs, picks a
fresh 248-bit salt, computes the input commitment (`circuits.input_commitment`: the value
the proof's statement carries) and seals the plaintext below to the operator's secp256k1
public key with ECIES (eciespy: ephemeral secp256k1 key, HKDF-SHA256, AES-256-GCM; no
cryptography of our own). ``ZkOracle.requestPrivate`` posts the commitment and the
ciphertext; the chain sees nothing else.

The sealed bytes name their recipient (`SEALED_MAGIC`, then its compressed key), so a
ciphertext for another operator key is refused with both keys named. Requesters read the
operator's key from the ``OperatorKeys`` registry (`oracle.operator_keys`).

Plaintext (UTF-8 JSON)::

    {"format": "zkoracle-private-input/1", "model_id": "0x<32 bytes>",
     "inputs": [quantized ints, the model's input order], "salt": "<decimal>"}

The operator's daemon opens the ciphertext with its key, checks the model id, the count and
range of the inputs and that they and the salt hash to the posted commitment, and only then
proves. Any failure is a `PrivateInputError` whose ``code`` and message say which check
failed; the daemon fails that one job with it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ecies
from coincurve import PrivateKey, PublicKey
from web3.logs import DISCARD

from circuits import FieldRangeError, Packing, PublicLayout, input_commitment, new_salt
from oracle.errors import OracleError
from oracle.hub import Sent

if TYPE_CHECKING:
    from oracle.hub import Hub

FORMAT = "zkoracle-private-input/1"
#: A sealed request is SEALED_MAGIC, the recipient's 33-byte compressed key, then the ECIES
#: ciphertext: an operator tells a request sealed to another key without trying it.
SEALED_MAGIC = b"zks1"
_HEADER = len(SEALED_MAGIC) + 33


class PrivateInputError(OracleError):
    """A sealed request that cannot be proved; ``code`` is the job's failure code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Opened:
    """The inputs and salt of a sealed request, checked against its commitment."""

    inputs: tuple[int, ...]
    salt: int
    commitment: int


@dataclass(frozen=True)
class PrivateRequestSent:
    """A mined ``requestPrivate``: the id, and the salt and commitment the requester keeps
    (they open the statement's input part)."""

    request_id: int
    commitment: int
    salt: int
    tx: Sent


def send_private_request(
    hub: Hub,
    model_id: bytes,
    inputs: Sequence[int],
    operator_public_key: bytes,
    *,
    bits: int,
    callback: str | None = None,
    gas_limit: int = 0,
    fee: int = 0,
    expiry: int = 0,
    sender: str | None = None,
) -> PrivateRequestSent:
    """Seal quantized `inputs` (of the model's ``input_bits`` width `bits`) with a fresh
    salt to the operator and post ``requestPrivate`` with their commitment."""
    salt = new_salt()
    commitment = input_commitment(inputs, bits, salt)
    sealed = seal(operator_public_key, model_id, inputs, salt)
    fn = hub.contract.functions.requestPrivate(
        model_id, commitment, sealed, callback or "0x" + "00" * 20, gas_limit, expiry
    )
    receipt = hub.chain.transact(fn, value=fee, sender=sender)
    event = hub.contract.events.PrivateInferenceRequested()
    (log,) = event.process_receipt(receipt, errors=DISCARD)
    return PrivateRequestSent(int(log["args"]["requestId"]), commitment, salt, Sent.of(receipt))


def public_key_of(private_key: bytes) -> bytes:
    """The 33-byte compressed secp256k1 public key requesters seal to."""
    return bytes(PrivateKey(private_key).public_key.format(compressed=True))


def seal(operator_public_key: bytes, model_id: bytes, inputs: Sequence[int], salt: int) -> bytes:
    """The ciphertext of a private request (module docstring) for the operator's key."""
    doc = {
        "format": FORMAT,
        "model_id": "0x" + model_id.hex(),
        "inputs": [int(v) for v in inputs],
        "salt": str(salt),
    }
    try:
        body = bytes(ecies.encrypt(operator_public_key, json.dumps(doc).encode()))
        recipient = bytes(PublicKey(bytes(operator_public_key)).format(compressed=True))
    except (ValueError, TypeError) as e:
        raise PrivateInputError("bad_key", f"not a secp256k1 public key: {e}") from None
    return SEALED_MAGIC + recipient + body


def recipient_of(ciphertext: bytes) -> bytes | None:
    """The compressed key a ciphertext names as its recipient (None for one without)."""
    if ciphertext.startswith(SEALED_MAGIC) and len(ciphertext) > _HEADER:
        return ciphertext[len(SEALED_MAGIC) : _HEADER]
    return None


def open_sealed(
    decrypt: Any,
    ciphertext: bytes,
    *,
    model_id: bytes,
    packing: Packing,
    n_inputs: int,
    commitment: int,
    own_key: bytes | None = None,
) -> Opened:
    """Decrypt with `decrypt` (the operator's ``Signer.decrypt``) and check everything.
    With `own_key` (the operator's compressed key), a ciphertext that names another
    recipient is refused before any decryption, naming both keys."""
    recipient = recipient_of(ciphertext)
    if recipient is not None and own_key is not None and recipient != own_key:
        raise PrivateInputError(
            "undecryptable",
            f"the ciphertext is sealed to operator key 0x{recipient.hex()}, this operator's "
            f"key is 0x{own_key.hex()}: the requester used another (or an outdated) key; "
            "read the current one from OperatorKeys",
        )
    body = ciphertext[_HEADER:] if recipient is not None else ciphertext
    try:
        plain = decrypt(body)
    except Exception:
        named = f" (sealed to 0x{recipient.hex()})" if recipient is not None else ""
        raise PrivateInputError(
            "undecryptable",
            f"the ciphertext ({len(ciphertext)} bytes){named} does not decrypt with this "
            "operator's key: sealed for another key, or corrupted",
        ) from None
    doc = _document(plain)
    if doc.get("model_id") != "0x" + model_id.hex():
        raise PrivateInputError(
            "wrong_model", f"sealed for model {doc.get('model_id')}, requested 0x{model_id.hex()}"
        )
    inputs, salt = _values(doc, n_inputs, packing)
    try:
        opened = input_commitment(inputs, packing.bits, salt)
    except FieldRangeError as e:
        raise PrivateInputError("bad_plaintext", f"the sealed salt: {e}") from None
    if opened != commitment:
        raise PrivateInputError(
            "commitment_mismatch",
            "the sealed inputs and salt do not hash to the request's input commitment",
        )
    return Opened(tuple(inputs), salt, commitment)


def _document(plain: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(plain.decode())
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise PrivateInputError("bad_plaintext", "the decrypted request is not JSON") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise PrivateInputError("bad_plaintext", f"the decrypted request is not {FORMAT}")
    return doc


def _values(doc: dict[str, Any], n_inputs: int, packing: Packing) -> tuple[list[int], int]:
    inputs = doc.get("inputs")
    if not isinstance(inputs, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in inputs
    ):
        raise PrivateInputError("bad_plaintext", "the sealed inputs are not a list of integers")
    if len(inputs) != n_inputs:
        raise PrivateInputError(
            "bad_inputs", f"the model takes {n_inputs} input values, {len(inputs)} were sealed"
        )
    half = 1 << (packing.bits - 1)
    bad = next((i for i, v in enumerate(inputs) if not -half <= v < half), None)
    if bad is not None:
        raise PrivateInputError(
            "bad_inputs", f"sealed input #{bad} = {inputs[bad]} does not fit {packing.bits} bits"
        )
    try:
        salt = int(doc.get("salt", ""))
    except ValueError:
        raise PrivateInputError("bad_plaintext", "the sealed salt is not an integer") from None
    return inputs, salt


def open_request(
    decrypt: Any,
    payload: Mapping[str, Any],
    model_id: bytes,
    layout: PublicLayout,
    own_key: bytes | None = None,
) -> Opened:
    """`open_sealed` for a daemon job's payload (a ``PrivateInferenceRequested`` log):
    also refuses a sealed request for a public-input model and the reverse."""
    if "ciphertext" not in payload or not layout.inputs_committed:
        kind = "private" if layout.inputs_committed else "public"
        raise PrivateInputError("wrong_privacy", f"the model takes {kind} inputs")
    return open_sealed(
        decrypt,
        bytes.fromhex(str(payload["ciphertext"])),
        model_id=model_id,
        packing=layout.inputs,
        n_inputs=layout.n_inputs,
        commitment=int(payload["input_commitment"]),
        own_key=own_key,
    )
