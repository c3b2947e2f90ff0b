"""What a model card checks against a chain: the verifier's gas, and the hub's registration.

Gas is either measured (the model's verifier deployed on a fresh embedded chain and called
with a real proof) or estimated from the precompile prices of EIP-1108 plus the calldata
of EIP-2028 and the 21,000 of a transaction: the floor that no Groth16 verifier can go
under; the generated one costs about 1 % more (see the README's gas table).

The registration check reads ``getModel(id)`` from a hub over RPC, compares every field
with what the local artifacts would register, and asks the registered verifier, with
``eth_call``, to verify a proof made now with the local proving key (it must accept) and
the same proof with one output changed (it must refuse): a verifier of other keys cannot
pass both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from web3 import Web3
from web3.exceptions import ContractLogicError

from circuits import Proof, R, verifier_calldata
from oracle import chain as chains
from oracle.errors import OracleError
from oracle.hub import Hub, ModelArtifacts, compile_model_verifier, deploy_contract

TX_BASE = 21_000
PAIRING_BASE, PAIRING_PER_PAIR, GROTH16_PAIRS = 45_000, 34_000, 4
ECMUL, ECADD = 6_000, 150


def calldata_gas(data: bytes) -> int:
    """EIP-2028: 16 gas per non-zero byte, 4 per zero byte."""
    zeros = data.count(0)
    return 4 * zeros + 16 * (len(data) - zeros)


def verify_calldata(proof: Proof, public: Sequence[int]) -> bytes:
    """The transaction data of ``verifyProof(uint256[8], uint256[k])``."""
    words, inputs = verifier_calldata(proof, public)
    selector = Web3.keccak(text=f"verifyProof(uint256[8],uint256[{len(inputs)}])")[:4]
    return bytes(selector) + b"".join(int(w).to_bytes(32, "big") for w in [*words, *inputs])


@dataclass(frozen=True)
class GasFigure:
    gas: int
    method: str  # "measured" or "estimated"
    how: str  # one sentence a reader can check


def estimate_gas(proof: Proof, public: Sequence[int]) -> GasFigure:
    k = len(public)
    data = verify_calldata(proof, public)
    pairing = PAIRING_BASE + PAIRING_PER_PAIR * GROTH16_PAIRS
    gas = TX_BASE + pairing + (ECMUL + ECADD) * k + calldata_gas(data)
    how = (
        f"EIP-1108 floor: 21,000 (transaction) + {pairing:,} (pairing, 4 pairs) + "
        f"{ECMUL + ECADD:,} × {k} public inputs + {calldata_gas(data):,} (calldata, EIP-2028); "
        "the generated verifier measures about 1 % above this floor"
    )
    return GasFigure(gas, "estimated", how)


def measure_gas(art: ModelArtifacts, proof: Proof, public: Sequence[int]) -> GasFigure:
    """Deploy the model's verifier on a fresh embedded chain and send one verification."""
    _, compiled = compile_model_verifier(art)
    with chains.embedded(signer=None) as chain:
        address, _ = deploy_contract(chain, compiled)
        words, inputs = verifier_calldata(proof, public)
        fn = chain.contract(address, compiled).functions.verifyProof(words, inputs)
        receipt = chain.transact(fn)
    how = (
        f"measured: verifyProof of a real proof in a transaction on the embedded chain "
        f"(py-evm), {compiled.deployed_size:,} bytes of verifier code"
    )
    return GasFigure(int(receipt["gasUsed"]), "measured", how)


@dataclass(frozen=True)
class FieldCheck:
    name: str
    registered: str
    local: str

    @property
    def matches(self) -> bool:
        return self.registered == self.local


@dataclass(frozen=True)
class RegistryCheck:
    """The hub's registration of a model id next to the local artifacts."""

    rpc_host: str  # scheme and host only: a URL's path and query may hold an API key
    chain_id: int
    hub: str
    model_id: str
    found: bool
    fields: list[FieldCheck] = field(default_factory=list)
    verifier: str = ""
    owner: str = ""
    retired: bool = False
    accepts_proof: bool | None = None  # the registered verifier verifies a fresh proof
    rejects_tampered: bool | None = None  # and refuses it with one output changed

    @property
    def matches(self) -> bool:
        return (
            self.found
            and not self.retired
            and all(f.matches for f in self.fields)
            and bool(self.accepts_proof)
            and bool(self.rejects_tampered)
        )


def _hex(value: Any) -> str:
    return "0x" + bytes(value).hex() if isinstance(value, bytes | bytearray) else str(value)


def _compare(registered: dict[str, Any], art: ModelArtifacts) -> list[FieldCheck]:
    spec = art.spec(str(registered["verifier"]))
    local: dict[str, Any] = {
        "onnx_sha256": spec.onnx_sha256,
        "r1cs_sha256": spec.r1cs_sha256,
        "manifest_hash": spec.manifest_hash,
        "n_inputs": spec.n_inputs,
        "n_outputs": spec.n_outputs,
        "input_bits": spec.input_bits,
        "inputs_per_word": spec.inputs_per_word,
        "output_bits": spec.output_bits,
        "outputs_per_word": spec.outputs_per_word,
        "input_scale": spec.input_scale,
        "output_scale": spec.output_scale,
        "n_public": art.vk.n_public,
    }
    return [
        FieldCheck(name, _hex(registered[name]), _hex(value))
        for name, value in local.items()
        if name in registered  # a hub of another version may not record every field
    ]


def _verifies(w3: Web3, verifier: str, proof: Proof, public: Sequence[int]) -> bool:
    """The verifier returns for a valid proof and reverts for any other."""
    data = verify_calldata(proof, public)
    try:
        w3.eth.call({"to": Web3.to_checksum_address(verifier), "data": data})
    except ContractLogicError:
        return False
    return True


def check_registry(
    url: str, hub_address: str, model_id: bytes, art: ModelArtifacts, proof: Proof,
    public: Sequence[int],
) -> RegistryCheck:  # fmt: skip
    """Compare the hub's registration of `model_id` with `art` (see the module docstring);
    `proof` and `public` are a fresh proof of the local keys and its public inputs."""
    from oracle.pages.status import scrub

    with chains.rpc(url, signer=None) as chain:
        hub = Hub(chain, hub_address)
        registered = hub.model(model_id)
        base = RegistryCheck(
            rpc_host=scrub(url),
            chain_id=chain.chain_id,
            hub=hub.address,
            model_id="0x" + model_id.hex(),
            found=False,
        )
        if registered is None:
            return base
        reg = dict(registered)
        verifier = str(reg["verifier"])
        tampered = [*public[:-1], (public[-1] + 1) % R]
        try:
            accepts = _verifies(chain.w3, verifier, proof, public)
            rejects = not _verifies(chain.w3, verifier, proof, tampered)
        except (ValueError, OracleError):
            accepts = rejects = False
        return replace(
            base,
            found=True,
            fields=_compare(reg, art),
            verifier=verifier,
            owner=str(reg.get("owner", "")),
            retired=bool(reg.get("retired", False)),
            accepts_proof=accepts,
            rejects_tampered=rejects,
        )
