"""The Solidity the hub side deploys: ``contracts/`` compiled, and a model's verifier.

* `hub_contracts` compiles ``contracts/`` (hub, interfaces, example consumers) once per
  process; `oracle.solc` also caches the output on disk, so it is compiled once per change.
* `compile_model_verifier` renders the Groth16 verifier of a model directory's
  verification key, with the manifest hashes in its header, and compiles it.
* `deploy_contract` deploys any of them through a `Chain`.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from eth_typing import ChecksumAddress

from circuits import render_verifier
from oracle.chain import Chain
from oracle.errors import OracleError
from oracle.hub.artifacts import ModelArtifacts
from oracle.hub.records import Sent
from oracle.solc import CompiledContract, compile_sources

#: The hand-written Solidity sources, next to the packages in the repository.
CONTRACTS_DIR = Path(__file__).resolve().parents[2] / "contracts"
#: Contract name of a rendered model verifier.
VERIFIER_NAME = "Groth16Verifier"
#: Contract name of the hub.
HUB_NAME = "ZkOracle"
ZERO_ADDRESS = "0x" + "00" * 20


@functools.cache
def _compile_dir(contracts_dir: Path) -> dict[str, CompiledContract]:
    files = sorted(contracts_dir.rglob("*.sol"))
    if not files:
        raise OracleError(f"{contracts_dir} holds no Solidity sources (contracts/*.sol)")
    sources = {f"contracts/{p.relative_to(contracts_dir).as_posix()}": p.read_text() for p in files}
    return compile_sources(sources)


def hub_contracts(contracts_dir: Path = CONTRACTS_DIR) -> dict[str, CompiledContract]:
    """Every contract of ``contracts/`` by name (``ZkOracle``, ``RiskGatedLendingPool``...)."""
    return dict(_compile_dir(contracts_dir.resolve()))


def load_hub_abi(contracts_dir: Path = CONTRACTS_DIR) -> list[dict[str, Any]]:
    """The ABI of ``ZkOracle``, from the same (cached) compilation as `hub_contracts`."""
    compiled = hub_contracts(contracts_dir)
    if HUB_NAME not in compiled:
        raise OracleError(f"{contracts_dir} has no {HUB_NAME} contract: cannot get the hub's ABI")
    return [dict(entry) for entry in compiled[HUB_NAME].abi]


def render_model_verifier(art: ModelArtifacts, contract_name: str = VERIFIER_NAME) -> str:
    """Solidity source of the verifier for the model's key, its hashes in the header."""
    return render_verifier(art.vk, contract_name=contract_name, header=art.verifier_header())


def compile_model_verifier(
    art: ModelArtifacts, contract_name: str = VERIFIER_NAME
) -> tuple[str, CompiledContract]:
    """(source, compiled contract) of the model's verifier."""
    source = render_model_verifier(art, contract_name)
    return source, compile_sources({f"{contract_name}.sol": source})[contract_name]


def deploy_contract(
    chain: Chain,
    compiled: CompiledContract,
    *args: Any,
    gas: int | None = None,
    value: int = 0,
    sender: str | None = None,
) -> tuple[ChecksumAddress, Sent]:
    """Deploy `compiled` with constructor `args`: its address and the transaction."""
    address, receipt = chain.deploy_receipt(compiled, *args, gas=gas, value=value, sender=sender)
    return address, Sent.of(receipt)
