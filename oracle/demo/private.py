"""The demo's private credit-score flow: the borrower's features stay off-chain, the
model's weights stay private, the lending pool gets a verified score.

The risk-score model is compiled a second time with ``--weights private --inputs private``
and registered with its weights commitment; a second lending pool uses it. A borrower
quantizes their features, commits to them with a fresh salt, seals features and salt to
the operator's public key, read from the OperatorKeys registry, and calls
``requestScorePrivate``; the chain sees the commitment
and the ciphertext only. The daemon opens the ciphertext, checks the commitment, proves
with the private weights and fulfills; the hub checks the proof against the posted input
commitment and the registered weights commitment before the pool sets the credit limit.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from web3.logs import DISCARD

from circuits import Visibility, compile_model, input_commitment, new_salt, setup
from oracle.accounts import Signer
from oracle.chain import Chain
from oracle.hub import Deployment, Hub, deploy_contract, deploy_model, hub_contracts
from oracle.operator_keys import OperatorKeys, publish_at_start
from oracle.private_inputs import seal

NAME = "private-score"
Say = Callable[[str], None]


def prepare(work: Path, onnx_path: Path, say: Say) -> Path:
    """Compile the risk model with private weights and inputs, and set it up."""
    model_dir = work / NAME
    shutil.copyfile(onnx_path, work / f"{NAME}.onnx")  # the float reference of the report
    t0 = time.perf_counter()
    manifest = compile_model(
        onnx_path, model_dir, visibility=Visibility("private", "private", "public")
    )
    setup(model_dir)
    count = manifest.commitments["weights"]["count"]
    say(
        f"  {NAME}: the risk model with {count} private weights and private inputs, "
        f"{manifest.n_constraints} constraints, ready in {time.perf_counter() - t0:.2f} s"
    )
    return model_dir


def deploy(chain: Chain, hub: Hub, model_dir: Path, callback_gas: int) -> tuple[Deployment, str]:
    """Register the private model on `hub` and deploy a lending pool that uses it."""
    dep = deploy_model(chain, model_dir, hub.address)
    hub.attach(dep.model_id, dep.model_dir)
    refuse_at = 1 << 15
    model = hub.model(dep.model_id)
    assert model is not None
    # The pool pins the model it trusts: its owner, its id and its verifier's code.
    pool, _ = deploy_contract(
        chain, hub_contracts()["RiskGatedLendingPool"], hub.address, model["owner"],
        dep.model_id, model["verifier_code_hash"], 3600, refuse_at, 5 * 10**18, callback_gas,
        value=20 * 10**18,
    )  # fmt: skip
    return dep, pool


def published_key(chain: Chain, operator: Signer, say: Say) -> bytes:
    """Deploy the OperatorKeys registry, publish the operator's encryption key in it from
    the operator's account (what its daemon does at start when configured with the
    registry), and read it back as a borrower would."""
    keys = OperatorKeys.deploy(chain)
    publish_at_start(chain.w3, chain.kind, keys.address, operator)
    key = keys.key_of(operator.address)
    say(f"  operator key published in OperatorKeys at {keys.address} (version {key.version})")
    return key.public_key


def request(
    chain: Chain,
    hub: Hub,
    dep: Deployment,
    pool: str,
    features: np.ndarray,
    operator_key: bytes,
    borrower: str,
) -> int:
    """The borrower's sealed score request through the pool; its request id."""
    model = hub.model(dep.model_id)
    assert model is not None
    values = hub.quantize_inputs(dep.model_id, features.tolist())
    salt = new_salt()
    commitment = input_commitment(values, model["input_bits"], salt)
    sealed = seal(operator_key, dep.model_id, values, salt)
    pool_c = chain.contract(pool, hub_contracts()["RiskGatedLendingPool"])
    fn = pool_c.functions.requestScorePrivate(commitment, sealed)
    receipt = chain.transact(fn, sender=borrower)
    event = hub.contract.events.PrivateInferenceRequested()
    logs = event.process_receipt(receipt, errors=DISCARD)
    return int(logs[0]["args"]["requestId"])
