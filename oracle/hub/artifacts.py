"""A compiled, set-up model directory as the chain sees it: registration fields and model id.

`ModelArtifacts.load` reads ``manifest.json`` and the verification key of a model
directory (``zkoracle compile`` then ``zkoracle setup``) and refuses a directory whose keys
were made for another circuit, before anything is sent to a chain.

Model id: the hub derives the id a model is registered under from the registering
account and a 32-byte salt, ``modelId = keccak256(abi.encode(owner, salt))``
(`model_id_of`, the hub's ``modelIdOf``). Nobody but `owner` can register under that id,
so an id cannot be squatted by someone who reads the operator's files first. The salt is

* by default ``keccak256(abi.encode(manifestHash, verifyingKeyHash))`` (`default_salt`),
  where ``manifestHash`` is the sha256 of ``manifest.json`` (also stored in the
  registration) and ``verifyingKeyHash`` is keccak256 of the key's 32-byte big-endian
  words ``alpha.x, alpha.y``, then ``x.c0, x.c1, y.c0, y.c1`` of beta, gamma and delta,
  then ``x, y`` of every IC point: one owner's directory always maps to the same id, new
  keys (a new setup) to a new one;
* with a name, ``keccak256(utf8(name))`` (`named_salt`, ``--name risk-v2``), for ids
  chosen by people.

At registration the hub also records the code hash of the model's verifier
(``verifierCodeHash``, `RegisteredModel.verifier_code_hash`) and refuses, on every proof
check, a verifier whose code changed since. A consumer pins the owner, the id and that
hash (see ``contracts/examples``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_abi.abi import encode
from eth_utils.crypto import keccak

from circuits import Manifest, VerifyingKey, load_key_info, manifest_sha256
from oracle.errors import OracleError
from oracle.statement import StatementLayout

#: ``Statement.PRIVATE_INPUTS`` / ``PRIVATE_OUTPUTS``: the statement commits to that part.
PRIVATE_INPUTS = 1
PRIVATE_OUTPUTS = 2


class ArtifactError(OracleError):
    """A model directory cannot be deployed as it is (names the file and what is wrong)."""


def verifying_key_hash(vk: VerifyingKey) -> bytes:
    """keccak256 of the key's words in the order of the module docstring."""
    words: list[int] = list(vk.alpha1)
    for (x0, x1), (y0, y1) in (vk.beta2, vk.gamma2, vk.delta2):
        words += [x0, x1, y0, y1]
    for x, y in vk.ic:
        words += [x, y]
    return keccak(b"".join(w.to_bytes(32, "big") for w in words))


def named_salt(name: str) -> bytes:
    """``keccak256(utf8(name))``: the salt of a model registered under a chosen name."""
    if not name:
        raise ArtifactError("a model name must not be empty")
    return keccak(name.encode())


def model_id_of(owner: str, salt: bytes) -> bytes:
    """``keccak256(abi.encode(owner, salt))``: the id the hub gives `owner`'s model
    registered with `salt` (``ZkOracle.modelIdOf``)."""
    if len(salt) != 32:
        raise ArtifactError(f"a salt is 32 bytes, got {len(salt)}")
    return keccak(encode(["address", "bytes32"], [owner, salt]))


def _common_scale(specs: tuple[Any, ...], what: str, where: str) -> int:
    """The one scale every input (or output) shares; the hub stores a single one."""
    scales = sorted({int(s.scale) for s in specs})
    if len(scales) != 1:
        raise ArtifactError(
            f"{where}: the {what} have different scales {scales}; "
            f"the hub registers one {what[:-1]} scale per model"
        )
    if not 0 <= scales[0] <= 255:
        raise ArtifactError(f"{where}: {what[:-1]} scale {scales[0]} does not fit uint8")
    return scales[0]


@dataclass(frozen=True)
class ModelSpec:
    """``IZkOracle.ModelSpec``: what `registerModel` records about a model."""

    verifier: str
    onnx_sha256: bytes
    r1cs_sha256: bytes
    manifest_hash: bytes
    n_inputs: int
    n_outputs: int
    input_bits: int
    inputs_per_word: int
    output_bits: int
    outputs_per_word: int
    input_scale: int
    output_scale: int
    privacy: int = 0  # PRIVATE_INPUTS (1) | PRIVATE_OUTPUTS (2)
    weights_commitment: int = 0  # 0: public weights

    def as_abi(self) -> tuple[Any, ...]:
        """The struct as the ABI tuple, in declaration order."""
        return (
            self.verifier,
            self.onnx_sha256,
            self.r1cs_sha256,
            self.manifest_hash,
            self.n_inputs,
            self.n_outputs,
            self.input_bits,
            self.inputs_per_word,
            self.output_bits,
            self.outputs_per_word,
            self.input_scale,
            self.output_scale,
            self.privacy,
            self.weights_commitment,
        )


@dataclass(frozen=True)
class ModelArtifacts:
    """The manifest and verifying key of a model directory, checked against each other."""

    dir: Path
    manifest: Manifest
    manifest_hash: bytes  # sha256 of manifest.json as written
    vk: VerifyingKey
    layout: StatementLayout

    @staticmethod
    def load(model_dir: str | Path) -> ModelArtifacts:
        """Read and cross-check a directory made by ``zkoracle compile`` + ``setup``."""
        d = Path(model_dir)
        manifest = Manifest.load(d)
        key = load_key_info(d)
        if key.r1cs_sha256 != manifest.r1cs_sha256:
            raise ArtifactError(
                f"{d}: the keys were set up for r1cs {key.r1cs_sha256[:16]}..., the manifest "
                f"describes {manifest.r1cs_sha256[:16]}...: run `zkoracle setup {d}` again"
            )
        vk = key.verifying_key()
        layout = StatementLayout.of(manifest.layout)
        if vk.n_public != layout.n_public:
            raise ArtifactError(
                f"{key.verification_key}: the key has {vk.n_public} public inputs, the "
                f"manifest's statement {layout.n_public}: run `zkoracle setup {d}` again"
            )
        if max(layout.n_inputs, layout.n_outputs) > 0xFFFF:
            raise ArtifactError(f"{d}: the hub counts inputs and outputs in uint16")
        return ModelArtifacts(d, manifest, bytes.fromhex(manifest_sha256(d)), vk, layout)

    @property
    def input_scale(self) -> int:
        return _common_scale(self.manifest.inputs, "inputs", str(self.dir))

    @property
    def output_scale(self) -> int:
        return _common_scale(self.manifest.outputs, "outputs", str(self.dir))

    def default_salt(self) -> bytes:
        """The salt of the module docstring: keys and manifest of this directory."""
        data = encode(["bytes32", "bytes32"], [self.manifest_hash, verifying_key_hash(self.vk)])
        return keccak(data)

    def salt(self, name: str | None = None) -> bytes:
        """The salt to register with: `named_salt(name)`, else `default_salt`."""
        return named_salt(name) if name is not None else self.default_salt()

    def model_id(self, owner: str, name: str | None = None) -> bytes:
        """The id `owner` registers this directory under (with `name`'s salt if given)."""
        return model_id_of(owner, self.salt(name))

    def quantized_outputs(self, public: Sequence[int]) -> list[int]:
        """The outputs as `fulfill` takes them that a proof's public inputs state: the
        quantized model outputs, or [commitment] for committed outputs, or [threshold,
        result] for a claim."""
        return self.layout.chain_outputs(list(public))

    def verifier_header(self) -> dict[str, str]:
        """What the generated verifier's header records about the model."""
        m = self.manifest
        return {
            "model": m.source,
            "manifest-sha256": self.manifest_hash.hex(),
            "onnx-sha256": m.onnx_sha256,
            "r1cs-sha256": m.r1cs_sha256,
            "public-inputs": str(self.layout.n_public),
        }

    def spec(self, verifier: str) -> ModelSpec:
        """The registration of this model with the verifier deployed at `verifier`."""
        lay, m = self.layout, self.manifest
        n_out, out_per = lay.n_outputs, lay.outputs.per_word
        if lay.outputs_kind != "values":  # a commitment (1 word) or a claim (threshold, result)
            n_out, out_per = lay.output_words, 1
        privacy = (PRIVATE_INPUTS if lay.inputs_committed else 0) | (
            PRIVATE_OUTPUTS if lay.outputs_kind == "commitment" else 0
        )
        return ModelSpec(
            verifier=verifier,
            onnx_sha256=bytes.fromhex(m.onnx_sha256),
            r1cs_sha256=bytes.fromhex(m.r1cs_sha256),
            manifest_hash=self.manifest_hash,
            n_inputs=lay.n_inputs,
            n_outputs=n_out,
            input_bits=lay.inputs.bits,
            inputs_per_word=lay.inputs.per_word,
            output_bits=lay.outputs.bits,
            outputs_per_word=out_per,
            input_scale=self.input_scale,
            output_scale=self.output_scale,
            privacy=privacy,
            weights_commitment=m.weights_commitment or 0,
        )
